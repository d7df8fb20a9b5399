"""The test bed's OCI 1.1 extras: referrers API, OCI-Subject, the plain-distribution switch,
upload-session observation, and a second independent test bed."""

from __future__ import annotations

import http.client
import json
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from tests.testbed import TestBed

from ._helpers import (
    OCI_MANIFEST,
    Resp,
    digest_of,
    parse_challenge,
    push_blob,
    push_image,
    put_manifest,
    request,
)

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
EMPTY = "application/vnd.oci.empty.v1+json"
SIG_TYPE = "application/vnd.example.signature.v1"
SBOM_CONFIG = "application/vnd.example.sbom.config.v1+json"
SBOM_LAYER = "application/vnd.example.sbom.v1+json"


def _pull_push(bed: TestBed, repo: str) -> str:
    return bed.mint_access_token(f"repository:{repo}:pull,push")


def _manifest(
    *,
    config: tuple[str, bytes],
    layer: tuple[str, bytes],
    subject: dict[str, Any],
    artifact_type: str | None = None,
    annotations: dict[str, str] | None = None,
) -> bytes:
    doc: dict[str, Any] = {"schemaVersion": 2, "mediaType": OCI_MANIFEST}
    if artifact_type:
        doc["artifactType"] = artifact_type
    doc["config"] = {
        "mediaType": config[0],
        "digest": digest_of(config[1]),
        "size": len(config[1]),
    }
    doc["layers"] = [{"mediaType": layer[0], "digest": digest_of(layer[1]), "size": len(layer[1])}]
    doc["subject"] = subject
    if annotations:
        doc["annotations"] = annotations
    return json.dumps(doc).encode()


@dataclass
class Pushed:
    repo: str
    subject: str
    sig: str
    sbom: str
    index: str
    sizes: dict[str, int]


def _push_referrers(bed: TestBed, repo: str) -> Pushed:
    """An image, a signature (artifactType + annotations), an SBOM (artifactType from its
    config) and an index (no artifactType), the last three with the image as subject."""
    ctx, token, base = bed.ssl_context(), _pull_push(bed, repo), bed.endpoint
    subject = push_image(bed, repo, "v1", token=token, oci=True)
    r = request(
        f"{base}/v2/{repo}/manifests/v1", ctx=ctx, token=token, headers={"Accept": OCI_MANIFEST}
    )
    assert r.status == 200
    subject_desc = {"mediaType": OCI_MANIFEST, "digest": subject, "size": len(r.body)}

    blobs = {"empty": b"{}", "sig": b"signature-bytes", "sbomcfg": b'{"sbom":1}', "sbom": b"[]"}
    for data in blobs.values():
        push_blob(base, repo, data, ctx=ctx, token=token)
    sig = _manifest(
        config=(EMPTY, blobs["empty"]),
        layer=("application/vnd.example.signature.layer.v1", blobs["sig"]),
        subject=subject_desc,
        artifact_type=SIG_TYPE,
        annotations={"org.example.signer": "alice"},
    )
    sbom = _manifest(
        config=(SBOM_CONFIG, blobs["sbomcfg"]),
        layer=(SBOM_LAYER, blobs["sbom"]),
        subject=subject_desc,
    )
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [subject_desc],
            "subject": subject_desc,
            "annotations": {"org.example.kind": "bundle"},
        }
    ).encode()
    for body, mt in ((sig, OCI_MANIFEST), (sbom, OCI_MANIFEST), (index, OCI_INDEX)):
        dg = digest_of(body)
        r = put_manifest(base, repo, dg, body, mt, ctx=ctx, token=token)
        assert r.status == 201, (r.status, r.body)
        assert r.header("OCI-Subject") == subject
    sizes = {digest_of(b): len(b) for b in (sig, sbom, index)}
    return Pushed(repo, subject, digest_of(sig), digest_of(sbom), digest_of(index), sizes)


def _referrers(bed: TestBed, repo: str, digest: str, query: str = "", **kw: Any) -> Resp:
    url = f"{bed.endpoint}/v2/{repo}/referrers/{digest}" + (f"?{query}" if query else "")
    return request(url, ctx=bed.ssl_context(), **kw)


@pytest.fixture(scope="module")
def pushed(testbed: TestBed) -> Pushed:
    return _push_referrers(testbed, "refs/app")


def test_referrers_list_descriptors(testbed: TestBed, pushed: Pushed) -> None:
    token = testbed.mint_access_token(f"repository:{pushed.repo}:pull")
    r = _referrers(testbed, pushed.repo, pushed.subject, token=token)
    assert r.status == 200, r.body
    assert r.header("Content-Type") == OCI_INDEX
    assert r.header("OCI-Filters-Applied") is None
    body = r.json()
    assert body["schemaVersion"] == 2 and body["mediaType"] == OCI_INDEX
    expected = {
        pushed.sig: {
            "mediaType": OCI_MANIFEST,
            "digest": pushed.sig,
            "size": pushed.sizes[pushed.sig],
            "artifactType": SIG_TYPE,
            "annotations": {"org.example.signer": "alice"},
        },
        pushed.sbom: {
            "mediaType": OCI_MANIFEST,
            "digest": pushed.sbom,
            "size": pushed.sizes[pushed.sbom],
            "artifactType": SBOM_CONFIG,  # no artifactType: the config's mediaType
        },
        pushed.index: {  # an index without artifactType: none in its descriptor
            "mediaType": OCI_INDEX,
            "digest": pushed.index,
            "size": pushed.sizes[pushed.index],
            "annotations": {"org.example.kind": "bundle"},
        },
    }
    assert body["manifests"] == [expected[d] for d in sorted(expected)]
    # the subject image itself is not a referrer of anything
    assert pushed.subject not in {m["digest"] for m in body["manifests"]}


def test_referrers_filter_and_paging(testbed: TestBed, pushed: Pushed) -> None:
    token = testbed.mint_access_token(f"repository:{pushed.repo}:pull")
    r = _referrers(
        testbed,
        pushed.repo,
        pushed.subject,
        f"artifactType={quote(SIG_TYPE, safe='')}",
        token=token,
    )
    assert r.status == 200 and r.header("OCI-Filters-Applied") == "artifactType"
    assert [m["digest"] for m in r.json()["manifests"]] == [pushed.sig]
    r = _referrers(
        testbed, pushed.repo, pushed.subject, "artifactType=application/none", token=token
    )
    assert r.status == 200 and r.header("OCI-Filters-Applied") == "artifactType"
    assert r.json()["manifests"] == []

    seen: list[str] = []
    query = "n=2"
    for _ in range(3):
        r = _referrers(testbed, pushed.repo, pushed.subject, query, token=token)
        assert r.status == 200
        seen += [m["digest"] for m in r.json()["manifests"]]
        link = r.header("Link")
        if link is None:
            break
        assert link.endswith('>; rel="next"')
        query = urlsplit(link[1 : link.index(">")]).query
    assert seen == sorted([pushed.sig, pushed.sbom, pushed.index])


def test_referrers_empty_and_bad_requests(testbed: TestBed, pushed: Pushed) -> None:
    token = testbed.mint_access_token(f"repository:{pushed.repo}:pull")
    for digest in (pushed.sig, digest_of(b"nothing refers to this")):
        r = _referrers(testbed, pushed.repo, digest, token=token)
        assert r.status == 200 and r.header("Content-Type") == OCI_INDEX
        assert r.json() == {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}
    # an unknown repository: still an (empty) index, never 404
    other = testbed.mint_access_token("repository:refs/none:pull")
    r = _referrers(testbed, "refs/none", pushed.subject, token=other)
    assert r.status == 200 and r.json()["manifests"] == []
    for bad in ("sha256:abc", "nodigest", "sha256:" + "A" * 64, "sha256:" + "0" * 65):
        r = _referrers(testbed, pushed.repo, bad, token=token)
        assert r.status == 400, (bad, r.status)
        assert r.json()["errors"][0]["code"] == "DIGEST_INVALID"
    r = _referrers(testbed, "Refs/App", pushed.subject, token=token)
    assert r.status == 400 and r.json()["errors"][0]["code"] == "NAME_INVALID"


def test_referrers_authorization(testbed: TestBed, pushed: Pushed) -> None:
    r = _referrers(testbed, pushed.repo, pushed.subject)
    assert r.status == 401
    ours = parse_challenge(r.header("WWW-Authenticate") or "")
    assert ours == {
        "realm": f"{testbed.endpoint}/oauth2/token",
        "service": testbed.service,
        "scope": f"repository:{pushed.repo}:pull",
    }
    # the same challenge as the registry's own /v2 routes
    r = request(f"{testbed.endpoint}/v2/{pushed.repo}/manifests/v1", ctx=testbed.ssl_context())
    assert r.status == 401 and parse_challenge(r.header("WWW-Authenticate") or "") == ours
    # a token without pull on this repository
    for scope in (f"repository:{pushed.repo}:push", "repository:refs/other:pull"):
        r = _referrers(testbed, pushed.repo, pushed.subject, token=testbed.mint_access_token(scope))
        assert r.status == 401
        assert parse_challenge(r.header("WWW-Authenticate") or "")["error"] == "insufficient_scope"
    # admin basic auth, like the rest of the service
    r = _referrers(
        testbed,
        pushed.repo,
        pushed.subject,
        basic=(testbed.admin_username, testbed.admin_password),
    )
    assert r.status == 200 and len(r.json()["manifests"]) == 3


def test_no_oci_subject_without_subject(testbed: TestBed) -> None:
    repo = "refs/plainimage"
    token = _pull_push(testbed, repo)
    ctx = testbed.ssl_context()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": EMPTY, "digest": digest_of(b"{}"), "size": 2},
            "layers": [],
        }
    ).encode()
    push_blob(testbed.endpoint, repo, b"{}", ctx=ctx, token=token)
    r = put_manifest(testbed.endpoint, repo, "t", manifest, OCI_MANIFEST, ctx=ctx, token=token)
    assert r.status == 201 and r.header("OCI-Subject") is None


def test_plain_registry_switch(plain_registry: TestBed) -> None:
    bed = plain_registry
    assert bed.config()["referrers_api"] is False
    repo = "refs/plain"
    token = _pull_push(bed, repo)
    ctx = bed.ssl_context()
    subject = push_image(bed, repo, "v1", token=token, oci=True)
    push_blob(bed.endpoint, repo, b"{}", ctx=ctx, token=token)
    sig = _manifest(
        config=(EMPTY, b"{}"),
        layer=(EMPTY, b"{}"),
        subject={"mediaType": OCI_MANIFEST, "digest": subject, "size": 1},
        artifact_type=SIG_TYPE,
    )
    r = put_manifest(bed.endpoint, repo, digest_of(sig), sig, OCI_MANIFEST, ctx=ctx, token=token)
    assert r.status == 201, r.body
    assert r.header("OCI-Subject") is None
    # distribution 2.8 has no such route: its mux answers 404 text/plain, before any auth
    for kw in ({"token": token}, {}):
        r = _referrers(bed, repo, subject, **kw)
        assert r.status == 404, (r.status, r.body)
        assert r.body == b"404 page not found\n"
        assert (r.header("Content-Type") or "").startswith("text/plain")
        assert r.header("WWW-Authenticate") is None
    # back on: the same manifests are listed (the API reads the registry's storage)
    bed.set_referrers_api(True)
    try:
        r = _referrers(bed, repo, subject, token=token)
        assert r.status == 200 and [m["digest"] for m in r.json()["manifests"]] == [digest_of(sig)]
    finally:
        bed.set_referrers_api(False)


def test_referrers_api_is_on_by_default(testbed: TestBed) -> None:
    assert testbed.config()["referrers_api"] is True


# ----------------------------------------------------------------------------- uploads
def _open_upload(bed: TestBed, repo: str, token: str) -> str:
    r = request(
        f"{bed.endpoint}/v2/{repo}/blobs/uploads/",
        "POST",
        ctx=bed.ssl_context(),
        token=token,
        body=b"",
    )
    assert r.status == 202, r.body
    loc = r.header("Location") or ""
    return bed.endpoint + loc if loc.startswith("/") else loc


def _start_request(
    url: str, method: str, ctx: ssl.SSLContext, token: str, total: int, first: bytes
) -> http.client.HTTPSConnection:
    """A request whose body is only partly sent: the service holds it in flight."""
    parts = urlsplit(url)
    assert parts.hostname
    conn = http.client.HTTPSConnection(parts.hostname, parts.port, context=ctx, timeout=30)
    conn.putrequest(method, parts.path + ("?" + parts.query if parts.query else ""))
    conn.putheader("Authorization", "Bearer " + token)
    conn.putheader("Content-Type", "application/octet-stream")
    conn.putheader("Content-Length", str(total))
    conn.endheaders()
    conn.send(first)
    return conn


def test_upload_stats_overlapping_sessions(testbed: TestBed) -> None:
    repo = "refs/uploads"
    token = _pull_push(testbed, repo)
    ctx = testbed.ssl_context()
    testbed.upload_stats(clear=True)
    a, b = _open_upload(testbed, repo, token), _open_upload(testbed, repo, token)
    stats = testbed.upload_stats()
    assert stats["sessions_opened"] == 2 and stats["open_sessions"] == 2
    assert stats["max_open_sessions"] == 2

    data = {a: b"A" * 50_000, b: b"B" * 70_000}
    conns = [_start_request(u, "PATCH", ctx, token, len(d), d[:1000]) for u, d in data.items()]
    try:
        deadline = time.monotonic() + 10
        while testbed.upload_stats()["requests_in_flight"] < 2:  # both held open at the service
            assert time.monotonic() < deadline
            time.sleep(0.02)
        for conn, d in zip(conns, data.values()):
            conn.send(d[1000:])
        locations = []
        for conn in conns:
            resp = conn.getresponse()
            assert resp.status == 202, resp.read()
            resp.read()
            locations.append(resp.headers["Location"])
    finally:
        for conn in conns:
            conn.close()
    assert testbed.upload_stats()["max_requests_in_flight"] == 2
    for loc, blob in zip(locations, data.values()):
        url = (
            (testbed.endpoint + loc if loc.startswith("/") else loc)
            + "&digest="
            + quote(digest_of(blob))
        )
        r = request(url, "PUT", ctx=ctx, token=token, body=b"")
        assert r.status == 201, r.body
    # a third session ends with a 400 (wrong digest): closed, not completed
    c = _open_upload(testbed, repo, token)
    r = request(c + "&digest=" + quote(digest_of(b"other")), "PUT", ctx=ctx, token=token, body=b"x")
    assert r.status == 400
    stats = testbed.upload_stats(clear=True)
    assert stats == {
        "max_open_sessions": 2,
        "max_requests_in_flight": 2,
        "sessions_opened": 3,
        "sessions_completed": 2,
        "open_sessions": 0,
        "requests_in_flight": 0,
    }
    # a DELETE closes a session too; the reset forgot everything before it
    cancelled = _open_upload(testbed, repo, token)
    assert testbed.upload_stats()["open_sessions"] == 1
    # (distribution 2.8 wants the `delete` action to cancel an upload)
    deleter = testbed.mint_access_token(f"repository:{repo}:pull,push,delete")
    r = request(cancelled, "DELETE", ctx=ctx, token=deleter)
    assert r.status == 204, (r.status, r.body)
    stats = testbed.upload_stats()
    assert (stats["sessions_opened"], stats["open_sessions"], stats["max_open_sessions"]) == (
        1,
        0,
        1,
    )
    testbed.clear_traffic()
    assert testbed.upload_stats()["sessions_opened"] == 0


def test_traffic_records_mounts_and_body_bytes(testbed: TestBed) -> None:
    src, dst = "refs/mountsrc", "refs/mountdst"
    ctx = testbed.ssl_context()
    token = testbed.mint_access_token(
        [f"repository:{src}:pull,push", f"repository:{dst}:pull,push"]
    )
    blob = b"mount me" * 1000
    dg = push_blob(testbed.endpoint, src, blob, ctx=ctx, token=token)
    testbed.clear_traffic()
    r = request(
        f"{testbed.endpoint}/v2/{dst}/blobs/uploads/?mount={quote(dg)}&from={quote(src)}",
        "POST",
        ctx=ctx,
        token=token,
        body=b"",
    )
    assert r.status == 201, r.body
    url = _open_upload(testbed, dst, token)
    r = request(url, "PATCH", ctx=ctx, token=token, body=b"x" * 1234)
    assert r.status == 202
    (mount, _post, patch) = testbed.traffic()
    assert (mount["method"], mount["path"], mount["status"]) == (
        "POST",
        f"/v2/{dst}/blobs/uploads/",
        201,
    )
    assert parse_qs(mount["query"]) == {"mount": [dg], "from": [src]}
    assert patch["method"] == "PATCH" and patch["body_bytes"] == 1234
    assert testbed.upload_stats()["sessions_opened"] == 1  # the mount opened no session
    request(url, "DELETE", ctx=ctx, token=token)


# ----------------------------------------------------------------------------- testbed2
def test_second_testbed_is_independent(testbed: TestBed, testbed2: TestBed) -> None:
    assert testbed2.endpoint != testbed.endpoint
    assert testbed2.service != testbed.service
    assert testbed2.registry_url != testbed.registry_url
    assert testbed2.storage_endpoint != testbed.storage_endpoint
    assert testbed2.state_dir != testbed.state_dir
    assert open(testbed2.ca_path).read() != open(testbed.ca_path).read()
    # one bed's CA does not vouch for the other's TLS
    with pytest.raises(ssl.SSLError):
        request(testbed2.endpoint + "/v2/", ctx=testbed.ssl_context())
    # the challenge names its own realm and service
    r = request(testbed2.endpoint + "/v2/", ctx=testbed2.ssl_context())
    assert r.status == 401
    ch = parse_challenge(r.header("WWW-Authenticate") or "")
    assert ch["realm"] == testbed2.endpoint + "/oauth2/token" and ch["service"] == testbed2.service
    # tokens are not interchangeable; content is not shared
    repo = "refs/second"
    tok1, tok2 = _pull_push(testbed, repo), _pull_push(testbed2, repo)
    dg = push_image(testbed2, repo, "v1", token=tok2, oci=True)
    assert testbed2.config()["referrers_api"] is True
    url = f"/v2/{repo}/manifests/{dg}"
    accept = {"Accept": OCI_MANIFEST}  # distribution 2.8 hides OCI manifests otherwise (404)

    def head(bed: TestBed, token: str) -> int:
        return request(
            bed.endpoint + url, "HEAD", ctx=bed.ssl_context(), token=token, headers=accept
        ).status

    assert head(testbed2, tok2) == 200
    assert head(testbed2, tok1) == 401
    assert head(testbed, tok1) == 404
