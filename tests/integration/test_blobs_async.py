"""The async client's blob transfers against the real test bed (twin of test_blobs.py), plus
async sources: async generators and objects with an async ``read``."""

from __future__ import annotations

import io
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import ResourceNotFoundError

from azurecr import DigestValidationError
from azurecr.aio import ContainerRegistryClient
from tests.testbed import TestBed

from ._clients import AsyncTestbedCredential
from ._content import unique_repository
from ._sources import CHUNK, KINDS, leftovers, payload, sha256, source

MiB = 1024 * 1024
SIZES = [0, 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17]
ASYNC_KINDS = (*KINDS, "async-generator", "async-reader")


@pytest.fixture
async def client(testbed: TestBed) -> AsyncIterator[ContainerRegistryClient]:
    async with ContainerRegistryClient(
        testbed.endpoint, AsyncTestbedCredential(testbed), connection_verify=testbed.ca_path
    ) as c:
        yield c


async def _agen(data: bytes) -> AsyncIterator[bytes]:
    for i in range(0, len(data), 10_000):
        yield data[i : i + 10_000]


class _AsyncReader:
    def __init__(self, data: bytes) -> None:
        self._f = io.BytesIO(data)

    async def read(self, n: int = -1) -> bytes:
        return self._f.read(min(n, 7_777) if n > 0 else n)


async def _upload(
    client: ContainerRegistryClient, repo: str, kind: str, data: bytes, tmp_path: Path, **kw: Any
) -> tuple[str, int]:
    if kind == "async-generator":
        return await client.upload_blob(repo, _agen(data), **kw)
    if kind == "async-reader":
        return await client.upload_blob(repo, _AsyncReader(data), **kw)
    with source(kind, data, tmp_path) as src:
        return await client.upload_blob(repo, src, **kw)


@pytest.mark.parametrize("kind", ASYNC_KINDS)
@pytest.mark.parametrize("size", SIZES)
async def test_round_trip(
    testbed: TestBed, client: ContainerRegistryClient, tmp_path: Path, kind: str, size: int
) -> None:
    repo = unique_repository("ablobs")
    data = payload(size, seed=ASYNC_KINDS.index(kind))
    testbed.traffic(clear=True)
    assert await _upload(client, repo, kind, data, tmp_path, chunk_size=CHUNK) == (
        sha256(data),
        size,
    )
    sent = testbed.traffic(clear=True)
    assert sum(t["body_bytes"] for t in sent if t["method"] in ("PATCH", "PUT")) == size
    assert len([t for t in sent if t["method"] == "PATCH"]) == max(0, -(-size // CHUNK) - 1)
    stream = await client.download_blob(repo, sha256(data))
    async with stream:
        assert stream.size == size
        assert await stream.readall() == data
    target = tmp_path / "out.bin"
    assert await client.download_blob_to_file(repo, sha256(data), target, part_size=CHUNK) == size
    assert target.read_bytes() == data
    assert leftovers(tmp_path) == []
    assert await client.blob_exists(repo, sha256(data))


@pytest.mark.parametrize("kind", ASYNC_KINDS)
async def test_round_trip_100_mib(
    client: ContainerRegistryClient, tmp_path: Path, kind: str
) -> None:
    repo = unique_repository("abig")
    data = payload(100 * MiB, seed=ASYNC_KINDS.index(kind))
    assert await _upload(client, repo, kind, data, tmp_path) == (sha256(data), len(data))
    target = tmp_path / "big.bin"
    assert await client.download_blob_to_file(repo, sha256(data), target) == len(data)
    assert target.read_bytes() == data
    chunks = []
    async with await client.download_blob(repo, sha256(data)) as stream:
        async for chunk in stream:
            chunks.append(chunk)
    assert b"".join(chunks) == data


async def test_tampered_blob_raises_and_leaves_no_file(
    client: ContainerRegistryClient, tamper: Callable[[str | None], None], tmp_path: Path
) -> None:
    repo = unique_repository("atamper")
    data = payload(3 * CHUNK)
    digest, _ = await client.upload_blob(repo, data)
    tamper("blobs")
    for concurrency in (1, 4):
        target = tmp_path / f"t{concurrency}.bin"
        with pytest.raises(DigestValidationError):
            await client.download_blob_to_file(
                repo, digest, target, max_concurrency=concurrency, part_size=CHUNK
            )
        assert not target.exists() and leftovers(tmp_path) == []
    with pytest.raises(DigestValidationError):
        async with await client.download_blob(repo, digest) as stream:
            await stream.readall()


async def test_redirect_to_storage_carries_no_token(
    client: ContainerRegistryClient, blob_redirect: TestBed, tmp_path: Path
) -> None:
    repo = unique_repository("aredirect")
    data = payload(4 * CHUNK + 9)
    digest, _ = await client.upload_blob(repo, data)
    blob_redirect.storage_traffic(clear=True)
    target = tmp_path / "r.bin"
    assert await client.download_blob_to_file(repo, digest, target, part_size=CHUNK) == len(data)
    assert target.read_bytes() == data
    storage = blob_redirect.storage_traffic(clear=True)
    assert len(storage) == 5 and not any(t["authorization"] for t in storage)


async def test_skip_mount_delete_missing(
    testbed: TestBed, client: ContainerRegistryClient, tmp_path: Path
) -> None:
    src_repo, dst_repo = unique_repository("amfrom"), unique_repository("amto")
    data = payload(100_000)
    digest, size = await client.upload_blob(src_repo, data)
    testbed.traffic(clear=True)
    assert await client.upload_blob(src_repo, data) == (digest, size)
    assert [t["method"] for t in testbed.traffic(clear=True)] == ["HEAD"]
    assert await client.mount_blob(dst_repo, digest, src_repo)
    assert await client.blob_exists(dst_repo, digest)
    await client.delete_blob(dst_repo, digest)
    await client.delete_blob(dst_repo, digest)
    assert not await client.blob_exists(dst_repo, digest)
    with pytest.raises(ResourceNotFoundError):
        await client.download_blob(dst_repo, digest)
    with pytest.raises(ResourceNotFoundError):
        await client.download_blob_to_file(dst_repo, digest, tmp_path / "gone")
    assert os.listdir(tmp_path) == []


async def test_bad_input_fails_before_any_request(
    testbed: TestBed, client: ContainerRegistryClient
) -> None:
    testbed.traffic(clear=True)
    with pytest.raises(ValueError):
        await client.upload_blob("../x", b"a")
    with pytest.raises(TypeError):
        await client.upload_blob("ok", "text")
    with pytest.raises(ValueError):
        await client.download_blob("ok", "sha256:nothex")
    with pytest.raises(ValueError):
        await client.download_blob_to_file("ok", sha256(b""), "x", max_concurrency=100)
    assert testbed.traffic(clear=True) == []


async def test_a_known_digest_sends_the_blob_in_one_put(
    testbed: TestBed, client: ContainerRegistryClient, tmp_path: Path
) -> None:
    repo = unique_repository("monolithic-async")
    data = payload(3 * CHUNK + 11, seed=8)
    await client.blob_exists(repo, sha256(b"warm the token"))
    testbed.traffic(clear=True)
    with source("file", data, tmp_path) as src:
        assert await client.upload_blob(repo, src, digest=sha256(data)) == (
            sha256(data),
            len(data),
        )
    sent = [
        (t["method"], t["body_bytes"])
        for t in testbed.traffic(clear=True)
        if t["path"].startswith("/v2/") and t["status"] != 401
    ]
    assert sent == [("HEAD", 0), ("POST", 0), ("PUT", len(data))]
    wrong = sha256(b"not these bytes")
    with source("file", data, tmp_path) as src, pytest.raises(DigestValidationError):
        await client.upload_blob(repo, src, digest=wrong)
    assert not await client.blob_exists(repo, wrong)
