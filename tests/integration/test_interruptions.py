"""Connections cut in the middle of uploads and downloads (a TCP proxy between the client and
the test bed resets them at chosen byte offsets). Each transfer ends in the correct blob, or
in a clear error when it cannot; the tests assert what was sent again."""

from __future__ import annotations

import io
import logging
import os
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

import azurecr
from azurecr import BlobUploadError
from azurecr.aio import ContainerRegistryClient as AsyncClient
from tests.faults import FaultProxy
from tests.testbed import TestBed

from ._clients import AsyncTestbedCredential, TestbedCredential
from ._content import unique_repository
from ._sources import leftovers, payload, sha256

MiB = 1024 * 1024
CHUNK = MiB
#: TLS records, HTTP headers and the token requests on top of the blob bytes.
OVERHEAD = 64 * 1024


@pytest.fixture(autouse=True)
def _quiet_azure_core(caplog: pytest.LogCaptureFixture) -> None:
    # azure-core logs "Unable to stream download" on every cut; the client resumes.
    caplog.set_level(logging.CRITICAL, logger="azure.core")


@pytest.fixture
def proxy(testbed: TestBed) -> Iterator[FaultProxy]:
    with FaultProxy.to(testbed.endpoint) as p:
        yield p


@pytest.fixture
def client(testbed: TestBed, proxy: FaultProxy) -> Iterator[azurecr.ContainerRegistryClient]:
    with azurecr.ContainerRegistryClient(
        proxy.url, TestbedCredential(testbed), connection_verify=testbed.ca_path
    ) as c:
        c.upload_blob("interruptions/warm", b"warm")  # tokens and a pooled connection
        yield c


@pytest.fixture
async def aclient(testbed: TestBed, proxy: FaultProxy) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(
        proxy.url, AsyncTestbedCredential(testbed), connection_verify=testbed.ca_path
    ) as c:
        await c.upload_blob("interruptions/warm", b"warm")
        yield c


def _sent(bed: TestBed) -> list[tuple[str, int, int]]:
    return [
        (t["method"], t["status"], t["body_bytes"])
        for t in bed.traffic(clear=True)
        if t["path"].startswith("/v2/")
    ]


def test_upload_cut_mid_chunk_restarts_a_file(
    testbed: TestBed, proxy: FaultProxy, client: azurecr.ContainerRegistryClient
) -> None:
    repo = unique_repository("cutup")
    data = payload(3 * CHUNK + 5)
    testbed.traffic(clear=True)
    up = proxy.bytes_up
    proxy.cut_next("up", after_bytes=CHUNK + CHUNK // 2)  # inside the second PATCH
    digest, size = client.upload_blob(repo, io.BytesIO(data), chunk_size=CHUNK)
    assert (digest, size) == (sha256(data), len(data))
    assert len(proxy.faults_fired) == 1
    sent = _sent(testbed)
    # distribution cannot resume a session that received part of a chunk: the status GET
    # finds it gone, and the file is sent again from its start, each chunk once
    statuses = [s for m, s, _ in sent if m == "GET"]
    assert statuses == [404]
    after = sent[[m for m, _, _ in sent].index("GET") + 1 :]
    assert [m for m, _, _ in after] == ["POST", "PATCH", "PATCH", "PATCH", "PUT"]
    assert sum(b for m, _, b in after if m in ("PATCH", "PUT")) == len(data)
    # re-sent: what went up before the cut (one and a half chunks)
    resent = proxy.bytes_up - up - len(data)
    assert CHUNK + CHUNK // 2 <= resent <= CHUNK + CHUNK // 2 + OVERHEAD
    assert client.download_blob(repo, digest).readall() == data


def test_upload_cut_mid_chunk_from_a_pipe_says_it_cannot_restart(
    testbed: TestBed, proxy: FaultProxy, client: azurecr.ContainerRegistryClient
) -> None:
    repo = unique_repository("cutpipe")
    data = payload(3 * CHUNK)
    r, w = os.pipe()

    def feed() -> None:
        with os.fdopen(w, "wb") as out:
            try:
                out.write(data)
            except BrokenPipeError:
                pass

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    proxy.cut_next("up", after_bytes=CHUNK + CHUNK // 2)
    with os.fdopen(r, "rb", buffering=0) as pipe:
        with pytest.raises(BlobUploadError, match="cannot be read again") as exc:
            client.upload_blob(repo, pipe, chunk_size=CHUNK)
    assert exc.value.offset >= CHUNK
    assert not client.blob_exists(repo, sha256(data))


def test_lost_answer_to_a_chunk(
    testbed: TestBed, proxy: FaultProxy, client: azurecr.ContainerRegistryClient
) -> None:
    """The registry took a whole PATCH but its answer was cut. The client asks where the
    upload stands; distribution only knows a session through the state token of the last
    Location the client saw, finds its offset stale and drops the session (ACR would answer
    the offset and the flow would resume; tests/unit/test_transfer.py covers that path), so
    the file is sent again from its start, exactly once more."""
    repo = unique_repository("cutanswer")
    data = payload(3 * CHUNK + 1)
    testbed.traffic(clear=True)
    up = proxy.bytes_up
    proxy.cut_next("down", after_bytes=0, min_bytes_up=CHUNK)
    digest, _ = client.upload_blob(repo, io.BytesIO(data), chunk_size=CHUNK)
    assert digest == sha256(data)
    assert len(proxy.faults_fired) == 1
    sent = _sent(testbed)
    methods = [m for m, _, _ in sent]
    assert methods[:3] == ["POST", "PATCH", "GET"] and sent[2][1] == 404
    assert methods[3:] == ["POST", "PATCH", "PATCH", "PATCH", "PUT"]
    assert CHUNK <= proxy.bytes_up - up - len(data) <= CHUNK + OVERHEAD


@pytest.mark.parametrize("concurrency", [1, 4])
def test_download_cut_resumes_where_it_broke(
    testbed: TestBed,
    proxy: FaultProxy,
    client: azurecr.ContainerRegistryClient,
    tmp_path: Path,
    concurrency: int,
) -> None:
    repo = unique_repository("cutdown")
    data = payload(4 * CHUNK + 3)
    digest, _ = client.upload_blob(repo, data)
    down = proxy.bytes_down
    # parallel parts are one chunk each: cut inside the first part either way
    proxy.cut_next("down", after_bytes=CHUNK // 3)
    target = tmp_path / "b.bin"
    assert client.download_blob_to_file(
        repo, digest, target, max_concurrency=concurrency, part_size=CHUNK
    ) == len(data)
    assert target.read_bytes() == data and leftovers(tmp_path) == []
    assert len(proxy.faults_fired) == 1
    # only what was in flight on the cut connection came twice (at most one read block)
    assert proxy.bytes_down - down - len(data) <= CHUNK + OVERHEAD


def test_stream_cut_resumes_with_a_range(
    proxy: FaultProxy, client: azurecr.ContainerRegistryClient
) -> None:
    repo = unique_repository("cutstream")
    data = payload(3 * CHUNK)
    digest, _ = client.upload_blob(repo, data)
    down = proxy.bytes_down
    proxy.cut_next("down", after_bytes=CHUNK)
    with client.download_blob(repo, digest) as stream:
        assert stream.readall() == data
    assert len(proxy.faults_fired) == 1
    # resumed with a Range from the last byte handed out: at most one read block again
    assert proxy.bytes_down - down - len(data) <= CHUNK + OVERHEAD


async def test_async_upload_and_download_survive_cuts(
    proxy: FaultProxy, aclient: AsyncClient, tmp_path: Path
) -> None:
    repo = unique_repository("acut")
    data = payload(3 * CHUNK + 7)
    # aiohttp may spread the chunks over pooled connections: cut inside the first one
    proxy.cut_next("up", after_bytes=CHUNK // 2)
    digest, _ = await aclient.upload_blob(repo, io.BytesIO(data), chunk_size=CHUNK)
    assert digest == sha256(data)
    assert [(e.kind, e.direction) for e in proxy.faults_fired] == [("cut", "up")]
    proxy.cut_next("down", after_bytes=0, min_bytes_up=CHUNK)
    assert await aclient.upload_blob(repo + "x", io.BytesIO(data), chunk_size=CHUNK) == (
        digest,
        len(data),
    )
    for concurrency in (1, 4):
        proxy.cut_next("down", after_bytes=CHUNK // 3)
        target = tmp_path / f"a{concurrency}.bin"
        await aclient.download_blob_to_file(
            repo, digest, target, max_concurrency=concurrency, part_size=CHUNK
        )
        assert target.read_bytes() == data
        assert len(proxy.faults_fired) == concurrency // 4 + 3, concurrency
    proxy.cut_next("down", after_bytes=CHUNK)
    async with await aclient.download_blob(repo, digest) as stream:
        assert await stream.readall() == data


def test_streamed_upload_cut_restarts_the_file(
    testbed: TestBed, proxy: FaultProxy, client: azurecr.ContainerRegistryClient
) -> None:
    repo = unique_repository("cutstreamed")
    data = payload(3 * CHUNK + 9)
    testbed.traffic(clear=True)
    up = proxy.bytes_up
    proxy.cut_next("up", after_bytes=2 * CHUNK)
    digest, size = client.upload_blob(repo, io.BytesIO(data))  # streamed: one PATCH
    assert (digest, size) == (sha256(data), len(data))
    assert len(proxy.faults_fired) == 1
    sent = _sent(testbed)
    # the cut PATCH, the status (distribution dropped the session), then a fresh stream
    assert [m for m, _, _ in sent][-4:] == ["GET", "POST", "PATCH", "PUT"]
    assert sent[-2][2] == len(data)
    assert 2 * CHUNK <= proxy.bytes_up - up - len(data) <= 2 * CHUNK + OVERHEAD
