"""``tamper`` mode: one byte of each blob / manifest GET body changed, headers untouched."""

from __future__ import annotations

import os
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass
from typing import Optional

import pytest
import requests

from tests.testbed import TestBed

from ._helpers import DOCKER_MANIFEST, admin_token, digest_of, push_blob, push_image

REPO = "tamper/image"
SIZE = 300 * 1024 + 3

Tamper = Callable[[Optional[str]], None]


@dataclass
class Pushed:
    data: bytes
    digest: str
    manifest_digest: str
    token: str


@pytest.fixture(scope="module")
def pushed(testbed: TestBed) -> Pushed:
    token = admin_token(testbed, f"repository:{REPO}:pull,push")
    data = os.urandom(SIZE)
    digest = push_blob(testbed.endpoint, REPO, data, ctx=testbed.ssl_context(), token=token)
    manifest_digest = push_image(testbed, REPO, "v1", token=token)
    return Pushed(data, digest, manifest_digest, token)


def _get(
    bed: TestBed, path: str, token: str, headers: dict[str, str] | None = None
) -> requests.Response:
    return requests.get(
        bed.endpoint + path,
        headers={"Authorization": "Bearer " + token, **(headers or {})},
        verify=bed.ca_path,
        timeout=10,
    )


def _diff(a: bytes, b: bytes) -> list[int]:
    assert len(a) == len(b)
    return [i for i, (x, y) in enumerate(zip(a, b)) if x != y]


def test_blob_bodies_have_one_byte_flipped(
    testbed: TestBed, tamper: Tamper, pushed: Pushed
) -> None:
    path = f"/v2/{REPO}/blobs/{pushed.digest}"
    assert _get(testbed, path, pushed.token).content == pushed.data  # off by default
    tamper("blobs")
    assert testbed.config()["tamper"] == "blobs"
    r = _get(testbed, path, pushed.token)
    assert r.status_code == 200
    assert r.headers["Docker-Content-Digest"] == pushed.digest
    assert r.headers["Content-Length"] == str(SIZE)
    assert _diff(r.content, pushed.data) == [SIZE // 2]
    assert r.content[SIZE // 2] == pushed.data[SIZE // 2] ^ 0xFF
    assert digest_of(r.content) != pushed.digest
    # a ranged GET: the middle of the returned body
    r = _get(testbed, path, pushed.token, {"Range": "bytes=100-299"})
    assert r.status_code == 206 and r.headers["Content-Range"] == f"bytes 100-299/{SIZE}"
    assert _diff(r.content, pushed.data[100:300]) == [100]
    # HEAD and manifests are untouched
    r = requests.head(
        testbed.endpoint + path,
        headers={"Authorization": "Bearer " + pushed.token},
        verify=testbed.ca_path,
        timeout=10,
    )
    assert r.status_code == 200 and r.headers["Docker-Content-Digest"] == pushed.digest
    r = _get(
        testbed,
        f"/v2/{REPO}/manifests/{pushed.manifest_digest}",
        pushed.token,
        {"Accept": DOCKER_MANIFEST},
    )
    assert digest_of(r.content) == pushed.manifest_digest
    tamper(None)
    assert _get(testbed, path, pushed.token).content == pushed.data


def test_storage_blobs_are_tampered_too(
    blob_redirect: TestBed, tamper: Tamper, pushed: Pushed
) -> None:
    bed = blob_redirect
    tamper("blobs")
    path = f"/v2/{REPO}/blobs/{pushed.digest}"
    r = _get(bed, path, pushed.token)
    assert r.status_code == 200 and [h.status_code for h in r.history] == [307]
    assert _diff(r.content, pushed.data) == [SIZE // 2]
    r = _get(bed, path, pushed.token, {"Range": "bytes=10-19"})
    assert r.status_code == 206 and _diff(r.content, pushed.data[10:20]) == [5]


def test_manifest_bodies_have_one_byte_changed(
    testbed: TestBed, tamper: Tamper, pushed: Pushed
) -> None:
    tamper("manifests")
    for ref in ("v1", pushed.manifest_digest):
        r = _get(testbed, f"/v2/{REPO}/manifests/{ref}", pushed.token, {"Accept": DOCKER_MANIFEST})
        assert r.status_code == 200
        assert r.headers["Docker-Content-Digest"] == pushed.manifest_digest
        assert int(r.headers["Content-Length"]) == len(r.content)
        assert digest_of(r.content) != pushed.manifest_digest
        doc = r.json()  # still valid JSON: the client fails on the digest, not on parsing
        assert doc["schemaVersion"] == 2
    tamper(None)
    original = _get(
        testbed, f"/v2/{REPO}/manifests/v1", pushed.token, {"Accept": DOCKER_MANIFEST}
    ).content
    assert digest_of(original) == pushed.manifest_digest
    tamper("manifests")
    r = _get(testbed, f"/v2/{REPO}/manifests/v1", pushed.token, {"Accept": DOCKER_MANIFEST})
    (i,) = _diff(r.content, original)
    assert chr(original[i]) in "0123456789abcdef" and chr(r.content[i]) in "0123456789abcdef"
    # blobs are untouched in this mode
    assert _get(testbed, f"/v2/{REPO}/blobs/{pushed.digest}", pushed.token).content == (pushed.data)


def test_unknown_mode_is_refused(testbed: TestBed) -> None:
    with pytest.raises(urllib.error.HTTPError) as e:
        testbed.set_tamper("everything")
    assert e.value.code == 400
    assert testbed.config()["tamper"] is None
