"""Hostile server responses (issue 7): a scripted registry that lies, truncates, loops and
redirects. Each case must end in a specific, documented exception, quickly (no hang), with
no credential sent to another origin and no file written.

Every case runs with the sync and the async client (their I/O is written twice). A second
scripted server on ``localhost`` plays "another origin"; it records every request, and the
``servers`` fixture fails the test if any credential (an ``Authorization`` header, the AAD
token, the password, a refresh or access token) reached it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable, Optional

import pytest
from aiohttp import web
from azure.core.credentials import AccessToken, AzureNamedKeyCredential
from azure.core.exceptions import (
    ClientAuthenticationError,
    DeserializationError,
    HttpResponseError,
    IncompleteReadError,
    ServiceResponseError,
    TooManyRedirectsError,
)

import azurecr
import azurecr.aio
from azurecr import DigestValidationError, ManifestTooLargeError
from azurecr._transfer import MAX_RECOVERIES
from tests.reliability._hostile_server import (
    AAD_TOKEN,
    PASSWORD,
    AcrAuth,
    HostileServer,
    access_jwt,
)
from tests.reliability._report import record
from tests.testbed import TestBed

MODES = ["sync", "async"]
#: A call that takes longer than this has hung.
DEADLINE = 30.0
REPO = "hostile/repo"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
BLOB = os.urandom(300 * 1024 + 17)


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


BLOB_DIGEST = sha256(BLOB)
MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": sha256(b"{}"),
            "size": 2,
        },
        "layers": [],
    },
    separators=(",", ":"),
).encode()


# ----------------------------------------------------------------------------- clients
class SyncCredential:
    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(AAD_TOKEN, int(time.time()) + 3600)


class AsyncCredential:
    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(AAD_TOKEN, int(time.time()) + 3600)

    async def close(self) -> None:
        return None


def _credential(kind: str, mode: str) -> Any:
    if kind == "basic":
        return AzureNamedKeyCredential("user", PASSWORD)
    if kind == "anonymous":
        return None
    return SyncCredential() if mode == "sync" else AsyncCredential()


CLIENT_OPTIONS: dict[str, Any] = {
    "connection_timeout": 5,
    "read_timeout": 5,
    "retry_total": 2,
    "retry_backoff_factor": 0.01,
}


def _sync_op(client: azurecr.ContainerRegistryClient, op: str, args: tuple[Any, ...],
             kwargs: dict[str, Any]) -> Any:
    if op == "readall":
        with client.download_blob(*args, **kwargs) as stream:
            return stream.readall()
    if op.startswith("list_"):
        return list(getattr(client, op)(*args, **kwargs))
    if op.startswith("twice:"):
        getattr(client, op[6:])(*args, **kwargs)
        op = op[6:]
    return getattr(client, op)(*args, **kwargs)


async def _async_op(client: azurecr.aio.ContainerRegistryClient, op: str,
                    args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    if op == "readall":
        stream = await client.download_blob(*args, **kwargs)
        async with stream:
            return await stream.readall()
    if op.startswith("list_"):
        return [item async for item in getattr(client, op)(*args, **kwargs)]
    if op.startswith("twice:"):
        await getattr(client, op[6:])(*args, **kwargs)
        op = op[6:]
    return await getattr(client, op)(*args, **kwargs)


async def call(
    mode: str,
    bed: TestBed,
    endpoint: str,
    op: str,
    *args: Any,
    credential: str = "aad",
    **kwargs: Any,
) -> Any:
    """Run ``client.<op>(*args, **kwargs)`` with a fresh sync or async client; fail the test
    if it does not return (or raise) within ``DEADLINE`` seconds."""
    options = dict(CLIENT_OPTIONS, connection_verify=bed.ca_path)
    if mode == "async":
        async def run_async() -> Any:
            async with azurecr.aio.ContainerRegistryClient(
                endpoint, _credential(credential, mode), **options
            ) as client:
                return await _async_op(client, op, args, kwargs)

        try:
            return await asyncio.wait_for(run_async(), DEADLINE)
        except asyncio.TimeoutError:
            pytest.fail(f"async {op} hung for {DEADLINE} s")

    outcome: dict[str, Any] = {}

    def run_sync() -> None:
        try:
            with azurecr.ContainerRegistryClient(
                endpoint, _credential(credential, mode), **options
            ) as client:
                outcome["value"] = _sync_op(client, op, args, kwargs)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=run_sync, daemon=True)
    thread.start()
    deadline = time.monotonic() + DEADLINE
    while thread.is_alive() and time.monotonic() < deadline:  # noqa: ASYNC110 - a thread
        await asyncio.sleep(0.01)
    if thread.is_alive():
        pytest.fail(f"sync {op} hung for {DEADLINE} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def tally(case: str, exc: BaseException) -> None:
    public = next(c for c in type(exc).__mro__ if not c.__name__.startswith("_"))
    record("hostile responses", f"{case}: {public.__name__}")


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


# ----------------------------------------------------------------------------- servers
class Servers:
    def __init__(self, registry: HostileServer, other: HostileServer, auth: AcrAuth) -> None:
        self.registry = registry
        self.other = other
        self.auth = auth

    @property
    def endpoint(self) -> str:
        return self.registry.endpoint

    def get(self, path: str, handler: Any) -> None:
        self.registry.route("GET", path, handler)


@pytest.fixture
def servers(testbed: TestBed) -> Iterator[Servers]:
    """The hostile registry (token auth on its own origin) and another origin; after the
    test, no credential may have reached the other origin."""
    with HostileServer(testbed) as registry, HostileServer(testbed, host="localhost") as other:
        auth = AcrAuth(registry).install()
        yield Servers(registry, other, auth)
        leaked = [s for s in other.seen if s.carries_secret()]
        assert not leaked, f"credentials reached another origin: {leaked}"


@pytest.fixture(autouse=True)
def _no_preallocation(monkeypatch: pytest.MonkeyPatch) -> None:
    """No download may reserve disk space from a size the server announced."""

    def refuse(*args: Any) -> None:
        raise AssertionError(f"a download tried to preallocate: {args}")

    for name in ("posix_fallocate", "ftruncate", "truncate"):
        if hasattr(os, name):
            monkeypatch.setattr(os, name, refuse)


def manifest_handler(
    body: bytes,
    *,
    digest: Optional[str] = None,
    content_type: str = OCI_MANIFEST,
    announce_length: bool = True,
) -> Any:
    async def handler(request: web.Request) -> web.StreamResponse:
        headers = {"Content-Type": content_type}
        if digest is not None:
            headers["Docker-Content-Digest"] = digest
        response = web.StreamResponse(headers=headers)
        if announce_length:
            response.content_length = len(body)
        else:
            response.enable_chunked_encoding()
        await response.prepare(request)
        for i in range(0, len(body), 64 * 1024):
            await response.write(body[i : i + 64 * 1024])
        await response.write_eof()
        return response

    return handler


_RANGE = re.compile(r"bytes=(\d+)-(\d*)")


def blob_handler(
    content: bytes,
    *,
    total: Optional[int] = None,
    send: Optional[Callable[[int, int], int]] = None,
    honour_range: bool = True,
    range_start_lie: int = 0,
    chunked: bool = False,
    past_the_end: str = "416",
) -> Any:
    """A blob GET: honours ``Range`` (206 + ``Content-Range``) unless told not to.

    :param total: the size to announce (default: the real size); ranges past the real
        content answer 416.
    :param send: ``send(start, length) -> bytes actually sent`` before the connection is
        closed (default: all of them).
    :param range_start_lie: added to the start the ``Content-Range`` claims.
    :param chunked: no ``Content-Length``; a short body then ends cleanly (last chunk sent).
    :param past_the_end: how to answer a range past the real content (when ``total`` is
        larger): ``"416"``, or ``"cut"`` (a 206 that closes before its first byte).
    """
    size = len(content) if total is None else total

    async def handler(request: web.Request) -> web.StreamResponse:
        start, end = 0, size - 1
        ranged = False
        match = _RANGE.fullmatch(request.headers.get("Range", ""))
        if match and honour_range:
            ranged = True
            start = int(match.group(1))
            if match.group(2):
                end = min(int(match.group(2)), size - 1)
            if start >= len(content) and past_the_end == "416":
                return web.Response(status=416, headers={"Content-Range": f"bytes */{size}"})
        length = end - start + 1
        headers = {"Docker-Content-Digest": BLOB_DIGEST, "Content-Type": "application/octet-stream"}
        if ranged:
            first = start + range_start_lie
            headers["Content-Range"] = f"bytes {first}-{first + length - 1}/{size}"
        response = web.StreamResponse(status=206 if ranged else 200, headers=headers)
        n = length if send is None else send(start, length)
        piece = content[start : start + min(n, length)]
        if chunked:
            response.enable_chunked_encoding()
            await response.prepare(request)
            await response.write(piece)
            await response.write_eof()
            return response
        response.content_length = length
        if len(piece) < length:
            response.force_close()
        await response.prepare(request)
        for i in range(0, len(piece), 64 * 1024):
            await response.write(piece[i : i + 64 * 1024])
        if len(piece) < length:
            # the connection ends before the announced length
            assert request.transport is not None
            request.transport.close()
            return response
        await response.write_eof()
        return response

    return handler


#: What a body that keeps breaking off raises once the resumes are spent: azure-core's own
#: exception for a broken read, which differs between its requests and aiohttp transports.
TRUNCATION: dict[str, type[Exception]] = {
    "sync": ServiceResponseError,
    "async": IncompleteReadError,
}
BLOB_PATH = f"/v2/{REPO}/blobs/{BLOB_DIGEST}"
DOWNLOADS = [
    pytest.param("readall", {}, id="readall"),
    pytest.param("download_blob_to_file", {"max_concurrency": 1}, id="to_file-c1"),
    pytest.param(
        "download_blob_to_file", {"max_concurrency": 4, "part_size": 64 * 1024}, id="to_file-c4"
    ),
]


async def download(
    mode: str, bed: TestBed, servers: Servers, op: str, options: dict[str, Any], tmp: Path
) -> Any:
    if op == "readall":
        return await call(mode, bed, servers.endpoint, "readall", REPO, BLOB_DIGEST)
    target = tmp / "blob.bin"
    return await call(mode, bed, servers.endpoint, op, REPO, BLOB_DIGEST, target, **options)


def blob_gets(servers: Servers) -> int:
    return sum(1 for s in servers.registry.seen if s.method == "GET" and s.path == BLOB_PATH)


# ============================================================================ manifests
@pytest.mark.parametrize("mode", MODES)
async def test_wrong_docker_content_digest_on_a_tag(
    mode: str, testbed: TestBed, servers: Servers
) -> None:
    servers.get(
        f"/v2/{REPO}/manifests/v1", manifest_handler(MANIFEST, digest=sha256(b"other bytes"))
    )
    with pytest.raises(DigestValidationError) as info:
        await call(mode, testbed, servers.endpoint, "get_manifest", REPO, "v1")
    assert info.value.expected == sha256(b"other bytes")
    assert info.value.actual == sha256(MANIFEST)
    tally("wrong Docker-Content-Digest (get_manifest by tag)", info.value)


@pytest.mark.parametrize("mode", MODES)
async def test_manifest_body_not_matching_the_requested_digest(
    mode: str, testbed: TestBed, servers: Servers
) -> None:
    wanted = sha256(MANIFEST)
    tampered = MANIFEST.replace(b'"layers":[]', b'"layers":[ ]')
    # the header agrees with the request: only the bytes betray the lie
    servers.get(f"/v2/{REPO}/manifests/{wanted}", manifest_handler(tampered, digest=wanted))
    with pytest.raises(DigestValidationError) as info:
        await call(mode, testbed, servers.endpoint, "get_manifest", REPO, wanted)
    assert (info.value.expected, info.value.actual) == (wanted, sha256(tampered))
    tally("manifest body not matching its digest", info.value)


@pytest.mark.parametrize("announce_length", [True, False], ids=["length", "chunked"])
@pytest.mark.parametrize("mode", MODES)
async def test_manifest_of_5_mib(
    mode: str, announce_length: bool, testbed: TestBed, servers: Servers
) -> None:
    body = json.dumps({"schemaVersion": 2, "pad": "x" * (5 * 1024 * 1024)}).encode()
    servers.get(
        f"/v2/{REPO}/manifests/big",
        manifest_handler(body, digest=sha256(body), announce_length=announce_length),
    )
    with pytest.raises(ManifestTooLargeError) as info:
        await call(mode, testbed, servers.endpoint, "get_manifest", REPO, "big")
    tally("5 MiB manifest", info.value)


@pytest.mark.parametrize("by", ["tag", "digest"])
@pytest.mark.parametrize("mode", MODES)
async def test_invalid_json_manifest(
    mode: str, by: str, testbed: TestBed, servers: Servers
) -> None:
    body = b'{"schemaVersion": 2, "mediaType": "' + OCI_MANIFEST.encode() + b'", "layers": ['
    reference = "v1" if by == "tag" else sha256(body)
    servers.get(f"/v2/{REPO}/manifests/{reference}", manifest_handler(body, digest=sha256(body)))
    with pytest.raises(ValueError, match="not JSON") as info:
        await call(mode, testbed, servers.endpoint, "get_manifest", REPO, reference)
    assert not isinstance(info.value, DigestValidationError)
    tally("invalid JSON manifest", info.value)


@pytest.mark.parametrize("mode", MODES)
async def test_manifest_that_is_a_json_list(
    mode: str, testbed: TestBed, servers: Servers
) -> None:
    body = b'[{"schemaVersion": 2}]'
    servers.get(f"/v2/{REPO}/manifests/v1", manifest_handler(body, digest=sha256(body)))
    with pytest.raises(ValueError, match="not a JSON object") as info:
        await call(mode, testbed, servers.endpoint, "get_manifest", REPO, "v1")
    tally("manifest of the wrong shape (a JSON list)", info.value)


@pytest.mark.parametrize(
    "document",
    [
        {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": "not a list"},
        {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [1, None, "x"]},
        {"schemaVersion": "two", "mediaType": OCI_MANIFEST, "config": [], "layers": {}},
        {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": {"digest": 5}, "layers": [[]]},
    ],
    ids=["index-manifests-string", "index-manifests-scalars", "manifest-types", "descriptor"],
)
@pytest.mark.parametrize("mode", MODES)
async def test_manifest_of_the_wrong_shape_keeps_the_verified_document(
    mode: str, document: dict[str, Any], testbed: TestBed, servers: Servers
) -> None:
    # Verified bytes that do not fit the typed model: the result keeps the dict (parity
    # with azure-containerregistry, which returns any verified JSON) and has no model.
    body = json.dumps(document).encode()
    servers.get(
        f"/v2/{REPO}/manifests/v1",
        manifest_handler(body, digest=sha256(body), content_type=str(document["mediaType"])),
    )
    result = await call(mode, testbed, servers.endpoint, "get_manifest", REPO, "v1")
    assert result.manifest == document and result.content == body
    assert result.model is None
    record("hostile responses", "manifest of the wrong shape (an index with bad manifests): "
           "model None, dict kept")


# ============================================================================= listings
CATALOG_SHAPES = [
    pytest.param([], id="list"),
    pytest.param("a string", id="string"),
    pytest.param({"repositories": "abc"}, id="repositories-string"),
    pytest.param({"repositories": ["a", None]}, id="repositories-null"),
    pytest.param({"repositories": {"a": 1}}, id="repositories-object"),
]


@pytest.mark.parametrize("body", CATALOG_SHAPES)
@pytest.mark.parametrize("mode", MODES)
async def test_listing_of_the_wrong_shape(
    mode: str, body: Any, testbed: TestBed, servers: Servers
) -> None:
    async def catalog(request: web.Request) -> web.StreamResponse:
        return web.json_response(body)

    servers.get("/acr/v1/_catalog", catalog)
    with pytest.raises(DeserializationError) as info:
        await call(mode, testbed, servers.endpoint, "list_repository_names")
    tally("listing of the wrong shape (list_repository_names)", info.value)


PROPERTIES_SHAPES = [
    pytest.param([], id="list"),
    pytest.param("a string", id="string"),
    pytest.param({"changeableAttributes": "writable"}, id="attributes-string"),
    pytest.param({"createdTime": "yesterday", "lastUpdateTime": 5}, id="dates"),
]


@pytest.mark.parametrize("body", PROPERTIES_SHAPES)
@pytest.mark.parametrize("mode", MODES)
async def test_repository_properties_of_the_wrong_shape(
    mode: str, body: Any, testbed: TestBed, servers: Servers
) -> None:
    async def properties(request: web.Request) -> web.StreamResponse:
        return web.json_response(body)

    servers.get(f"/acr/v1/{REPO}", properties)
    with pytest.raises(DeserializationError) as info:
        await call(mode, testbed, servers.endpoint, "get_repository_properties", REPO)
    tally("properties of the wrong shape (get_repository_properties)", info.value)


DIGEST = sha256(b"x")
NULL_ENTRIES = [
    pytest.param("list_tag_properties", f"/acr/v1/{REPO}/_tags", {"tags": [None]}, id="tags"),
    pytest.param(
        "list_manifest_properties", f"/acr/v1/{REPO}/_manifests", {"manifests": [None]},
        id="manifests",
    ),
    pytest.param(
        "get_tag_properties", f"/acr/v1/{REPO}/_tags/v1", {"registry": "r", "tag": None},
        id="tag",
    ),
    pytest.param(
        "get_manifest_properties", f"/acr/v1/{REPO}/_manifests/{DIGEST}",
        {"registry": "r", "manifest": None}, id="manifest",
    ),
    pytest.param(
        "get_manifest_properties", f"/acr/v1/{REPO}/_manifests/{DIGEST}",
        {"registry": "r", "manifest": {"digest": DIGEST, "references": [None]}},
        id="manifest-references",
    ),
]


@pytest.mark.parametrize(("op", "path", "body"), NULL_ENTRIES)
@pytest.mark.parametrize("mode", MODES)
async def test_listing_and_properties_with_null_entries(
    mode: str, op: str, path: str, body: Any, testbed: TestBed, servers: Servers
) -> None:
    async def answer(request: web.Request) -> web.StreamResponse:
        return web.json_response(body)

    servers.get(path, answer)
    args = (REPO,) if op.startswith("list_") else (REPO, "v1" if "_tags" in path else DIGEST)
    with pytest.raises(DeserializationError) as info:
        await call(mode, testbed, servers.endpoint, op, *args)
    tally(f"null entries ({op})", info.value)


@pytest.mark.parametrize("target", ["other-host", "http-downgrade"])
@pytest.mark.parametrize("mode", MODES)
async def test_link_header_leaving_the_registry_is_not_followed(
    mode: str, target: str, testbed: TestBed, servers: Servers
) -> None:
    base = (
        servers.other.endpoint
        if target == "other-host"
        else servers.endpoint.replace("https://", "http://")
    )

    async def catalog(request: web.Request) -> web.StreamResponse:
        link = f'<{base}/acr/v1/_catalog?last=a&n=1>; rel="next"'
        return web.json_response({"repositories": ["a"]}, headers={"Link": link})

    servers.get("/acr/v1/_catalog", catalog)
    with pytest.raises(ValueError, match="leaves the registry origin") as info:
        await call(mode, testbed, servers.endpoint, "list_repository_names")
    assert servers.other.seen == []
    assert [p for p in servers.registry.paths() if p[1] == "/acr/v1/_catalog"] == [
        ("GET", "/acr/v1/_catalog"),
        ("GET", "/acr/v1/_catalog"),
    ]  # the 401 and the answered retry; the next link was not fetched
    tally(f"Link header to {target}", info.value)


# ================================================================================ blobs
@pytest.mark.parametrize(("op", "options"), DOWNLOADS)
@pytest.mark.parametrize("mode", MODES)
async def test_blob_body_not_matching_its_digest(
    mode: str, op: str, options: dict[str, Any], testbed: TestBed, servers: Servers,
    tmp_path: Path,
) -> None:
    tampered = bytearray(BLOB)
    tampered[len(BLOB) // 2] ^= 0xFF
    servers.get(BLOB_PATH, blob_handler(bytes(tampered)))
    with pytest.raises(DigestValidationError) as info:
        await download(mode, testbed, servers, op, options, tmp_path)
    assert (info.value.expected, info.value.actual) == (BLOB_DIGEST, sha256(bytes(tampered)))
    assert leftovers(tmp_path) == []
    tally(f"blob body not matching its digest ({op})", info.value)


@pytest.mark.parametrize(("op", "options"), DOWNLOADS)
@pytest.mark.parametrize("mode", MODES)
async def test_truncated_blob_body_every_time(
    mode: str, op: str, options: dict[str, Any], testbed: TestBed, servers: Servers,
    tmp_path: Path,
) -> None:
    # Content-Length says N; the connection closes after half of it, on every request
    servers.get(BLOB_PATH, blob_handler(BLOB, send=lambda start, length: max(1, length // 2)))
    with pytest.raises(TRUNCATION[mode]) as info:
        await download(mode, testbed, servers, op, options, tmp_path)
    assert leftovers(tmp_path) == []
    parts = 1 if op == "readall" or options["max_concurrency"] == 1 else 5
    assert blob_gets(servers) <= 1 + parts * (MAX_RECOVERIES + 1)  # bounded retries
    tally(f"truncated blob body ({op})", info.value)


@pytest.mark.parametrize(("op", "options"), DOWNLOADS)
@pytest.mark.parametrize("mode", MODES)
async def test_truncated_blob_body_ending_cleanly(
    mode: str, op: str, options: dict[str, Any], testbed: TestBed, servers: Servers,
    tmp_path: Path,
) -> None:
    # chunked answers whose last chunk comes early: no transport error, only fewer bytes
    servers.get(
        BLOB_PATH, blob_handler(BLOB, send=lambda start, length: length // 2, chunked=True)
    )
    with pytest.raises(DigestValidationError) as info:
        await download(mode, testbed, servers, op, options, tmp_path)
    assert leftovers(tmp_path) == []
    assert blob_gets(servers) <= 1 + 5 * (MAX_RECOVERIES + 1)
    tally(f"truncated blob body, clean end ({op})", info.value)


@pytest.mark.parametrize("lie", [5, -5])
@pytest.mark.parametrize(("op", "options"), DOWNLOADS)
@pytest.mark.parametrize("mode", MODES)
async def test_content_range_with_a_wrong_start(
    mode: str, op: str, options: dict[str, Any], lie: int, testbed: TestBed,
    servers: Servers, tmp_path: Path,
) -> None:
    # the whole-blob GET breaks off halfway; the ranged GETs (the resume, or the parallel
    # parts) are answered with a Content-Range that starts 5 bytes later (or earlier: for
    # the range at 0, an unreadable "bytes -5-...") than asked
    servers.get(
        BLOB_PATH,
        blob_handler(
            BLOB,
            send=lambda start, length: length // 2 if length == len(BLOB) else length,
            range_start_lie=lie,
        ),
    )
    with pytest.raises(HttpResponseError, match="range|Content-Range") as info:
        await download(mode, testbed, servers, op, options, tmp_path)
    assert leftovers(tmp_path) == []
    tally(f"Content-Range with a wrong start ({op})", info.value)


@pytest.mark.parametrize(("op", "options"), DOWNLOADS)
@pytest.mark.parametrize("mode", MODES)
async def test_content_range_with_a_smaller_total(
    mode: str, op: str, options: dict[str, Any], testbed: TestBed, servers: Servers,
    tmp_path: Path,
) -> None:
    servers.get(BLOB_PATH, blob_handler(BLOB, total=len(BLOB) - 1000))
    with pytest.raises(DigestValidationError) as info:
        await download(mode, testbed, servers, op, options, tmp_path)
    assert leftovers(tmp_path) == []
    tally(f"Content-Range/Length with a smaller total ({op})", info.value)


@pytest.mark.parametrize(("op", "options"), DOWNLOADS)
@pytest.mark.parametrize("mode", MODES)
async def test_content_range_with_a_larger_total(
    mode: str, op: str, options: dict[str, Any], testbed: TestBed, servers: Servers,
    tmp_path: Path,
) -> None:
    # announces 1 MiB more than there is; asked for the rest, the server answers 416
    servers.get(BLOB_PATH, blob_handler(BLOB, total=len(BLOB) + 1024 * 1024))
    with pytest.raises(HttpResponseError, match="Range Not Satisfiable") as info:
        await download(mode, testbed, servers, op, options, tmp_path)
    assert info.value.status_code == 416
    assert leftovers(tmp_path) == []
    assert blob_gets(servers) <= 1 + 5 * (MAX_RECOVERIES + 1)
    tally(f"Content-Range/Length with a larger total ({op})", info.value)


HUNDRED_GIB = 100 * 1024**3


@pytest.mark.parametrize(
    ("op", "options"),
    [
        *DOWNLOADS,
        pytest.param("download_blob_to_file", {"max_concurrency": 4}, id="to_file-c4-8MiB"),
    ],
)
@pytest.mark.parametrize("mode", MODES)
async def test_content_length_of_100_gib(
    mode: str, op: str, options: dict[str, Any], testbed: TestBed, servers: Servers,
    tmp_path: Path,
) -> None:
    # every answer announces a 100 GiB blob, sends what there really is and closes: the
    # client must neither reserve the space nor plan 1.6 million parts up front
    servers.get(BLOB_PATH, blob_handler(BLOB, total=HUNDRED_GIB, past_the_end="cut"))
    started = time.monotonic()
    with pytest.raises(TRUNCATION[mode]) as info:
        await download(mode, testbed, servers, op, options, tmp_path)
    assert time.monotonic() - started < 10
    assert leftovers(tmp_path) == []
    # the real parts once, then each worker's failing part a bounded number of times
    assert blob_gets(servers) <= 5 + 4 * (MAX_RECOVERIES + 1)
    tally(f"Content-Length of 100 GiB ({op})", info.value)


# ============================================================================== uploads
UPLOADS = f"/v2/{REPO}/blobs/uploads/"


def upload_location_server(servers: Servers, start_location: str, patch_location: str) -> None:
    async def start(request: web.Request) -> web.StreamResponse:
        return web.Response(status=202, headers={"Location": start_location, "Range": "0-0"})

    async def patch(request: web.Request) -> web.StreamResponse:
        return web.Response(status=202, headers={"Location": patch_location, "Range": "0-1"})

    async def put(request: web.Request) -> web.StreamResponse:
        return web.Response(status=201, headers={"Docker-Content-Digest": BLOB_DIGEST})

    servers.registry.route("POST", UPLOADS, start)
    servers.registry.route_prefix("PATCH", UPLOADS, patch)
    servers.registry.route_prefix("PUT", UPLOADS, put)
    servers.other.route_prefix("PATCH", "/", patch)
    servers.other.route_prefix("PUT", "/", put)


@pytest.mark.parametrize("step", ["start", "patch"])
@pytest.mark.parametrize("target", ["other-host", "http-downgrade", "scheme-relative"])
@pytest.mark.parametrize("mode", MODES)
async def test_upload_location_leaving_the_registry_is_refused(
    mode: str, target: str, step: str, testbed: TestBed, servers: Servers
) -> None:
    hostile = {
        "other-host": f"{servers.other.endpoint}{UPLOADS}evil?_state=x",
        "http-downgrade": f"{servers.endpoint.replace('https://', 'http://')}{UPLOADS}evil",
        "scheme-relative": f"//localhost:{servers.other.port}{UPLOADS}evil",
    }[target]
    good = f"{UPLOADS}session-1?_state=ok"
    upload_location_server(
        servers, hostile if step == "start" else good, hostile if step == "patch" else good
    )
    with pytest.raises(ValueError, match="another origin") as info:
        # chunks of 64 KiB: a PATCH follows the start, then the closing PUT
        await call(
            mode, testbed, servers.endpoint, "upload_blob", REPO, BLOB, chunk_size=64 * 1024
        )
    assert servers.other.seen == []
    methods = [m for m, p in servers.registry.paths() if p.startswith(UPLOADS)]
    # nothing was sent after the hostile Location: not the data, not the closing PUT
    assert methods.count("PATCH") == (0 if step == "start" else 1)
    assert "PUT" not in methods
    tally(f"upload Location to {target} (on {step})", info.value)


# ============================================================================ redirects
@pytest.mark.parametrize("loop", ["same-origin", "via-other-origin"])
@pytest.mark.parametrize(("op", "options"), DOWNLOADS)
@pytest.mark.parametrize("mode", MODES)
async def test_redirect_loop_on_blob_get(
    mode: str, op: str, options: dict[str, Any], loop: str, testbed: TestBed,
    servers: Servers, tmp_path: Path,
) -> None:
    back = f"{servers.endpoint}{BLOB_PATH}"
    away = f"{servers.other.endpoint}/storage/blob?sig=x" if loop != "same-origin" else back

    async def registry_blob(request: web.Request) -> web.StreamResponse:
        return web.Response(status=307, headers={"Location": away})

    async def storage_blob(request: web.Request) -> web.StreamResponse:
        return web.Response(status=307, headers={"Location": back})

    servers.get(BLOB_PATH, registry_blob)
    servers.other.route("GET", "/storage/blob", storage_blob)
    # On the registry's origin the loop runs until azure-core's redirect limit. Through
    # another origin, azure-core drops credentials for the rest of the redirect chain
    # (its SensitiveHeaderCleanupPolicy), so the hop back to the registry is refused.
    expected = TooManyRedirectsError if loop == "same-origin" else ClientAuthenticationError
    with pytest.raises(expected) as info:
        await download(mode, testbed, servers, op, options, tmp_path)
    assert leftovers(tmp_path) == []
    assert blob_gets(servers) <= 40  # azure-core follows at most 30 redirects
    if loop != "same-origin":
        assert servers.other.seen
        hops_back = [s for s in servers.registry.seen if s.path == BLOB_PATH][2:]
        assert hops_back and not any("Authorization" in s.headers for s in hops_back)
    tally(f"redirect loop on blob GET ({loop})", info.value)


# ================================================================================= auth
AUTH_OPS = [
    pytest.param("get_manifest", (REPO, "v1"), id="get_manifest"),
    pytest.param("readall", (REPO, BLOB_DIGEST), id="readall"),
    pytest.param("get_repository_properties", (REPO,), id="properties"),
]


def serve_content(servers: Servers) -> None:
    async def repo(request: web.Request) -> web.StreamResponse:
        return web.json_response({"registry": "r", "imageName": REPO})

    servers.get(f"/v2/{REPO}/manifests/v1", manifest_handler(MANIFEST, digest=sha256(MANIFEST)))
    servers.get(BLOB_PATH, blob_handler(BLOB))
    servers.get(f"/acr/v1/{REPO}", repo)


@pytest.mark.parametrize("credential", ["aad", "basic"])
@pytest.mark.parametrize(("op", "args"), AUTH_OPS)
@pytest.mark.parametrize("mode", MODES)
async def test_401_loop(
    mode: str, op: str, args: tuple[Any, ...], credential: str, testbed: TestBed,
    servers: Servers,
) -> None:
    # the registry issues tokens and keeps refusing them
    serve_content(servers)
    servers.auth.accept = lambda token: False
    with pytest.raises(ClientAuthenticationError) as info:
        await call(mode, testbed, servers.endpoint, op, *args, credential=credential)
    assert servers.auth.token_requests <= 4
    assert len(servers.registry.seen) <= 8
    tally(f"401 loop ({credential})", info.value)


@pytest.mark.parametrize("credential", ["aad", "basic"])
@pytest.mark.parametrize("realm", ["other-host", "http-downgrade"])
@pytest.mark.parametrize("mode", MODES)
async def test_realm_leaving_the_registry_gets_no_credential(
    mode: str, realm: str, credential: str, testbed: TestBed, servers: Servers
) -> None:
    serve_content(servers)
    servers.auth.realm = (
        f"{servers.other.endpoint}/oauth2/token"
        if realm == "other-host"
        else f"{servers.endpoint.replace('https://', 'http://')}/oauth2/token"
    )
    with pytest.raises(ClientAuthenticationError, match="refusing") as info:
        await call(mode, testbed, servers.endpoint, "get_manifest", REPO, "v1",
                   credential=credential)
    assert servers.other.seen == []
    assert servers.auth.token_requests == 0
    tally(f"token realm on {realm} ({credential})", info.value)


@pytest.mark.parametrize("mode", MODES)
async def test_anonymous_realm_on_another_host_sends_nothing_secret(
    mode: str, testbed: TestBed, servers: Servers
) -> None:
    # anonymous pull may follow a realm on another https host (no credential to leak);
    # that host not answering with a token is an authentication failure
    serve_content(servers)
    servers.auth.realm = f"{servers.other.endpoint}/oauth2/token"
    with pytest.raises(ClientAuthenticationError) as info:
        await call(mode, testbed, servers.endpoint, "get_manifest", REPO, "v1",
                   credential="anonymous")
    assert [(s.method, s.path) for s in servers.other.seen] == [("POST", "/oauth2/token")]
    tally("token realm on other-host (anonymous)", info.value)


@pytest.mark.parametrize("mode", MODES)
async def test_token_that_is_not_a_jwt_is_used_as_an_opaque_token(
    mode: str, testbed: TestBed, servers: Servers
) -> None:
    # OCI token servers may issue opaque tokens: the client cannot read an expiry, so it
    # uses the token and keeps it only for a conservative lifetime
    serve_content(servers)
    servers.auth.mint = lambda: f"opaque-SECRET-{time.time_ns()}"
    result = await call(mode, testbed, servers.endpoint, "get_manifest", REPO, "v1")
    assert result.digest == sha256(MANIFEST)
    record("hostile responses", "token that is not a JWT: used as an opaque token")


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(12345, id="number"),
        pytest.param("", id="empty"),
        pytest.param(None, id="null"),
        pytest.param({"token": "x"}, id="object"),
        pytest.param("abc\r\nX-Injected: 1", id="crlf"),
        pytest.param("abc def", id="space"),
        pytest.param("tok\u00e9n", id="non-ascii"),
    ],
)
@pytest.mark.parametrize("mode", MODES)
async def test_token_response_that_is_not_a_token(
    mode: str, token: Any, testbed: TestBed, servers: Servers
) -> None:
    serve_content(servers)
    servers.auth.mint = lambda: token
    with pytest.raises(ClientAuthenticationError) as info:
        await call(mode, testbed, servers.endpoint, "get_manifest", REPO, "v1")
    assert not any("X-Injected" in s.headers for s in servers.registry.seen)
    assert servers.auth.token_requests <= 4
    tally("token response that is not a token", info.value)


def _expired(token: str) -> bool:
    from azurecr._auth_flow import jwt_expiry

    exp = jwt_expiry(token)
    return exp is not None and exp < time.time()


@pytest.mark.parametrize("registry_checks_exp", [True, False], ids=["refused", "accepted"])
@pytest.mark.parametrize("mode", MODES)
async def test_token_with_exp_in_the_past(
    mode: str, registry_checks_exp: bool, testbed: TestBed, servers: Servers
) -> None:
    serve_content(servers)
    servers.auth.mint = lambda: access_jwt(lifetime=-3600)
    if registry_checks_exp:
        issued = servers.auth.issued
        servers.auth.accept = lambda token: token in issued and not _expired(token)
        with pytest.raises(ClientAuthenticationError) as info:
            await call(mode, testbed, servers.endpoint, "twice:get_manifest", REPO, "v1")
        assert servers.auth.token_requests <= 4  # exchange + token, and one retry
        tally("token with exp in the past (registry refuses it)", info.value)
        return
    # a registry that still takes it: the client uses it, but never caches it
    await call(mode, testbed, servers.endpoint, "twice:get_manifest", REPO, "v1")
    tokens = [s for s in servers.registry.seen if s.path == "/oauth2/token"]
    assert len(tokens) == 2  # one per call: the expired token was not reused
    record("hostile responses", "token with exp in the past (registry takes it): not cached")


@pytest.mark.parametrize(("op", "options"), DOWNLOADS)
@pytest.mark.parametrize("mode", MODES)
async def test_blob_redirect_downgrading_to_http_carries_no_credential(
    mode: str, op: str, options: dict[str, Any], testbed: TestBed, servers: Servers,
    tmp_path: Path,
) -> None:
    # ACR redirects blob GETs to storage; one that sends the client to plain http gets the
    # bytes (verified by their digest) but never the registry's token
    with HostileServer(testbed, host="127.0.0.1", tls=False) as plain:
        plain.route("GET", "/storage/blob", blob_handler(BLOB))

        async def registry_blob(request: web.Request) -> web.StreamResponse:
            return web.Response(
                status=307, headers={"Location": f"{plain.endpoint}/storage/blob?sig=x"}
            )

        servers.get(BLOB_PATH, registry_blob)
        result = await download(mode, testbed, servers, op, options, tmp_path)
        assert plain.seen and not any(s.carries_secret() for s in plain.seen)
    if op == "readall":
        assert result == BLOB
    else:
        assert (tmp_path / "blob.bin").read_bytes() == BLOB
    record("hostile responses", "blob redirect downgrading to http: no credential sent, verified")


def test_part_plan_is_lazy_and_matches_plan_ranges() -> None:
    # what keeps a 100 GiB (or petabyte) announcement from costing memory up front
    from azurecr._transfer import HashFrontier, PartPlan, plan_ranges

    for size, part in [(0, 4), (1, 4), (10, 4), (12, 4), (10**6 + 7, 65536)]:
        plan = PartPlan(size, part)
        assert list(plan) == plan_ranges(size, part) and len(plan) == len(plan_ranges(size, part))
        assert plan[1:3] == plan_ranges(size, part)[1:3]
    started = time.monotonic()
    huge = PartPlan(10**15, 64 * 1024)
    frontier = HashFrontier(huge)
    frontier.wrote(0, 64 * 1024)
    assert frontier.contiguous() == 64 * 1024
    assert huge[-1] == (huge[-1][0], 10**15)
    assert time.monotonic() - started < 0.1
