"""Blob uploads and downloads through ``azurecr.ContainerRegistryClient`` against the real
test bed: round trips from every kind of source, what goes over the wire, verification,
redirects to blob storage, and what a failed download leaves behind (nothing)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from azure.core.exceptions import ResourceNotFoundError

import azurecr
from azurecr import DigestValidationError
from tests.testbed import TestBed

from ._clients import TestbedCredential
from ._content import unique_repository
from ._sources import CHUNK, KINDS, leftovers, payload, sha256, source

MiB = 1024 * 1024
SIZES = [0, 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17]


@pytest.fixture
def client(testbed: TestBed) -> Iterator[azurecr.ContainerRegistryClient]:
    with azurecr.ContainerRegistryClient(
        testbed.endpoint, TestbedCredential(testbed), connection_verify=testbed.ca_path
    ) as c:
        yield c


def _upload_bytes(traffic: list[dict]) -> int:
    return sum(t["body_bytes"] for t in traffic if t["method"] in ("PATCH", "PUT"))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("size", SIZES)
def test_round_trip(
    testbed: TestBed,
    client: azurecr.ContainerRegistryClient,
    tmp_path: Path,
    kind: str,
    size: int,
) -> None:
    repo = unique_repository("blobs")
    data = payload(size, seed=KINDS.index(kind))
    testbed.traffic(clear=True)
    with source(kind, data, tmp_path) as src:
        digest, n = client.upload_blob(repo, src, chunk_size=CHUNK)
    assert (digest, n) == (sha256(data), size)
    sent = testbed.traffic(clear=True)
    # every byte crossed the wire exactly once, in chunk-sized requests
    assert _upload_bytes(sent) == size
    patches = [t for t in sent if t["method"] == "PATCH"]
    assert all(t["body_bytes"] == CHUNK for t in patches)
    assert len(patches) == max(0, -(-size // CHUNK) - 1)

    with client.download_blob(repo, digest) as stream:
        assert stream.size == size
        assert stream.readall() == data
    target = tmp_path / "out.bin"
    assert client.download_blob_to_file(repo, digest, target, part_size=CHUNK) == size
    assert target.read_bytes() == data
    assert leftovers(tmp_path) == []
    assert client.blob_exists(repo, digest)


@pytest.mark.parametrize("kind", KINDS)
def test_round_trip_100_mib(
    client: azurecr.ContainerRegistryClient, tmp_path: Path, kind: str
) -> None:
    repo = unique_repository("big")
    data = payload(100 * MiB, seed=KINDS.index(kind))
    with source(kind, data, tmp_path) as src:
        digest, size = client.upload_blob(repo, src)
    assert (digest, size) == (sha256(data), len(data))
    target = tmp_path / "big.bin"
    assert client.download_blob_to_file(repo, digest, target) == size
    assert target.read_bytes() == data


def test_stream_reads_iterates_and_readinto(
    client: azurecr.ContainerRegistryClient,
) -> None:
    repo = unique_repository("stream")
    data = payload(2 * MiB + 5)
    digest, _ = client.upload_blob(repo, data)
    with client.download_blob(repo, digest) as stream:
        head = stream.read(10)
        buf = bytearray(1000)
        n = stream.readinto(buf)
        rest = b"".join(stream)
    assert head + bytes(buf[:n]) + rest == data
    assert n == 1000


def test_upload_of_a_blob_the_registry_has_is_skipped(
    testbed: TestBed, client: azurecr.ContainerRegistryClient
) -> None:
    repo = unique_repository("skip")
    data = payload(300_000)
    first = client.upload_blob(repo, data)
    testbed.traffic(clear=True)
    assert client.upload_blob(repo, data) == first
    methods = [t["method"] for t in testbed.traffic(clear=True)]
    assert methods == ["HEAD"]
    # with the digest given, a stream is skipped too (it is not read)
    stream = io.BytesIO(data)
    assert client.upload_blob(repo, stream, digest=first[0]) == first
    assert stream.tell() == 0


def test_wrong_expected_digest_stores_nothing(
    testbed: TestBed, client: azurecr.ContainerRegistryClient
) -> None:
    repo = unique_repository("wrongdigest")
    data = payload(200_000)
    claimed = sha256(b"something else")
    with pytest.raises(DigestValidationError) as exc:
        client.upload_blob(repo, io.BytesIO(data), digest=claimed)
    assert exc.value.expected == claimed and exc.value.actual == sha256(data)
    assert not client.blob_exists(repo, sha256(data))
    assert not client.blob_exists(repo, claimed)
    # the abandoned session was cancelled, not left open
    assert any(t["method"] == "DELETE" for t in testbed.traffic())


def test_progress_hook_reports_every_chunk(client: azurecr.ContainerRegistryClient) -> None:
    repo = unique_repository("progress")
    data = payload(5 * CHUNK + 3)
    seen: list[tuple[int, int | None]] = []
    client.upload_blob(
        repo, io.BytesIO(data), chunk_size=CHUNK, progress_hook=lambda d, t: seen.append((d, t))
    )
    assert [d for d, _ in seen] == [CHUNK * i for i in range(1, 6)] + [len(data)]
    assert all(t == len(data) for _, t in seen)


def test_download_progress_is_monotonic(
    client: azurecr.ContainerRegistryClient, tmp_path: Path
) -> None:
    repo = unique_repository("dprogress")
    data = payload(5 * CHUNK + 3)
    digest, _ = client.upload_blob(repo, data)
    seen: list[tuple[int, int | None]] = []
    client.download_blob_to_file(
        repo,
        digest,
        tmp_path / "x",
        part_size=CHUNK,
        progress_hook=lambda d, t: seen.append((d, t)),
    )
    done = [d for d, _ in seen]
    assert done == sorted(done) and done[-1] == len(data)
    assert {t for _, t in seen} == {len(data)}


def test_tampered_blob_raises_and_leaves_no_file(
    client: azurecr.ContainerRegistryClient,
    tamper: Callable[[str | None], None],
    tmp_path: Path,
) -> None:
    repo = unique_repository("tamper")
    data = payload(3 * CHUNK)
    digest, _ = client.upload_blob(repo, data)
    tamper("blobs")
    for concurrency in (1, 4):
        target = tmp_path / f"t{concurrency}.bin"
        with pytest.raises(DigestValidationError) as exc:
            client.download_blob_to_file(
                repo, digest, target, max_concurrency=concurrency, part_size=CHUNK
            )
        assert exc.value.expected == digest and exc.value.actual != digest
        assert not target.exists()
        assert leftovers(tmp_path) == []
    with pytest.raises(DigestValidationError):
        with client.download_blob(repo, digest) as stream:
            stream.readall()
    # an existing file at the target is not replaced by unverified bytes
    keep = tmp_path / "keep.bin"
    keep.write_bytes(b"previous")
    with pytest.raises(DigestValidationError):
        client.download_blob_to_file(repo, digest, keep)
    assert keep.read_bytes() == b"previous"


def test_redirect_to_storage_carries_no_token(
    client: azurecr.ContainerRegistryClient, blob_redirect: TestBed, tmp_path: Path
) -> None:
    bed = blob_redirect
    repo = unique_repository("redirect")
    data = payload(4 * CHUNK + 9)
    digest, _ = client.upload_blob(repo, data)
    bed.storage_traffic(clear=True)
    bed.traffic(clear=True)
    target = tmp_path / "r.bin"
    assert client.download_blob_to_file(repo, digest, target, part_size=CHUNK) == len(data)
    assert target.read_bytes() == data
    with client.download_blob(repo, digest) as stream:
        assert stream.readall() == data
    storage = bed.storage_traffic(clear=True)
    assert storage, "the downloads did not go to storage"
    assert not any(t["authorization"] for t in storage)
    assert all(t["status"] in (200, 206) for t in storage)
    # the parallel download asked the registry once and then went straight to storage
    registry_gets = [
        t for t in bed.traffic(clear=True) if t["method"] == "GET" and "/blobs/" in t["path"]
    ]
    assert len(registry_gets) == 2
    assert len(storage) == 5 + 1


def test_missing_blob(client: azurecr.ContainerRegistryClient, tmp_path: Path) -> None:
    repo = unique_repository("missing")
    client.upload_blob(repo, b"x")
    digest = sha256(b"never uploaded")
    assert not client.blob_exists(repo, digest)
    with pytest.raises(ResourceNotFoundError):
        client.download_blob(repo, digest)
    with pytest.raises(ResourceNotFoundError):
        client.download_blob_to_file(repo, digest, tmp_path / "m")
    assert list(tmp_path.iterdir()) == []
    client.delete_blob(repo, digest)  # absent: succeeds


def test_mount_and_delete(testbed: TestBed, client: azurecr.ContainerRegistryClient) -> None:
    source_repo, target_repo = unique_repository("mfrom"), unique_repository("mto")
    data = payload(150_000)
    digest, _ = client.upload_blob(source_repo, data)
    testbed.traffic(clear=True)
    assert client.mount_blob(target_repo, digest, source_repo)
    sent = testbed.traffic(clear=True)
    assert sum(t["body_bytes"] for t in sent if t["path"].startswith("/v2/")) == 0
    assert client.blob_exists(target_repo, digest)
    assert not client.mount_blob(target_repo, sha256(b"nowhere"), source_repo)
    client.delete_blob(target_repo, digest)
    client.delete_blob(target_repo, digest)
    assert not client.blob_exists(target_repo, digest)
    assert client.blob_exists(source_repo, digest)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda c: c.upload_blob("../x", b"a"), ValueError),
        (lambda c: c.upload_blob("UPPER", b"a"), ValueError),
        (lambda c: c.upload_blob("", b"a"), ValueError),
        (lambda c: c.upload_blob("ok", "text"), TypeError),
        (lambda c: c.upload_blob("ok", None), TypeError),
        (lambda c: c.upload_blob("ok", io.StringIO("text")), TypeError),
        (lambda c: c.upload_blob("ok", b"a", chunk_size=10), ValueError),
        (lambda c: c.upload_blob("ok", b"a", digest="sha256:abc"), ValueError),
        (lambda c: c.download_blob("ok", "sha256:XYZ"), ValueError),
        (lambda c: c.download_blob("ok", "md5:" + "0" * 32), ValueError),
        (lambda c: c.download_blob_to_file("ok", sha256(b""), "x", max_concurrency=0), ValueError),
        (lambda c: c.blob_exists("ok", None), TypeError),
        (lambda c: c.delete_blob("a//b", sha256(b"")), ValueError),
        (lambda c: c.mount_blob("ok", sha256(b""), "Bad"), ValueError),
    ],
)
def test_bad_input_fails_before_any_request(
    testbed: TestBed, client: azurecr.ContainerRegistryClient, call: Callable, error: type
) -> None:
    testbed.traffic(clear=True)
    with pytest.raises(error):
        call(client)
    assert testbed.traffic(clear=True) == []


@pytest.mark.parametrize("use_async", [False, True])
def test_logs_carry_neither_token_nor_sas_signature(
    blob_redirect: TestBed, tmp_path: Path, caplog: pytest.LogCaptureFixture, use_async: bool
) -> None:
    import asyncio
    import logging
    from urllib.parse import parse_qs, quote

    from azurecr.aio import ContainerRegistryClient as AsyncClient

    from ._clients import AsyncTestbedCredential

    bed = blob_redirect
    repo = unique_repository("logs")
    data = payload(3 * CHUNK)
    caplog.set_level(logging.DEBUG)
    if use_async:

        async def run() -> None:
            async with AsyncClient(
                bed.endpoint,
                AsyncTestbedCredential(bed),
                connection_verify=bed.ca_path,
                logging_enable=True,
            ) as c:
                digest, _ = await c.upload_blob(repo, data)
                await c.download_blob_to_file(repo, digest, tmp_path / "l", part_size=CHUNK)

        asyncio.run(run())
    else:
        with azurecr.ContainerRegistryClient(
            bed.endpoint, TestbedCredential(bed), connection_verify=bed.ca_path, logging_enable=True
        ) as c:
            digest, _ = c.upload_blob(repo, data)
            c.download_blob_to_file(repo, digest, tmp_path / "l", part_size=CHUNK)
    storage = bed.storage_traffic(clear=True)
    assert storage
    signatures = {parse_qs(t["query"])["sig"][0] for t in storage}
    text = caplog.text
    assert "sig=REDACTED" in text  # the redirect and the storage requests were logged
    for sig in signatures:
        assert sig not in text and quote(sig, safe="") not in text
    assert "Bearer ey" not in text


@pytest.mark.parametrize("size", [0, 1, 3 * MiB + 5])
def test_seekable_sources_stream_in_one_patch(
    testbed: TestBed, client: azurecr.ContainerRegistryClient, tmp_path: Path, size: int
) -> None:
    repo = unique_repository("streamed")
    data = payload(size, seed=99)
    testbed.traffic(clear=True)
    seen: list[int] = []
    with source("file", data, tmp_path) as src:
        assert client.upload_blob(repo, src, progress_hook=lambda d, t: seen.append(d)) == (
            sha256(data),
            size,
        )
    sent = [
        (t["method"], t["body_bytes"])
        for t in testbed.traffic(clear=True)
        if t["path"].startswith("/v2/") and t["status"] != 401  # a fresh client's challenge
    ]
    assert sent == [("POST", 0), ("PATCH", size), ("PUT", 0)]
    assert seen[-1] == size and seen == sorted(seen)
    assert client.download_blob(repo, sha256(data)).readall() == data


def test_a_known_digest_sends_the_blob_in_one_put(
    testbed: TestBed, client: azurecr.ContainerRegistryClient, tmp_path: Path
) -> None:
    # what docker push does with a layer it knows: POST a session, PUT ?digest= the bytes
    repo = unique_repository("monolithic")
    data = payload(3 * CHUNK + 11, seed=7)
    client.blob_exists(repo, sha256(b"warm the token"))
    testbed.traffic(clear=True)
    with source("file", data, tmp_path) as src:
        assert client.upload_blob(repo, src, digest=sha256(data)) == (sha256(data), len(data))
    sent = [
        (t["method"], t["body_bytes"])
        for t in testbed.traffic(clear=True)
        if t["path"].startswith("/v2/") and t["status"] != 401
    ]
    assert sent == [("HEAD", 0), ("POST", 0), ("PUT", len(data))]
    assert client.download_blob(repo, sha256(data)).readall() == data
