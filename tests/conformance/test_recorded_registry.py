"""Recorded real ACR listing and properties responses, replayed to the client.

A transport answers each request with the recorded 200 response for the same method,
path and query (hosts, encodings of the repository name, ``api-version`` and empty query
values aside), so the client pages through real ``Link`` headers and parses real bodies.
The assertions are the values the recordings contain.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
from azure.core.pipeline.transport import HttpTransport
from azure.core.rest import HttpRequest, HttpResponse

import azurecr
from tests.reference import RECORDINGS_DIR

JS = RECORDINGS_DIR / "js" / "repository_and_artifact_tests"
PY = RECORDINGS_DIR / "python"
pytestmark = pytest.mark.skipif(
    not RECORDINGS_DIR.is_dir(), reason=f"no recordings at {RECORDINGS_DIR}"
)


def _key(method: str, url: str) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    parts = urlsplit(url)
    path = unquote(parts.path)
    # The Python recordings sanitise digests in paths.
    if "/_manifests/" in path:
        path = path.split("/_manifests/")[0] + "/_manifests/{digest}"
    query = tuple(
        sorted(
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if v and k != "api-version"
        )
    )
    return method, path, query


class ReplayTransport(HttpTransport[HttpRequest, HttpResponse]):
    """Serves the recorded 200 answers of a recording; anything else is a test failure."""

    def __init__(self, *recordings: Path) -> None:
        self.answers: dict[Any, dict[str, Any]] = {}
        for path in recordings:
            for entry in json.loads(path.read_text())["Entries"]:
                if entry["StatusCode"] == 200 and "/acr/v1/" in entry["RequestUri"]:
                    key = _key(entry["RequestMethod"], entry["RequestUri"])
                    self.answers.setdefault(key, entry)
        self.requests: list[Any] = []

    def __enter__(self) -> ReplayTransport:
        return self

    def __exit__(self, *args: Any) -> None:
        return None

    def open(self) -> None:
        return None

    def close(self) -> None:
        return None

    def send(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        from azure.core.rest._requests_basic import RestRequestsTransportResponse
        from requests import Response

        key = _key(request.method, request.url)
        self.requests.append(key)
        entry = self.answers.get(key)
        assert entry is not None, f"no recorded answer for {key}"
        raw = Response()
        raw.status_code = 200
        for k, v in entry["ResponseHeaders"].items():
            raw.headers[k] = v
        raw.headers["Content-Type"] = "application/json"
        raw.raw = io.BytesIO(json.dumps(entry["ResponseBody"]).encode())
        raw.url = request.url
        return RestRequestsTransportResponse(request=request, internal_response=raw)


def client(*recordings: Path) -> tuple[azurecr.ContainerRegistryClient, ReplayTransport]:
    transport = ReplayTransport(*recordings)
    return azurecr.ContainerRegistryClient("fake_url.azurecr.io", transport=transport), transport


def test_repository_names_by_page() -> None:
    c, _ = client(
        PY / "test_anon_access.pyTestContainerRegistryClienttest_list_repository_names_by_page.json"
    )
    pages = [list(p) for p in c.list_repository_names(results_per_page=2).by_page()]
    assert pages == [["library/alpine", "library/busybox"], ["library/hello-world"]]


def test_manifests_by_page_follow_the_recorded_links() -> None:
    c, transport = client(JS / "recording_should_list_registry_manifests_by_pages.json")
    pages = c.list_manifest_properties("library/hello-world", results_per_page=1).by_page()
    first, second = next(pages), next(pages)
    (m1,) = list(first)
    (m2,) = list(second)
    assert m1.digest == "sha256:085e87951950ac62a771af158d4d8275505088897a0e520a8a5bd582343631b0"
    assert m1.size_in_bytes == 5499
    assert m2.digest == "sha256:1363c810cc39a563c6f315e26951d2ed9e93f3bf929fde8223633ecf81a4a430"
    assert m1.repository_name == "library/hello-world"
    assert m1.fully_qualified_reference == f"fake_url.azurecr.io/library/hello-world@{m1.digest}"
    recorded = [
        e["ResponseBody"]["manifests"][0]
        for e in json.loads(
            (JS / "recording_should_list_registry_manifests_by_pages.json").read_text()
        )["Entries"]
        if e["StatusCode"] == 200 and "/_manifests" in e["RequestUri"]
    ][:2]
    for ours, theirs in zip((m1, m2), recorded):
        assert (ours.architecture, ours.operating_system) == (
            theirs.get("architecture"),
            theirs.get("os"),
        )
        if theirs.get("architecture") == "unknown":
            # A value the enum does not know stays a plain string.
            assert type(ours.architecture) is str
    assert "unknown" in {r.get("architecture") for r in recorded}
    assert transport.requests[1][2] == (
        ("last", "sha256:085e87951950ac62a771af158d4d8275505088897a0e520a8a5bd582343631b0"),
        ("n", "1"),
    )


def test_tags_by_page() -> None:
    c, _ = client(JS / "recording_should_list_tags_by_pages.json")
    pages = c.list_tag_properties("library/hello-world", results_per_page=1).by_page()
    (t1,) = list(next(pages))
    (t2,) = list(next(pages))
    assert t1.digest == "sha256:d1b0b5888fbb59111dbf2b3ed698489c41046cb9d6d61743e37ef8d9f3dda06f"
    assert t1.repository_name == "library/hello-world"
    assert t1.can_delete is True and t1.can_write is True
    assert t2.created_on.year == 2024


def test_tag_and_manifest_properties_of_a_manifest_list() -> None:
    recording = (
        PY / "test_anon_access.pyTestContainerRegistryClienttest_get_manifest_properties.json"
    )
    c, _ = client(recording)
    tag = c.get_tag_properties("library/hello-world", "latest")
    assert tag.name == "latest" and tag.digest.startswith("sha256:6e8b6f02")
    manifest = c.get_manifest_properties("library/hello-world", "latest")
    recorded = next(
        e["ResponseBody"]["manifest"]
        for e in json.loads(recording.read_text())["Entries"]
        if e["StatusCode"] == 200 and "/_manifests/" in e["RequestUri"]
    )
    assert manifest.digest == recorded["digest"]
    assert manifest.tags == recorded["tags"]
    assert manifest.size_in_bytes == recorded["imageSize"]
    assert manifest.media_type == recorded["mediaType"]
    related = [(r.digest, r.architecture, r.operating_system) for r in manifest.related_artifacts]
    assert related == [(r["digest"], r["architecture"], r["os"]) for r in recorded["references"]]
