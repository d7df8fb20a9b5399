"""AAD -> exchange -> token -> push through /v2 -> /acr/v1 reflects the registry -> delete."""

from __future__ import annotations

import re

from tests.testbed import TestBed

from ._helpers import (
    aad_refresh_token,
    access_token,
    acr,
    digest_of,
    enc,
    push_blob,
    push_image,
    request,
)

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$")


def test_full_flow(testbed: TestBed) -> None:
    repo = "flow/hello"
    rt = aad_refresh_token(testbed)
    push = access_token(testbed, f"repository:{repo}:pull,push", refresh_token=rt)
    dg = push_image(testbed, repo, "v1", token=push)

    read = access_token(testbed, f"repository:{repo}:metadata_read", refresh_token=rt)
    r = acr(testbed, f"/acr/v1/{enc(repo)}/_tags", token=read)
    assert r.status == 200, r.body
    body = r.json()
    assert body["registry"] == testbed.service and body["imageName"] == repo
    (tag,) = body["tags"]
    assert tag["name"] == "v1" and tag["digest"] == dg and tag["signed"] is False
    assert TS.match(tag["createdTime"]) and TS.match(tag["lastUpdateTime"])
    assert tag["changeableAttributes"] == {
        "deleteEnabled": True,
        "writeEnabled": True,
        "readEnabled": True,
        "listEnabled": True,
    }

    r = acr(testbed, f"/acr/v1/{enc(repo)}/_manifests", token=read)
    assert r.status == 200, r.body
    (m,) = r.json()["manifests"]
    assert m["digest"] == dg and m["tags"] == ["v1"]
    assert (m["architecture"], m["os"]) == ("amd64", "linux")
    assert m["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    assert m["configMediaType"] == "application/vnd.docker.container.image.v1+json"
    assert m["imageSize"] > 0

    # unencoded slash works too
    assert (
        acr(testbed, f"/acr/v1/{repo}/_manifests/{dg}", token=read).json()["manifest"]["digest"]
        == dg
    )
    r = acr(testbed, f"/acr/v1/{enc(repo)}", token=read)
    assert r.status == 200 and r.json()["manifestCount"] == 1 and r.json()["tagCount"] == 1

    cat = access_token(testbed, "registry:catalog:*", refresh_token=rt)
    r = acr(testbed, "/acr/v1/_catalog", token=cat)
    assert r.status == 200 and repo in r.json()["repositories"]

    # delete the tag through /acr/v1; the registry no longer lists it
    dele = access_token(testbed, f"repository:{repo}:delete", refresh_token=rt)
    r = acr(testbed, f"/acr/v1/{enc(repo)}/_tags/v1", "DELETE", token=dele)
    assert r.status == 202, r.body
    r = request(f"{testbed.endpoint}/v2/{repo}/tags/list", ctx=testbed.ssl_context(), token=push)
    assert r.status == 200 and not r.json().get("tags")
    r = request(
        f"{testbed.registry_url}/v2/{repo}/tags/list", ctx=testbed.ssl_context(), token=push
    )
    assert r.status == 200 and not r.json().get("tags")
    assert (
        acr(testbed, f"/acr/v1/{enc(repo)}/_tags/v1", token=read).json()["errors"][0]["code"]
        == "TAG_UNKNOWN"
    )
    # the manifest is still there by digest
    r = request(
        f"{testbed.endpoint}/v2/{repo}/manifests/{dg}",
        "HEAD",
        ctx=testbed.ssl_context(),
        token=push,
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
    )
    assert r.status == 200


def test_unauthenticated_acr_challenges(testbed: TestBed) -> None:
    r = request(testbed.endpoint + "/acr/v1/_catalog", ctx=testbed.ssl_context())
    assert r.status == 401
    assert r.header("WWW-Authenticate") == (
        f'Bearer realm="{testbed.endpoint}/oauth2/token",'
        f'service="{testbed.service}",scope="registry:catalog:*"'
    )
    r = request(testbed.endpoint + "/acr/v1/a%2Fb/_tags", ctx=testbed.ssl_context())
    assert 'scope="repository:a/b:metadata_read"' in (r.header("WWW-Authenticate") or "")
    assert r.json()["errors"][0]["detail"] == [
        {"Type": "repository", "Name": "a/b", "Action": "metadata_read"}
    ]
    token = testbed.mint_access_token(["repository:a/b:metadata_read"])
    r = request(
        testbed.endpoint + "/acr/v1/a%2Fb", "DELETE", ctx=testbed.ssl_context(), token=token
    )
    assert r.status == 401
    assert 'scope="repository:a/b:delete",error="insufficient_scope"' in (
        r.header("WWW-Authenticate") or ""
    )


def test_unknown_names(testbed: TestBed) -> None:
    token = testbed.mint_access_token(["repository:nope/x:metadata_read,delete"])
    r = acr(testbed, "/acr/v1/nope%2Fx", token=token)
    assert r.status == 404 and r.json()["errors"][0]["code"] == "NAME_UNKNOWN"
    r = acr(testbed, "/acr/v1/nope%2Fx", "DELETE", token=token)
    assert r.status == 404 and r.json()["errors"][0]["code"] == "NAME_UNKNOWN"


def test_manifest_delete_removes_tags_and_repo_delete(testbed: TestBed) -> None:
    repo = "flow/del"
    token = testbed.mint_access_token([f"repository:{repo}:pull,push,delete,metadata_read"])
    d1 = push_image(testbed, repo, "a", token=token, layer=b"one")
    push_image(testbed, repo, "b", token=token, layer=b"two")
    r = request(
        f"{testbed.endpoint}/v2/{repo}/manifests/{d1}",
        "PUT",
        ctx=testbed.ssl_context(),
        token=token,
        body=request(
            f"{testbed.endpoint}/v2/{repo}/manifests/a",
            ctx=testbed.ssl_context(),
            token=token,
            headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
        ).body,
        headers={"Content-Type": "application/vnd.docker.distribution.manifest.v2+json"},
    )
    assert r.status == 201
    request(
        f"{testbed.endpoint}/v2/{repo}/manifests/a2",
        "PUT",
        ctx=testbed.ssl_context(),
        token=token,
        body=request(
            f"{testbed.endpoint}/v2/{repo}/manifests/a",
            ctx=testbed.ssl_context(),
            token=token,
            headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
        ).body,
        headers={"Content-Type": "application/vnd.docker.distribution.manifest.v2+json"},
    )
    r = acr(testbed, f"/acr/v1/{enc(repo)}/_manifests/{d1}", token=token)
    assert r.json()["manifest"]["tags"] == ["a", "a2"]
    r = acr(testbed, f"/acr/v1/{enc(repo)}/_manifests/{d1}", "DELETE", token=token)
    assert r.status == 202
    r = request(
        f"{testbed.registry_url}/v2/{repo}/tags/list", ctx=testbed.ssl_context(), token=token
    )
    assert r.json()["tags"] == ["b"]
    r = request(
        f"{testbed.registry_url}/v2/{repo}/manifests/{d1}",
        ctx=testbed.ssl_context(),
        token=token,
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
    )
    assert r.status == 404

    r = acr(testbed, f"/acr/v1/{enc(repo)}", "DELETE", token=token)
    assert r.status == 202, r.body
    body = r.json()
    assert body["tagsDeleted"] == ["b"] and len(body["manifestsDeleted"]) == 1
    r = request(
        f"{testbed.registry_url}/v2/{repo}/tags/list", ctx=testbed.ssl_context(), token=token
    )
    assert r.status == 404
    assert acr(testbed, f"/acr/v1/{enc(repo)}", token=token).status == 404


def test_proxy_streams_blobs_with_range(testbed: TestBed) -> None:
    repo = "flow/blob"
    token = testbed.mint_access_token([f"repository:{repo}:pull,push,delete"])
    data = bytes(range(256)) * 4096  # 1 MiB
    dg = push_blob(testbed.endpoint, repo, data, ctx=testbed.ssl_context(), token=token)
    assert dg == digest_of(data)
    r = request(f"{testbed.endpoint}/v2/{repo}/blobs/{dg}", ctx=testbed.ssl_context(), token=token)
    assert r.status == 200 and r.body == data and r.header("Docker-Content-Digest") == dg
    r = request(
        f"{testbed.endpoint}/v2/{repo}/blobs/{dg}",
        ctx=testbed.ssl_context(),
        token=token,
        headers={"Range": "bytes=10-19"},
    )
    assert r.status == 206 and r.body == data[10:20]
    r = request(
        f"{testbed.endpoint}/v2/{repo}/blobs/{dg}", "HEAD", ctx=testbed.ssl_context(), token=token
    )
    assert r.status == 200 and r.header("Content-Length") == str(len(data)) and r.body == b""
    # chunked upload: POST, PATCH, PATCH, PUT — Location stays relative, Range reported
    r = request(
        f"{testbed.endpoint}/v2/{repo}/blobs/uploads/",
        "POST",
        ctx=testbed.ssl_context(),
        token=token,
        body=b"",
    )
    loc = r.header("Location") or ""
    assert loc.startswith("/v2/"), loc
    half = len(data) // 2
    for part, start in ((data[:half], 0), (data[half:], half)):
        r = request(
            testbed.endpoint + loc,
            "PATCH",
            ctx=testbed.ssl_context(),
            token=token,
            body=part,
            headers={
                "Content-Type": "application/octet-stream",
                "Content-Range": f"{start}-{start + len(part) - 1}",
            },
        )
        assert r.status == 202, r.body
        assert r.header("Range") == f"0-{start + len(part) - 1}"
        loc = r.header("Location") or ""
    r = request(
        f"{testbed.endpoint}{loc}&digest={dg}",
        "PUT",
        ctx=testbed.ssl_context(),
        token=token,
        body=b"",
    )
    assert r.status == 201, r.body
    r = request(
        f"{testbed.endpoint}/v2/{repo}/blobs/{dg}", "DELETE", ctx=testbed.ssl_context(), token=token
    )
    assert r.status == 202
