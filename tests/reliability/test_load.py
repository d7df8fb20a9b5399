"""Load: 32 concurrent transfers through ONE client for a bounded time, as threads with the
sync client and as asyncio tasks with the async client. Every upload returns the data's
digest, every download returns (or writes) exactly the blob; afterwards the process's file
descriptors and memory are back near their baseline, taken after a warm-up round, and
closing the client releases its pooled connections.

Uploads go to a few shared repositories and to fresh ones (a new repository means a new
token while other transfers use theirs); downloads read blobs stored up front or by other
workers. Sizes are random up to 4 MiB; the run is seeded (``AZURECR_LOAD_SEED`` replays it).
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import hashlib
import io
import os
import random
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import azurecr
from azurecr._pipeline import POOL_SIZE
from azurecr.aio import ContainerRegistryClient as AsyncClient
from tests.integration._clients import AsyncTestbedCredential, TestbedCredential
from tests.integration._sources import leftovers
from tests.testbed import TestBed

from ._report import record

KiB = 1024
MiB = 1024 * KiB
WORKERS = 32
#: How long each kind of load runs (after its warm-up round).
LOAD_SECONDS = 8.0
#: A worker still busy this long after the load ended is hung.
GRACE = 60.0
MAX_SIZE = 4 * MiB
#: Pooled connections may stay open while the client is: at most the pool's size (the sync
#: client keeps up to POOL_SIZE idle connections to the one origin used here), plus a few.
#: A leak of one fd per transfer (hundreds of transfers) still fails; after close, all go.
FD_SLACK_OPEN = POOL_SIZE + 4
#: After the client is closed.
FD_SLACK_CLOSED = 2
RSS_SLACK = 64 * MiB
TIMEOUT = 20

SEED = int(os.environ.get("AZURECR_LOAD_SEED") or random.SystemRandom().randrange(1 << 32))
SHARED_REPOS = [f"load/shared-{i}" for i in range(4)]
OPS = ("upload", "upload", "download-file", "download-readall", "download-iterate")
SOURCES = ("bytes", "stream", "generator", "file")


@pytest.fixture(scope="module", autouse=True)
def _seed_in_tally() -> None:
    record("seeds", f"AZURECR_LOAD_SEED={SEED}")


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def rss() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * KiB
    raise AssertionError("no VmRSS in /proc/self/status")  # pragma: no cover


def _fixed_mmap_threshold() -> None:
    """Serve every allocation of 256 KiB or more (blob data, chunks, read buffers) with its
    own mmap, returned to the OS when freed. glibc otherwise raises its mmap threshold
    after such a block is freed (up to 32 MiB: after the 20 MiB blobs of the fault tests),
    and the same blocks then fragment the heap: RSS would measure the allocator's
    high-water mark rather than memory the client still holds."""
    try:
        ctypes.CDLL("libc.so.6").mallopt(-3, 256 * KiB)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        pass


def _trim() -> None:
    """Hand free heap pages back to the OS (glibc keeps them in per-thread arenas, and
    RSS would count memory nobody holds)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        pass


def settle() -> tuple[int, int]:
    """fds and RSS once garbage is collected (closed responses, finished threads) and
    free memory is returned to the OS."""
    for _ in range(3):
        gc.collect()
    time.sleep(0.2)
    gc.collect()
    _trim()
    return open_fds(), rss()


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def draw_size(rng: random.Random) -> int:
    r = rng.random()
    if r < 0.1:
        return rng.randrange(0, 1024)
    if r < 0.6:
        return rng.randrange(1024, 256 * KiB)
    return rng.randrange(256 * KiB, MAX_SIZE + 1)


@dataclass
class Blobs:
    """Blobs known to be stored: (repository, digest) -> the data, shared by the workers."""

    items: list[tuple[str, str, bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, repo: str, digest: str, data: bytes) -> None:
        with self.lock:
            self.items.append((repo, digest, data))
            if len(self.items) > 64:  # bounded: memory is measured
                del self.items[:16]

    def pick(self, rng: random.Random) -> tuple[str, str, bytes]:
        with self.lock:
            return rng.choice(self.items)


@dataclass
class Results:
    ok: dict[str, int] = field(default_factory=dict)
    bad: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def done(self, op: str) -> None:
        with self.lock:
            self.ok[op] = self.ok.get(op, 0) + 1

    def fail(self, what: str) -> None:
        with self.lock:
            self.bad.append(what)

    @property
    def total(self) -> int:
        return sum(self.ok.values())


def _pieces(data: bytes) -> Iterator[bytes]:
    for i in range(0, len(data), 100_000):
        yield data[i : i + 100_000]


def _source(kind: str, data: bytes, where: Path) -> Any:
    if kind == "bytes":
        return data
    if kind == "stream":
        return io.BytesIO(data)
    if kind == "generator":
        return _pieces(data)
    path = where / f"src-{uuid.uuid4().hex[:10]}.bin"
    path.write_bytes(data)
    return path


def _repo(rng: random.Random) -> str:
    # mostly shared repositories (their tokens cached), sometimes a fresh one (a token
    # fetched while the others transfer)
    if rng.random() < 0.2:
        return f"load/fresh-{uuid.uuid4().hex[:10]}"
    return rng.choice(SHARED_REPOS)


# ----------------------------------------------------------------------------- threads
def _sync_op(
    client: azurecr.ContainerRegistryClient,
    rng: random.Random,
    blobs: Blobs,
    where: Path,
    results: Results,
) -> None:
    op = rng.choice(OPS)
    try:
        if op == "upload":
            data = rng.randbytes(draw_size(rng))
            repo, kind = _repo(rng), rng.choice(SOURCES)
            src = _source(kind, data, where)
            if isinstance(src, Path):
                with open(src, "rb") as f:
                    got = client.upload_blob(repo, f, chunk_size=rng.choice((MiB, None)))
                src.unlink()
            else:
                got = client.upload_blob(repo, src, chunk_size=rng.choice((MiB, None)))
            if got != (sha256(data), len(data)):
                results.fail(f"upload ({kind}) of {len(data)} B returned {got}")
                return
            blobs.add(repo, got[0], data)
        else:
            repo, digest, data = blobs.pick(rng)
            if op == "download-file":
                target = where / f"dl-{uuid.uuid4().hex[:10]}.bin"
                n = client.download_blob_to_file(
                    repo, digest, target, max_concurrency=rng.choice((1, 2)), part_size=MiB
                )
                body = target.read_bytes()
                target.unlink()
                if n != len(data) or body != data:
                    results.fail(f"download to file of {len(data)} B: {n} B, content differs")
                    return
            elif op == "download-readall":
                if client.download_blob(repo, digest).readall() != data:
                    results.fail(f"download readall of {len(data)} B: content differs")
                    return
            else:
                with client.download_blob(repo, digest) as stream:
                    if b"".join(stream) != data:
                        results.fail(f"download iterate of {len(data)} B: content differs")
                        return
        results.done(op)
    except Exception as exc:  # noqa: BLE001 - every failure is reported
        results.fail(f"{op}: {type(exc).__module__}.{type(exc).__qualname__}: {exc}"[:300])


def _thread_round(
    client: azurecr.ContainerRegistryClient,
    blobs: Blobs,
    where: Path,
    results: Results,
    seconds: float,
    seed: str,
) -> None:
    """WORKERS threads doing transfers until ``seconds`` have passed (at least one each)."""
    deadline = time.monotonic() + seconds

    def worker(i: int) -> None:
        rng = random.Random(f"{seed}/{i}")
        while True:
            _sync_op(client, rng, blobs, where, results)
            if time.monotonic() >= deadline:
                return

    threads = [
        threading.Thread(target=worker, args=(i,), name=f"load-{i}", daemon=True)
        for i in range(WORKERS)
    ]
    for t in threads:
        t.start()
    end = time.monotonic() + seconds + GRACE
    for t in threads:
        t.join(max(0.0, end - time.monotonic()))
    hung = [t.name for t in threads if t.is_alive()]
    assert not hung, f"{len(hung)} worker(s) hung (AZURECR_LOAD_SEED={SEED}): {hung}"


def _seed_blobs(client: Any, rng: random.Random) -> Blobs:
    blobs = Blobs()
    for repo in SHARED_REPOS:
        for _ in range(3):
            data = rng.randbytes(draw_size(rng))
            digest, _ = client.upload_blob(repo, data)
            blobs.add(repo, digest, data)
    return blobs


def assert_nothing_left(where: Path) -> None:
    assert leftovers(where) == [], "temporary download files left behind"
    assert not list(where.glob("*.bin")), "test files not cleaned up"


def _check_results(results: Results, mode: str) -> None:
    record("load", "transfers ok", results.total)
    record("load", "transfers failed", len(results.bad))
    for op, n in results.ok.items():
        record(f"load: {mode}", op, n)
    print(f"load ({mode}, seed {SEED}): {results.ok}, failed {len(results.bad)}")
    assert not results.bad, (
        f"{len(results.bad)} of {results.total + len(results.bad)} transfers failed "
        f"(AZURECR_LOAD_SEED={SEED}):\n" + "\n".join(results.bad[:20])
    )


def _check_resources(
    mode: str,
    before: int,
    base: tuple[int, int],
    loaded: tuple[int, int],
    closed: tuple[int, int],
) -> None:
    """``before``: fds before the client existed; ``base``: (fds, RSS) after the warm-up;
    ``loaded``: after the load, client open; ``closed``: after the client was closed."""
    (fd0, rss0), (fd1, rss1), (fd2, _) = base, loaded, closed
    summary = (
        f"fds {before} (no client) / {fd0} (after warm-up) -> {fd1} (after load) -> "
        f"{fd2} (client closed); RSS {rss0 // MiB} -> {rss1 // MiB} MiB"
    )
    print(f"load ({mode}): {summary}")
    record(
        "load: resources after vs. after warm-up",
        f"{mode}: fds {fd1 - fd0:+d} (client open), {fd2 - fd0:+d} (closed); "
        f"RSS {(rss1 - rss0) // MiB:+d} MiB",
    )
    assert fd1 <= fd0 + FD_SLACK_OPEN, f"file descriptors leaked under load: {summary}"
    assert fd2 <= min(fd0, before) + FD_SLACK_CLOSED, f"fds left after close: {summary}"
    assert rss1 <= rss0 + RSS_SLACK, f"memory not released after load: {summary}"


def test_threads_through_one_sync_client(testbed: TestBed, tmp_path: Path) -> None:
    rng = random.Random(f"{SEED}/threads")
    results = Results()
    _fixed_mmap_threshold()
    before = settle()[0]
    client = azurecr.ContainerRegistryClient(
        testbed.endpoint,
        TestbedCredential(testbed),
        connection_verify=testbed.ca_path,
        read_timeout=TIMEOUT,
        connection_timeout=TIMEOUT,
    )
    try:
        blobs = _seed_blobs(client, rng)
        # warm-up: every worker once (tokens, pooled connections, thread pools, allocator)
        _thread_round(client, blobs, tmp_path, results, 0.0, f"{SEED}/warm")
        base = settle()
        started = time.monotonic()
        _thread_round(client, blobs, tmp_path, results, LOAD_SECONDS, f"{SEED}/load")
        elapsed = time.monotonic() - started
        del blobs
        loaded = settle()
    finally:
        client.close()
    closed = settle()
    print(f"load (threads): {results.total} transfers in {elapsed:.1f}s")
    assert_nothing_left(tmp_path)
    _check_results(results, "threads")
    _check_resources("threads", before, base, loaded, closed)


# ----------------------------------------------------------------------------- asyncio
async def _async_op(
    client: AsyncClient, rng: random.Random, blobs: Blobs, where: Path, results: Results
) -> None:
    op = rng.choice(OPS)
    try:
        if op == "upload":
            data = rng.randbytes(draw_size(rng))
            repo = _repo(rng)
            kind = rng.choice((*SOURCES, "async-generator"))
            if kind == "async-generator":

                async def agen() -> AsyncIterator[bytes]:
                    for piece in _pieces(data):
                        yield piece

                src: Any = agen()
            else:
                src = _source(kind, data, where)
            chunk = rng.choice((MiB, None))
            if isinstance(src, Path):
                f = await asyncio.to_thread(src.open, "rb")
                try:
                    got = await client.upload_blob(repo, f, chunk_size=chunk)
                finally:
                    f.close()
                src.unlink()
            else:
                got = await client.upload_blob(repo, src, chunk_size=chunk)
            if got != (sha256(data), len(data)):
                results.fail(f"upload ({kind}) of {len(data)} B returned {got}")
                return
            blobs.add(repo, got[0], data)
        else:
            repo, digest, data = blobs.pick(rng)
            if op == "download-file":
                target = where / f"dl-{uuid.uuid4().hex[:10]}.bin"
                n = await client.download_blob_to_file(
                    repo, digest, target, max_concurrency=rng.choice((1, 2)), part_size=MiB
                )
                body = target.read_bytes()
                target.unlink()
                if n != len(data) or body != data:
                    results.fail(f"download to file of {len(data)} B: {n} B, content differs")
                    return
            elif op == "download-readall":
                stream = await client.download_blob(repo, digest)
                if await stream.readall() != data:
                    results.fail(f"download readall of {len(data)} B: content differs")
                    return
            else:
                async with await client.download_blob(repo, digest) as stream:
                    if b"".join([c async for c in stream]) != data:
                        results.fail(f"download iterate of {len(data)} B: content differs")
                        return
        results.done(op)
    except Exception as exc:  # noqa: BLE001 - every failure is reported
        results.fail(f"{op}: {type(exc).__module__}.{type(exc).__qualname__}: {exc}"[:300])


async def _task_round(
    client: AsyncClient,
    blobs: Blobs,
    where: Path,
    results: Results,
    seconds: float,
    seed: str,
) -> None:
    deadline = time.monotonic() + seconds

    async def worker(i: int) -> None:
        rng = random.Random(f"{seed}/{i}")
        while True:
            await _async_op(client, rng, blobs, where, results)
            if time.monotonic() >= deadline:
                return

    tasks = [asyncio.ensure_future(worker(i)) for i in range(WORKERS)]
    done, pending = await asyncio.wait(tasks, timeout=seconds + GRACE)
    for t in pending:
        t.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    assert not pending, f"{len(pending)} task(s) hung (AZURECR_LOAD_SEED={SEED})"
    for t in done:
        t.result()


async def _aseed_blobs(client: AsyncClient, rng: random.Random) -> Blobs:
    blobs = Blobs()
    for repo in SHARED_REPOS:
        for _ in range(3):
            data = rng.randbytes(draw_size(rng))
            digest, _ = await client.upload_blob(repo, data)
            blobs.add(repo, digest, data)
    return blobs


async def test_tasks_through_one_async_client(testbed: TestBed, tmp_path: Path) -> None:
    rng = random.Random(f"{SEED}/tasks")
    results = Results()
    _fixed_mmap_threshold()
    before = settle()[0]
    client = AsyncClient(
        testbed.endpoint,
        AsyncTestbedCredential(testbed),
        connection_verify=testbed.ca_path,
        read_timeout=TIMEOUT,
        connection_timeout=TIMEOUT,
    )
    try:
        blobs = await _aseed_blobs(client, rng)
        await _task_round(client, blobs, tmp_path, results, 0.0, f"{SEED}/warm")
        base = settle()
        started = time.monotonic()
        await _task_round(client, blobs, tmp_path, results, LOAD_SECONDS, f"{SEED}/load")
        elapsed = time.monotonic() - started
        del blobs
        loaded = settle()
    finally:
        await client.close()
    await asyncio.sleep(0.25)  # aiohttp closes TLS transports on the next loop turns
    closed = settle()
    print(f"load (asyncio): {results.total} transfers in {elapsed:.1f}s")
    assert_nothing_left(tmp_path)
    _check_results(results, "asyncio")
    _check_resources("asyncio", before, base, loaded, closed)
