"""changeableAttributes are enforced on /acr/v1 and on the /v2 proxy."""

from __future__ import annotations

from tests.testbed import TestBed

from ._helpers import DOCKER_MANIFEST, acr, enc, image_manifest, push_image, put_manifest, request


def test_tag_delete_and_write_disabled(testbed: TestBed) -> None:
    repo = "attr/tag"
    token = testbed.mint_access_token(
        [f"repository:{repo}:pull,push,delete,metadata_read,metadata_write"]
    )
    dg = push_image(testbed, repo, "locked", token=token)

    r = acr(
        testbed,
        f"/acr/v1/{enc(repo)}/_tags/locked",
        "PATCH",
        token=token,
        body={"deleteEnabled": False, "writeEnabled": False},
    )
    assert r.status == 200, r.body
    assert r.json()["tag"]["changeableAttributes"] == {
        "deleteEnabled": False,
        "writeEnabled": False,
        "readEnabled": True,
        "listEnabled": True,
    }
    assert (
        acr(testbed, f"/acr/v1/{enc(repo)}/_tags/locked", token=token).json()["tag"][
            "changeableAttributes"
        ]["deleteEnabled"]
        is False
    )

    r = acr(testbed, f"/acr/v1/{enc(repo)}/_tags/locked", "DELETE", token=token)
    assert r.status == 405 and r.json()["errors"][0]["code"] == "DENIED"
    r = acr(testbed, f"/acr/v1/{enc(repo)}/_manifests/{dg}", "DELETE", token=token)
    assert r.status == 405
    r = acr(testbed, f"/acr/v1/{enc(repo)}", "DELETE", token=token)
    assert r.status == 405
    r = request(
        f"{testbed.endpoint}/v2/{repo}/manifests/{dg}",
        "DELETE",
        ctx=testbed.ssl_context(),
        token=token,
    )
    assert r.status == 405

    # overwrite the locked tag with another manifest: refused, tag unchanged
    manifest, mt = image_manifest(
        testbed.endpoint, repo, ctx=testbed.ssl_context(), token=token, layer=b"other"
    )
    r = put_manifest(
        testbed.endpoint, repo, "locked", manifest, mt, ctx=testbed.ssl_context(), token=token
    )
    assert r.status == 405 and r.json()["errors"][0]["code"] == "DENIED"
    r = request(
        f"{testbed.registry_url}/v2/{repo}/manifests/locked",
        "HEAD",
        ctx=testbed.ssl_context(),
        token=token,
        headers={"Accept": DOCKER_MANIFEST},
    )
    assert r.header("Docker-Content-Digest") == dg
    # a new tag is fine
    r = put_manifest(
        testbed.endpoint, repo, "other", manifest, mt, ctx=testbed.ssl_context(), token=token
    )
    assert r.status == 201

    # unlock: now it works
    acr(
        testbed,
        f"/acr/v1/{enc(repo)}/_tags/locked",
        "PATCH",
        token=token,
        body={"deleteEnabled": True, "writeEnabled": True},
    )
    r = put_manifest(
        testbed.endpoint, repo, "locked", manifest, mt, ctx=testbed.ssl_context(), token=token
    )
    assert r.status == 201
    assert acr(testbed, f"/acr/v1/{enc(repo)}/_tags/locked", "DELETE", token=token).status == 202


def test_manifest_and_repository_locks(testbed: TestBed) -> None:
    repo = "attr/manifest"
    token = testbed.mint_access_token(
        [f"repository:{repo}:pull,push,delete,metadata_read,metadata_write"]
    )
    dg = push_image(testbed, repo, "v1", token=token)
    r = acr(
        testbed,
        f"/acr/v1/{enc(repo)}/_manifests/{dg}",
        "PATCH",
        token=token,
        body={"writeEnabled": False},
    )
    assert r.status == 200 and r.json()["manifest"]["changeableAttributes"]["writeEnabled"] is False
    manifest, mt = image_manifest(
        testbed.endpoint, repo, ctx=testbed.ssl_context(), token=token, layer=b"x"
    )
    r = put_manifest(
        testbed.endpoint, repo, "v1", manifest, mt, ctx=testbed.ssl_context(), token=token
    )
    assert r.status == 405
    acr(
        testbed,
        f"/acr/v1/{enc(repo)}/_manifests/{dg}",
        "PATCH",
        token=token,
        body={"writeEnabled": True},
    )

    r = acr(
        testbed,
        f"/acr/v1/{enc(repo)}",
        "PATCH",
        token=token,
        body={"writeEnabled": False, "listEnabled": False},
    )
    assert r.status == 200
    attrs = r.json()["changeableAttributes"]
    assert attrs["writeEnabled"] is False and attrs["listEnabled"] is False
    r = put_manifest(
        testbed.endpoint, repo, "v2", manifest, mt, ctx=testbed.ssl_context(), token=token
    )
    assert r.status == 405
    cat = testbed.mint_access_token(["registry:catalog:*"])
    assert repo not in acr(testbed, "/acr/v1/_catalog?n=1000", token=cat).json()["repositories"]
    acr(
        testbed,
        f"/acr/v1/{enc(repo)}",
        "PATCH",
        token=token,
        body={"writeEnabled": True, "listEnabled": True},
    )
    assert repo in acr(testbed, "/acr/v1/_catalog?n=1000", token=cat).json()["repositories"]
    r = put_manifest(
        testbed.endpoint, repo, "v2", manifest, mt, ctx=testbed.ssl_context(), token=token
    )
    assert r.status == 201


def test_read_disabled_blocks_pull(testbed: TestBed) -> None:
    repo = "attr/read"
    token = testbed.mint_access_token([f"repository:{repo}:pull,push,metadata_read,metadata_write"])
    push_image(testbed, repo, "v1", token=token)
    acr(testbed, f"/acr/v1/{enc(repo)}/_tags/v1", "PATCH", token=token, body={"readEnabled": False})
    r = request(
        f"{testbed.endpoint}/v2/{repo}/manifests/v1",
        ctx=testbed.ssl_context(),
        token=token,
        headers={"Accept": DOCKER_MANIFEST},
    )
    assert r.status == 405
    acr(testbed, f"/acr/v1/{enc(repo)}/_tags/v1", "PATCH", token=token, body={"readEnabled": True})
    r = request(
        f"{testbed.endpoint}/v2/{repo}/manifests/v1",
        ctx=testbed.ssl_context(),
        token=token,
        headers={"Accept": DOCKER_MANIFEST},
    )
    assert r.status == 200
