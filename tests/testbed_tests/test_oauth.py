"""/oauth2/exchange and /oauth2/token decisions."""

from __future__ import annotations

import pytest

from tests.testbed import TestBed
from tests.testbed.pki import jwt_claims_unverified

from ._helpers import acr, admin_token, form_post, parse_challenge, push_image, request


@pytest.mark.parametrize(
    "audience",
    [
        "https://containerregistry.azure.net",
        "https://management.azure.com",
        "https://management.chinacloudapi.cn",
        "https://management.usgovcloudapi.net",
    ],
)
def test_exchange_accepts_known_audiences(testbed: TestBed, audience: str) -> None:
    r = form_post(
        testbed,
        "/oauth2/exchange",
        [
            ("grant_type", "access_token"),
            ("service", testbed.service),
            ("access_token", testbed.mint_aad_token(audience=audience)),
        ],
    )
    assert r.status == 200, r.body
    claims = jwt_claims_unverified(r.json()["refresh_token"])
    assert claims["exp"] > claims["iat"]
    assert claims["aud"] == testbed.service


@pytest.mark.parametrize("audience", ["https://vault.azure.net", "https://example.com"])
def test_exchange_rejects_wrong_audience(testbed: TestBed, audience: str) -> None:
    r = form_post(
        testbed,
        "/oauth2/exchange",
        [
            ("grant_type", "access_token"),
            ("service", testbed.service),
            ("access_token", testbed.mint_aad_token(audience=audience)),
        ],
    )
    assert r.status == 401
    assert r.json()["errors"][0]["code"] == "UNAUTHORIZED"


def test_exchange_rejects_expired_and_forged(testbed: TestBed) -> None:
    for token in (
        testbed.mint_aad_token(expires_in=-120),
        testbed.mint_access_token(["registry:catalog:*"]),
    ):
        r = form_post(
            testbed,
            "/oauth2/exchange",
            [("grant_type", "access_token"), ("service", testbed.service), ("access_token", token)],
        )
        assert r.status == 401


def test_token_grants_exactly_requested_scopes(testbed: TestBed) -> None:
    rt = testbed.mint_refresh_token()
    r = form_post(
        testbed,
        "/oauth2/token",
        [
            ("grant_type", "refresh_token"),
            ("service", testbed.service),
            ("refresh_token", rt),
            ("scope", "repository:x/y:pull,push"),
            ("scope", "registry:catalog:*"),
        ],
    )
    assert r.status == 200, r.body
    claims = jwt_claims_unverified(r.json()["access_token"])
    assert claims["aud"] == testbed.service and claims["iss"] == testbed.issuer
    assert {"exp", "nbf", "iat", "jti", "sub"} <= set(claims)
    assert sorted(claims["access"], key=lambda a: a["type"]) == [
        {"type": "registry", "name": "catalog", "actions": ["*"]},
        {"type": "repository", "name": "x/y", "actions": ["pull", "push"]},
    ]


def test_bad_refresh_token_and_bad_password(testbed: TestBed) -> None:
    r = form_post(
        testbed,
        "/oauth2/token",
        [
            ("grant_type", "refresh_token"),
            ("service", testbed.service),
            ("refresh_token", "nope"),
            ("scope", "registry:catalog:*"),
        ],
    )
    assert r.status == 401
    r = form_post(
        testbed,
        "/oauth2/token",
        [
            ("grant_type", "password"),
            ("service", testbed.service),
            ("scope", "registry:catalog:*"),
            ("username", testbed.admin_username),
            ("password", "wrong"),
        ],
    )
    assert r.status == 401


def test_get_token_with_basic_admin(testbed: TestBed) -> None:
    r = request(
        f"{testbed.endpoint}/oauth2/token?service={testbed.service}&scope=repository:a:pull,push,delete",
        ctx=testbed.ssl_context(),
        basic=(testbed.admin_username, testbed.admin_password),
    )
    assert r.status == 200, r.body
    access = jwt_claims_unverified(r.json()["access_token"])["access"]
    assert access == [{"type": "repository", "name": "a", "actions": ["pull", "push", "delete"]}]


def test_anonymous_refused_when_disabled(testbed: TestBed) -> None:
    assert not testbed.anonymous_pull
    r = form_post(
        testbed,
        "/oauth2/token",
        [
            ("grant_type", "password"),
            ("service", testbed.service),
            ("scope", "repository:anon:pull"),
        ],
    )
    assert r.status == 401
    r = request(
        f"{testbed.endpoint}/oauth2/token?service={testbed.service}&scope=repository:anon:pull",
        ctx=testbed.ssl_context(),
    )
    assert r.status == 401


def test_anonymous_pull_only_when_enabled(anonymous_pull: TestBed) -> None:
    bed = anonymous_pull
    dg = push_image(
        bed, "anon/repo", "latest", token=admin_token(bed, "repository:anon/repo:pull,push")
    )
    r = form_post(
        bed,
        "/oauth2/token",
        [
            ("grant_type", "password"),
            ("service", bed.service),
            ("scope", "repository:anon/repo:pull,push,delete,metadata_read,metadata_write"),
            ("scope", "registry:catalog:*"),
        ],
    )
    assert r.status == 200, r.body
    token = r.json()["access_token"]
    access = {a["type"]: a for a in jwt_claims_unverified(token)["access"]}
    assert access["repository"]["actions"] == ["pull", "metadata_read"]
    # pull works through the service (the registry verifies the token)
    r = request(
        f"{bed.endpoint}/v2/anon/repo/manifests/latest",
        ctx=bed.ssl_context(),
        token=token,
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
    )
    assert r.status == 200 and r.header("Docker-Content-Digest") == dg
    # push is refused by the registry
    r = request(
        f"{bed.endpoint}/v2/anon/repo/blobs/uploads/",
        "POST",
        ctx=bed.ssl_context(),
        token=token,
        body=b"",
    )
    assert r.status == 401
    assert parse_challenge(r.header("WWW-Authenticate") or "")["error"] == "insufficient_scope"
    # metadata_read ok, metadata_write refused (like the recorded anonymous PATCH)
    assert acr(bed, "/acr/v1/anon%2Frepo/_tags/latest", token=token).status == 200
    r = acr(bed, "/acr/v1/anon%2Frepo", "PATCH", token=token, body={"deleteEnabled": False})
    assert r.status == 401
    ch = parse_challenge(r.header("WWW-Authenticate") or "")
    assert (
        ch["scope"] == "repository:anon/repo:metadata_write" and ch["error"] == "insufficient_scope"
    )
