"""Scopes known before sending: the ones registries announce in their challenges."""

from __future__ import annotations

import pytest

from azurecr._scopes import normalize_scope, scope_for_request

R = "https://r.azurecr.io"


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        # As announced in the recorded ACR challenges.
        (
            "GET",
            "/acr/v1/library%2Fhello-world/_tags/latest",
            "repository:library/hello-world:metadata_read",
        ),
        (
            "GET",
            "/acr/v1/library%2Fhello-world/_manifests/sha256:ab",
            "repository:library/hello-world:metadata_read",
        ),
        ("PATCH", "/acr/v1/library%2Fhello-world", "repository:library/hello-world:metadata_write"),
        ("DELETE", "/acr/v1/library%2Fbusybox", "repository:library/busybox:delete"),
        ("GET", "/acr/v1/_catalog", "registry:catalog:*"),
        ("POST", "/v2/repo5b2f373f/blobs/uploads/", "repository:repo5b2f373f:pull,push"),
        ("PATCH", "/v2/repo/blobs/uploads/41c7?_state=x", "repository:repo:pull,push"),
        ("GET", "/v2/repo5b2f373f/blobs/sha256:ab", "repository:repo5b2f373f:pull"),
        ("DELETE", "/v2/oci-artifact/blobs/sha256%3Ab7", "repository:oci-artifact:delete"),
        ("HEAD", "/v2/a/b/c/manifests/latest", "repository:a/b/c:pull"),
        ("GET", "/v2/a/tags/list", "repository:a:pull"),
        ("GET", "/v2/", ""),
        # a mount reads the source too (distribution announces both scopes)
        (
            "POST",
            "/v2/dst/blobs/uploads/?mount=sha256%3Aab&from=team%2Fsrc",
            "repository:dst:pull,push repository:team/src:pull",
        ),
        ("POST", "/v2/dst/blobs/uploads/?mount=sha256%3Aab&from=dst", "repository:dst:pull,push"),
        ("POST", "/v2/dst/blobs/uploads/?from=src", "repository:dst:pull,push"),
        ("GET", "/v2/a/referrers/sha256:ab", "repository:a:pull"),
    ],
)
def test_scope_matches_what_the_registry_announces(method: str, path: str, scope: str) -> None:
    assert scope_for_request(method, R + path) == scope


def test_unknown_requests_wait_for_the_challenge() -> None:
    assert scope_for_request("GET", R + "/oauth2/token") is None
    assert scope_for_request("PUT", R + "/acr/v1/repo") is None


def test_normalized_scopes_share_a_cache_key() -> None:
    assert normalize_scope("repository:a:push,pull") == normalize_scope("repository:a:pull,push")
    assert normalize_scope("repository:b:pull repository:a:pull") == (
        "repository:a:pull repository:b:pull"
    )


def test_scope_covers_subsets_of_actions_per_resource() -> None:
    from azurecr._scopes import scope_covers

    assert scope_covers("repository:a:pull,push", "repository:a:pull")
    assert scope_covers("repository:a:pull repository:b:pull", "repository:b:pull")
    assert not scope_covers("repository:a:pull", "repository:a:pull,push")
    assert not scope_covers("repository:a:pull,push", "repository:b:pull")
    assert not scope_covers("repository:a:pull", "registry:catalog:*")
    assert scope_covers("registry:catalog:*", "registry:catalog:*")


def test_cache_serves_a_pull_from_a_pull_push_token() -> None:
    from azurecr._auth_flow import TokenCache

    cache = TokenCache()
    cache.put_access_token("svc", "repository:a:push,pull", "T", now=0)
    assert cache.get_access_token("svc", "repository:a:pull", now=1) == "T"
    assert cache.get_access_token("svc", "repository:a:delete", now=1) is None
    assert cache.get_access_token("svc", "repository:b:pull", now=1) is None
    assert cache.get_access_token("other", "repository:a:pull", now=1) is None
    assert cache.get_access_token("svc", "", now=1) is None
