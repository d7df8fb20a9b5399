"""``blob_redirect`` mode: blob GETs answered 307 to the fake blob storage, like ACR."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.testbed import TestBed

from ._helpers import admin_token, digest_of, parse_challenge, push_blob

REPO = "redirect/blobs"
SIZE = 300 * 1024 + 7  # more than one 256 KiB chunk, odd length


@dataclass
class Blob:
    data: bytes
    digest: str
    token: str  # pull,push on REPO


@pytest.fixture(scope="module")
def blob(testbed: TestBed) -> Blob:
    token = admin_token(testbed, f"repository:{REPO}:pull,push")
    data = os.urandom(SIZE)
    digest = push_blob(testbed.endpoint, REPO, data, ctx=testbed.ssl_context(), token=token)
    return Blob(data, digest, token)


def _get(
    bed: TestBed,
    url: str,
    token: str | None = None,
    *,
    headers: dict[str, str] | None = None,
    allow_redirects: bool = True,
) -> requests.Response:
    # verify= on each call: a Session's verify loses to REQUESTS_CA_BUNDLE
    h = dict(headers or {})
    if token:
        h["Authorization"] = "Bearer " + token
    return requests.get(
        url, headers=h, verify=bed.ca_path, timeout=10, allow_redirects=allow_redirects
    )


def _location(bed: TestBed, blob: Blob) -> str:
    r = _get(
        bed, f"{bed.endpoint}/v2/{REPO}/blobs/{blob.digest}", blob.token, allow_redirects=False
    )
    assert r.status_code == 307, r.text
    return r.headers["Location"]


def test_off_by_default(testbed: TestBed, blob: Blob) -> None:
    assert testbed.config()["blob_redirect"] is False
    r = _get(testbed, f"{testbed.endpoint}/v2/{REPO}/blobs/{blob.digest}", blob.token)
    assert r.status_code == 200 and not r.history
    assert r.content == blob.data


def test_redirect_to_signed_url_on_another_origin(blob_redirect: TestBed, blob: Blob) -> None:
    bed = blob_redirect
    assert urlsplit(bed.storage_endpoint).hostname == "localhost"
    bed.clear_traffic()
    loc = _location(bed, blob)
    parts = urlsplit(loc)
    assert f"{parts.scheme}://{parts.netloc}" == bed.storage_endpoint
    assert parts.netloc != urlsplit(bed.endpoint).netloc
    hexpart = blob.digest.split(":", 1)[1]
    assert parts.path.endswith(f"/docker/registry/v2/blobs/sha256/{hexpart[:2]}/{hexpart}/data")
    q = parse_qs(parts.query)
    assert set(q) >= {"se", "sig", "sp", "sr", "sv"} and q["sp"] == ["r"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", q["se"][0])
    assert "%2B" in parts.query or "%2F" in parts.query or "%3D" in parts.query  # like Azure
    assert [(t["method"], t["status"], t["authorization"]) for t in bed.traffic()] == [
        ("GET", 307, "Bearer")
    ]
    # HEAD is answered by the registry itself, not redirected
    r = requests.head(
        f"{bed.endpoint}/v2/{REPO}/blobs/{blob.digest}",
        headers={"Authorization": "Bearer " + blob.token},
        verify=bed.ca_path,
        timeout=10,
    )
    assert r.status_code == 200 and r.headers["Docker-Content-Digest"] == blob.digest
    assert int(r.headers["Content-Length"]) == SIZE


def test_following_the_redirect_drops_authorization(blob_redirect: TestBed, blob: Blob) -> None:
    bed = blob_redirect
    bed.clear_traffic()
    # requests strips Authorization when the redirect goes to another host
    r = _get(bed, f"{bed.endpoint}/v2/{REPO}/blobs/{blob.digest}", blob.token)
    assert r.status_code == 200 and [h.status_code for h in r.history] == [307]
    assert r.content == blob.data
    assert r.headers["Content-Length"] == str(SIZE)
    assert r.headers["Content-Type"] == "application/octet-stream"
    assert r.headers["Accept-Ranges"] == "bytes"
    (rec,) = bed.storage_traffic()
    assert rec["method"] == "GET" and rec["status"] == 200
    assert rec["authorization"] is False and rec["range"] is None
    assert rec["bytes_sent"] == SIZE and rec["complete"] is True
    assert rec["path"] == urlsplit(r.url).path and "sig=" in rec["query"]
    assert rec["host"] == urlsplit(bed.storage_endpoint).netloc


def test_storage_refuses_a_bearer_token(blob_redirect: TestBed, blob: Blob) -> None:
    bed = blob_redirect
    loc = _location(bed, blob)
    bed.storage_traffic(clear=True)
    r = _get(bed, loc, blob.token)
    assert r.status_code == 400
    assert "<Code>InvalidAuthenticationInfo</Code>" in r.text
    assert r.headers["x-ms-error-code"] == "InvalidAuthenticationInfo"
    (rec,) = bed.storage_traffic()
    assert (rec["status"], rec["authorization"], rec["bytes_sent"]) == (400, True, 0)


def test_storage_checks_the_signature(blob_redirect: TestBed, blob: Blob) -> None:
    bed = blob_redirect
    loc = _location(bed, blob)
    base, _, query = loc.partition("?")
    no_sig = "&".join(p for p in query.split("&") if not p.startswith("sig="))
    wrong_sig = re.sub(r"sig=[^&]+", "sig=AAAA" + "A" * 40 + "%3D", query)
    other = digest_of(b"another blob").split(":", 1)[1]
    other_path = re.sub(r"/[0-9a-f]{2}/[0-9a-f]{64}/", f"/{other[:2]}/{other}/", base)
    for url in (base, f"{base}?{no_sig}", f"{base}?{wrong_sig}", f"{other_path}?{query}"):
        r = _get(bed, url)
        assert r.status_code == 403, url
        assert "<Code>AuthenticationFailed</Code>" in r.text
    # an expired SAS
    bed.set_blob_redirect(True, sas_ttl=-60)
    r = _get(bed, _location(bed, blob))
    assert r.status_code == 403 and "time frame" in r.text
    bed.set_blob_redirect(True, sas_ttl=600)
    assert _get(bed, _location(bed, blob)).status_code == 200


def test_ranges(blob_redirect: TestBed, blob: Blob) -> None:
    bed = blob_redirect
    loc = _location(bed, blob)
    data = blob.data
    cases = {
        "bytes=0-0": (0, 0),
        "bytes=100-299": (100, 299),
        "bytes=300000-": (300000, SIZE - 1),
        "bytes=-10": (SIZE - 10, SIZE - 1),
        f"bytes=5-{SIZE + 1000}": (5, SIZE - 1),
    }
    for header, (a, b) in cases.items():
        r = _get(bed, loc, headers={"Range": header})
        assert r.status_code == 206, header
        assert r.headers["Content-Range"] == f"bytes {a}-{b}/{SIZE}"
        assert r.headers["Content-Length"] == str(b - a + 1)
        assert r.content == data[a : b + 1], header
    # Azure's own header works too
    r = _get(bed, loc, headers={"x-ms-range": "bytes=1-2"})
    assert r.status_code == 206 and r.content == data[1:3]
    for header in (f"bytes={SIZE}-", f"bytes={SIZE + 5}-{SIZE + 10}", "bytes=-0"):
        r = _get(bed, loc, headers={"Range": header})
        assert r.status_code == 416, header
        assert r.headers["Content-Range"] == f"bytes */{SIZE}"
        assert "<Code>InvalidRange</Code>" in r.text
    # malformed / multiple ranges are ignored: the whole blob
    for header in ("bytes=9-3", "items=0-1", "bytes=0-1,5-6"):
        r = _get(bed, loc, headers={"Range": header})
        assert r.status_code == 200 and r.content == data, header
    r = requests.head(loc, verify=bed.ca_path, timeout=10)
    assert r.status_code == 200 and r.headers["Content-Length"] == str(SIZE) and not r.content
    ranges = [t["range"] for t in bed.storage_traffic(clear=True)]
    assert "bytes=100-299" in ranges and "bytes=1-2" in ranges


def test_range_is_forwarded_through_the_redirect(blob_redirect: TestBed, blob: Blob) -> None:
    bed = blob_redirect
    bed.storage_traffic(clear=True)
    r = _get(
        bed,
        f"{bed.endpoint}/v2/{REPO}/blobs/{blob.digest}",
        blob.token,
        headers={"Range": "bytes=1000-1999"},
    )
    assert r.status_code == 206 and r.content == blob.data[1000:2000]
    (rec,) = bed.storage_traffic()
    assert rec["range"] == "bytes=1000-1999" and rec["bytes_sent"] == 1000


def test_registry_refusals_are_relayed(blob_redirect: TestBed, blob: Blob) -> None:
    bed = blob_redirect
    bed.clear_traffic()
    url = f"{bed.endpoint}/v2/{REPO}/blobs/{blob.digest}"
    r = _get(bed, url, allow_redirects=False)
    assert r.status_code == 401
    ch = parse_challenge(r.headers["WWW-Authenticate"])
    assert ch["realm"] == bed.endpoint + "/oauth2/token" and ch["service"] == bed.service
    assert ch["scope"] == f"repository:{REPO}:pull"
    assert r.json()["errors"][0]["code"] == "UNAUTHORIZED"
    other = admin_token(bed, "repository:somewhere-else:pull")
    r = _get(bed, url, other, allow_redirects=False)
    assert r.status_code == 401
    assert parse_challenge(r.headers["WWW-Authenticate"])["error"] == "insufficient_scope"
    missing = digest_of(b"never pushed")
    r = _get(bed, f"{bed.endpoint}/v2/{REPO}/blobs/{missing}", blob.token, allow_redirects=False)
    assert r.status_code == 404 and r.json()["errors"][0]["code"] == "BLOB_UNKNOWN"
    assert bed.storage_traffic() == []


def test_redirect_origin_override(blob_redirect: TestBed, blob: Blob) -> None:
    bed = blob_redirect
    bed.set_blob_redirect(True, origin="https://localhost:1")
    assert _location(bed, blob).startswith("https://localhost:1/")
    bed.set_blob_redirect(False)
    assert bed.config()["redirect_origin"] == bed.storage_endpoint
    bed.set_blob_redirect(True)
    assert _location(bed, blob).startswith(bed.storage_endpoint + "/")
