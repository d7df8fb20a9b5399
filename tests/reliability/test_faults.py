"""Injected faults: uploads and downloads of random sizes (0 B to 20 MiB) through a
fault-injecting TCP proxy (``tests/faults``), one fault each at a random point: the
connection cut at a byte offset (either direction), reset before the response to the
request carrying a given byte, stalled for up to a second then released, or refused.

Every transfer ends either in a correct blob (the digest returned is the data's sha256, and
the registry hands back exactly the data) or in a clear exception (``BlobUploadError``,
``DigestValidationError``, another ``AzureError``) that leaves no file at the target, no
``.partial`` file beside it and no blob claiming the data's digest with other content.
Outcomes are tallied as "completed (no retry needed)", "completed after retry",
"failed cleanly" and "wrong"; wrong must be 0. Moreover one fault is what retries and
restarts are for: only an upload from a source that cannot be read twice (a pipe, a
generator) may fail cleanly; downloads and uploads from bytes or a seekable file complete.

The cases are drawn from one seed, printed and recorded in the tally ("seeds");
``AZURECR_FAULT_SEED=<n>`` replays a run.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from azure.core.exceptions import AzureError

import azurecr
from azurecr import BlobUploadError, DigestValidationError
from azurecr.aio import ContainerRegistryClient as AsyncClient
from tests.faults import FaultProxy
from tests.integration._clients import AsyncTestbedCredential, TestbedCredential
from tests.integration._sources import leftovers, sha256
from tests.testbed import TestBed

from ._report import record

KiB = 1024
MiB = 1024 * KiB
MAX_SIZE = 20 * MiB
N_SYNC = 50
N_ASYNC = 10
#: Client read/connect timeout: a stall (at most STALL_MAX) never trips it, a hang cannot last.
TIMEOUT = 10
STALL_MAX = 1.0
#: A transfer still running after this long is reported as a hang (the test fails).
DEADLINE = 45.0
#: Bytes of TLS records and HTTP headers around a transfer's payload (where faults may land).
HEADERS = 2048

SEED = int(os.environ.get("AZURECR_FAULT_SEED") or random.SystemRandom().randrange(1 << 32))

KINDS = ("cut", "reset", "stall", "refuse")
UPLOAD_SOURCES = ("bytes", "file", "pipe", "generator")
ASYNC_UPLOAD_SOURCES = (*UPLOAD_SOURCES, "async-generator")
DOWNLOADS = ("file-sequential", "file-parallel", "readall", "iterate")
CLEAR = (BlobUploadError, DigestValidationError, AzureError)
#: Upload sources that cannot be read twice: an upload from them may fail cleanly.
NOT_REPLAYABLE = ("pipe", "generator", "async-generator")

T = TypeVar("T")


@pytest.fixture(autouse=True)
def _quiet(caplog: pytest.LogCaptureFixture) -> None:
    # azure-core logs every cut it retries; the proxy's loop logs connections torn down
    caplog.set_level(logging.CRITICAL, logger="azure.core")
    caplog.set_level(logging.CRITICAL, logger="asyncio")


@pytest.fixture(scope="module", autouse=True)
def _seed_in_tally() -> None:
    record("seeds", f"AZURECR_FAULT_SEED={SEED}")


@pytest.fixture
def proxy(testbed: TestBed) -> Iterator[FaultProxy]:
    with FaultProxy.to(testbed.endpoint) as p:
        yield p


def _client_kwargs(testbed: TestBed) -> dict[str, Any]:
    return {
        "connection_verify": testbed.ca_path,
        "read_timeout": TIMEOUT,
        "connection_timeout": TIMEOUT,
    }


# ----------------------------------------------------------------------------- cases
@dataclass(frozen=True)
class Plan:
    """One fault: ``offset`` counts bytes in ``direction`` from the moment it is armed
    (for "reset", the bytes sent up before the request whose answer is reset)."""

    kind: str
    direction: str = ""
    offset: int = 0
    seconds: float = 0.0

    def __str__(self) -> str:
        if self.kind == "refuse":
            return "refuse"
        if self.kind == "reset":
            return f"reset answer after {self.offset} B up"
        extra = f" for {self.seconds}s" if self.kind == "stall" else ""
        return f"{self.kind}-{self.direction} at {self.offset}{extra}"


@dataclass
class Case:
    index: int
    size: int
    plan: Plan
    variant: str  # the upload source, or the kind of download
    chunk: int | None = None  # upload chunk size / download part size
    data_seed: str = ""
    repo: str = ""
    pre_existing: bool = False  # downloads to a file: a file is already at the target
    _data: bytes | None = field(default=None, repr=False)

    @property
    def data(self) -> bytes:
        """The case's bytes, made when first needed (all the cases' data at once would be
        hundreds of MiB); :meth:`forget` drops them."""
        if self._data is None:
            self._data = random.Random(self.data_seed).randbytes(self.size)
        return self._data

    def forget(self) -> None:
        self._data = None

    def __str__(self) -> str:
        chunk = "" if self.chunk is None else f", chunk {self.chunk}"
        old = ", over an existing file" if self.pre_existing else ""
        return f"#{self.index} {self.size} B {self.variant}{chunk}{old}, {self.plan}"


@dataclass
class Tally:
    section: str
    outcomes: dict[str, int] = field(default_factory=dict)
    wrong: list[str] = field(default_factory=list)
    #: transfers that could have been retried (downloads, uploads from bytes or a seekable
    #: file) and still failed after a single fault
    unrecovered: list[str] = field(default_factory=list)
    not_fired: int = 0

    def add(self, case: Case, outcome: str, detail: str = "", seconds: float = 0.0) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        record(self.section, outcome)
        print(f"  {case}: {outcome} in {seconds:.2f}s" + (f" ({detail})" if detail else ""))
        if outcome == "wrong":
            self.wrong.append(f"{case}: {detail}")
        elif outcome == "failed cleanly" and case.variant not in NOT_REPLAYABLE:
            self.unrecovered.append(f"{case}: {detail}")

    def check(self) -> None:
        print(f"{self.section} (seed {SEED}): {self.outcomes}, faults not fired: {self.not_fired}")
        assert not self.wrong, (
            f"{len(self.wrong)} wrong outcome(s) with AZURECR_FAULT_SEED={SEED}:\n"
            + "\n".join(self.wrong)
        )
        # One fault is what the client's retries and restarts are for: only an upload from a
        # source that cannot be read twice may give up (BlobUploadError) after it.
        assert not self.unrecovered, (
            f"{len(self.unrecovered)} retryable transfer(s) failed after a single fault with "
            f"AZURECR_FAULT_SEED={SEED}:\n" + "\n".join(self.unrecovered)
        )


def draw_sizes(rng: random.Random, n: int) -> list[int]:
    """``n`` sizes from 0 B to 20 MiB: both ends always, the rest mostly small (the run
    stays bounded) with a few large ones."""
    sizes = [0, MAX_SIZE]
    while len(sizes) < n:
        r = rng.random()
        if r < 0.3:
            sizes.append(rng.randrange(0, 64 * KiB))
        elif r < 0.65:
            sizes.append(rng.randrange(64 * KiB, 2 * MiB))
        elif r < 0.9:
            sizes.append(rng.randrange(2 * MiB, 8 * MiB))
        else:
            sizes.append(rng.randrange(8 * MiB, MAX_SIZE + 1))
    rng.shuffle(sizes)
    return sizes[:n]


def draw_plan(rng: random.Random, size: int, main: str, connections: int = 1) -> Plan:
    """A fault at a random point of a transfer whose payload goes ``main`` ("up" for
    uploads, "down" for downloads) over ``connections`` connections (a rule counts the
    bytes of each connection)."""
    size //= connections
    kind = rng.choice(KINDS)
    if kind == "refuse":
        return Plan("refuse")
    if kind == "reset":
        span = size if main == "up" else HEADERS
        return Plan("reset", "down", rng.randrange(0, span + 1))
    direction = rng.choice(("up", "down"))
    span = size + HEADERS if direction == main else HEADERS
    seconds = round(rng.uniform(0.2, STALL_MAX), 2) if kind == "stall" else 0.0
    return Plan(kind, direction, rng.randrange(0, span), seconds)


def draw_chunk(rng: random.Random, size: int) -> int | None:
    # at most ~32 requests per transfer, so the small chunk sizes go with the small blobs
    options = [c for c in (64 * KiB, 256 * KiB, MiB, 4 * MiB) if size // c <= 32]
    return rng.choice([*options, None])


def upload_cases(rng: random.Random, n: int, sources: tuple[str, ...]) -> list[Case]:
    cases = []
    for i, size in enumerate(draw_sizes(rng, n)):
        cases.append(
            Case(
                i,
                size,
                draw_plan(rng, size, "up"),
                rng.choice(sources),
                draw_chunk(rng, size),
                f"{SEED}/{rng.random()}",
                f"faults/up-{uuid.uuid4().hex[:10]}",
            )
        )
    return cases


def download_cases(rng: random.Random, n: int) -> list[Case]:
    cases = []
    for i, size in enumerate(draw_sizes(rng, n)):
        variant = rng.choice(DOWNLOADS)
        cases.append(
            Case(
                i,
                size,
                draw_plan(rng, size, "down", 4 if variant == "file-parallel" else 1),
                variant,
                draw_chunk(rng, size) if variant == "file-parallel" else None,
                f"{SEED}/{rng.random()}",
                f"faults/down-{uuid.uuid4().hex[:10]}",
                pre_existing=variant.startswith("file") and rng.random() < 0.25,
            )
        )
    return cases


# ----------------------------------------------------------------------------- faults
def arm(proxy: FaultProxy, plan: Plan) -> int:
    """Arm ``plan``; returns the number of fault events so far (to see if it fired)."""
    fired = len(proxy.faults_fired)
    record("faults: injected", plan.kind)
    if plan.kind == "refuse":
        # pooled connections would carry the whole transfer: drop them, so the next
        # request needs a new connection, and refuse that one
        proxy.drop_connections()
        proxy.wait_for(lambda p: p.open_connections == 0)
        proxy.refuse_next()
    elif plan.kind == "reset":
        proxy.cut_next("down", 0, min_bytes_up=plan.offset)
    elif plan.kind == "cut":
        proxy.cut_next(plan.direction, plan.offset)
    else:
        proxy.stall(plan.direction, plan.offset, plan.seconds)
    return fired


def disarm(proxy: FaultProxy, before: int, tally: Tally) -> bool:
    """Clear what did not fire; whether the fault fired."""
    proxy.clear_faults()
    events = proxy.faults_fired[before:]
    for e in events:
        record("faults: fired", f"{e.kind}-{e.direction}" if e.direction else e.kind)
    if not events:
        tally.not_fired += 1
    return bool(events)


def completed(plan: Plan, fired: bool) -> str:
    # a stall ridden out needed no retry; a cut, reset or refusal that fired did
    if fired and plan.kind != "stall":
        return "completed after retry"
    return "completed (no retry needed)"


# ----------------------------------------------------------------------------- sources
def _pieces(data: bytes, rng: random.Random) -> Iterator[bytes]:
    step = rng.choice((1000, 10_000, 65_536, 300_000))
    for i in range(0, len(data), step):
        yield data[i : i + step]


@contextmanager
def upload_source(kind: str, data: bytes, where: Path, rng: random.Random) -> Iterator[Any]:
    """``data`` as bytes, a seekable file, a pipe (fed by a thread) or a generator; an
    async generator for the async client."""
    if kind == "bytes":
        yield data
    elif kind == "generator":
        yield _pieces(data, rng)
    elif kind == "async-generator":

        async def agen() -> AsyncIterator[bytes]:
            for piece in _pieces(data, rng):
                yield piece
                await asyncio.sleep(0)

        yield agen()
    elif kind == "file":
        path = where / f"src-{uuid.uuid4().hex[:8]}.bin"
        path.write_bytes(data)
        try:
            with open(path, "rb") as f:
                yield f
        finally:
            path.unlink()
    elif kind == "pipe":
        r, w = os.pipe()

        def feed() -> None:
            try:
                with os.fdopen(w, "wb") as out:
                    for piece in _pieces(data, rng):
                        out.write(piece)
            except BrokenPipeError:  # the upload failed and the reader was closed
                pass

        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
        try:
            with os.fdopen(r, "rb", buffering=0) as f:
                yield f
        finally:
            writer.join(timeout=10)
            assert not writer.is_alive(), "the pipe's writer is stuck"
    else:  # pragma: no cover
        raise AssertionError(kind)


# ----------------------------------------------------------------------------- checks
class Hang(Exception):
    pass


def bounded(fn: Callable[[], T], seconds: float = DEADLINE) -> T:
    """Run ``fn`` in a thread; :class:`Hang` if it has not returned within ``seconds``."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            box["error"] = exc

    t = threading.Thread(target=run, name="fault-case", daemon=True)
    t.start()
    t.join(seconds)
    if t.is_alive():
        raise Hang(f"still running after {seconds}s")
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


def describe(exc: BaseException) -> str:
    return f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}"[:400]


def upload_verdict(
    case: Case,
    result: tuple[str, int] | None,
    error: BaseException | None,
    stored: bytes | None,
    exists: bool,
) -> tuple[str, str]:
    """(outcome, detail) of an upload: ``stored`` is what the registry returns under the
    data's digest (None: it has no such blob, or the download failed)."""
    expected = sha256(case.data)
    if error is None:
        assert result is not None
        if result != (expected, case.size):
            return "wrong", f"returned {result}, expected {(expected, case.size)}"
        if stored != case.data:
            return "wrong", "the blob the registry returns is not the data"
        return "ok", ""
    if not isinstance(error, CLEAR):
        return "wrong", "unclear exception " + describe(error)
    if exists and stored != case.data:
        return "wrong", "after " + describe(error) + ", a blob claims the digest, other content"
    return "failed cleanly", describe(error)


def download_verdict(
    case: Case,
    result: Any,
    error: BaseException | None,
    target: Path,
    old: bytes | None,
) -> tuple[str, str]:
    left = leftovers(target.parent)
    if left:
        return "wrong", f"left behind: {left}"
    if error is None:
        if case.variant.startswith("file"):
            if result != case.size:
                return "wrong", f"returned {result}, expected {case.size}"
            if target.read_bytes() != case.data:
                return "wrong", "the file is not the blob"
        elif result != case.data:
            return "wrong", f"returned {len(result)} B that are not the blob"
        return "ok", ""
    if not isinstance(error, CLEAR):
        return "wrong", "unclear exception " + describe(error)
    if old is None and target.exists():
        return "wrong", f"after {describe(error)}, a file is at the target"
    if old is not None and target.read_bytes() != old:
        return "wrong", f"after {describe(error)}, the existing file was changed"
    return "failed cleanly", describe(error)


# ----------------------------------------------------------------------------- sync
def store(testbed: TestBed, cases: list[Case]) -> None:
    """Store the blobs of download cases, straight to the test bed (no proxy, no faults)."""

    def put(client: azurecr.ContainerRegistryClient, case: Case) -> None:
        assert client.upload_blob(case.repo, case.data) == (sha256(case.data), case.size)
        case.forget()

    with (
        azurecr.ContainerRegistryClient(
            testbed.endpoint, TestbedCredential(testbed), **_client_kwargs(testbed)
        ) as client,
        ThreadPoolExecutor(4) as pool,
    ):
        for f in [pool.submit(put, client, case) for case in cases]:
            f.result()


def _sync_upload(
    client: azurecr.ContainerRegistryClient,
    proxy: FaultProxy,
    case: Case,
    where: Path,
    rng: random.Random,
    tally: Tally,
) -> None:
    result: tuple[str, int] | None = None
    error: BaseException | None = None
    with upload_source(case.variant, case.data, where, rng) as src:
        before = arm(proxy, case.plan)
        t0 = time.monotonic()
        try:
            result = bounded(lambda: client.upload_blob(case.repo, src, chunk_size=case.chunk))
        except Hang as exc:
            error = exc
            proxy.drop_connections()  # unblock it before the source is closed
        except Exception as exc:  # noqa: BLE001 - judged below
            error = exc
        elapsed = time.monotonic() - t0
        fired = disarm(proxy, before, tally)
    if isinstance(error, Hang):
        proxy.drop_connections()
        tally.add(case, "wrong", "hang: " + str(error), elapsed)
        return
    digest = sha256(case.data)
    exists = client.blob_exists(case.repo, digest)
    stored = None
    if exists:
        try:
            stored = client.download_blob(case.repo, digest).readall()
        except DigestValidationError:
            stored = None
    outcome, detail = upload_verdict(case, result, error, stored, exists)
    if outcome == "ok":
        outcome = completed(case.plan, fired)
    tally.add(case, outcome, detail, elapsed)


def _sync_download(
    client: azurecr.ContainerRegistryClient,
    proxy: FaultProxy,
    case: Case,
    where: Path,
    tally: Tally,
) -> None:
    target = where / f"blob-{case.index}.bin"
    old = None
    if case.pre_existing:
        old = b"an older file " * 10
        target.write_bytes(old)
    digest = sha256(case.data)

    def transfer() -> Any:
        if case.variant == "file-sequential":
            return client.download_blob_to_file(case.repo, digest, target, max_concurrency=1)
        if case.variant == "file-parallel":
            return client.download_blob_to_file(
                case.repo, digest, target, max_concurrency=4, part_size=case.chunk
            )
        if case.variant == "readall":
            return client.download_blob(case.repo, digest).readall()
        with client.download_blob(case.repo, digest) as stream:
            return b"".join(stream)

    result: Any = None
    error: BaseException | None = None
    before = arm(proxy, case.plan)
    t0 = time.monotonic()
    try:
        result = bounded(transfer)
    except Hang as exc:
        error = exc
    except Exception as exc:  # noqa: BLE001 - judged below
        error = exc
    elapsed = time.monotonic() - t0
    fired = disarm(proxy, before, tally)
    if isinstance(error, Hang):
        proxy.drop_connections()
        tally.add(case, "wrong", "hang: " + str(error), elapsed)
        return
    outcome, detail = download_verdict(case, result, error, target, old)
    if outcome == "ok":
        outcome = completed(case.plan, fired)
    tally.add(case, outcome, detail, elapsed)
    target.unlink(missing_ok=True)


def test_uploads_with_a_fault_each(testbed: TestBed, proxy: FaultProxy, tmp_path: Path) -> None:
    rng = random.Random(f"{SEED}/uploads")
    cases = upload_cases(rng, N_SYNC, UPLOAD_SOURCES)
    tally = Tally("faults: uploads")
    started = time.monotonic()
    with azurecr.ContainerRegistryClient(
        proxy.url, TestbedCredential(testbed), **_client_kwargs(testbed)
    ) as client:
        client.upload_blob("faults/warm", b"warm")
        for case in cases:
            _sync_upload(client, proxy, case, tmp_path, rng, tally)
            case.forget()
    print(f"{N_SYNC} uploads in {time.monotonic() - started:.1f}s")
    tally.check()


def test_downloads_with_a_fault_each(testbed: TestBed, proxy: FaultProxy, tmp_path: Path) -> None:
    rng = random.Random(f"{SEED}/downloads")
    cases = download_cases(rng, N_SYNC)
    tally = Tally("faults: downloads")
    started = time.monotonic()
    with azurecr.ContainerRegistryClient(
        proxy.url, TestbedCredential(testbed), **_client_kwargs(testbed)
    ) as client:
        store(testbed, cases)
        for case in cases:
            _sync_download(client, proxy, case, tmp_path, tally)
            case.forget()
    print(f"{N_SYNC} downloads in {time.monotonic() - started:.1f}s")
    tally.check()


# ----------------------------------------------------------------------------- async
async def _abounded(coro: Any) -> Any:
    try:
        return await asyncio.wait_for(coro, DEADLINE)
    except asyncio.TimeoutError:
        raise Hang(f"still running after {DEADLINE}s") from None


async def _aarm(proxy: FaultProxy, plan: Plan) -> int:
    before = arm(proxy, plan)
    if plan.kind == "refuse":
        await asyncio.sleep(0.05)  # let aiohttp see its pooled connections go
    return before


async def _async_upload(
    client: AsyncClient,
    proxy: FaultProxy,
    case: Case,
    where: Path,
    rng: random.Random,
    tally: Tally,
) -> None:
    result: tuple[str, int] | None = None
    error: BaseException | None = None
    with upload_source(case.variant, case.data, where, rng) as src:
        before = await _aarm(proxy, case.plan)
        t0 = time.monotonic()
        try:
            result = await _abounded(client.upload_blob(case.repo, src, chunk_size=case.chunk))
        except Exception as exc:  # noqa: BLE001 - judged below (Hang included)
            error = exc
        elapsed = time.monotonic() - t0
        fired = disarm(proxy, before, tally)
    if isinstance(error, Hang):
        proxy.drop_connections()
        tally.add(case, "wrong", "hang: " + str(error), elapsed)
        return
    digest = sha256(case.data)
    exists = await client.blob_exists(case.repo, digest)
    stored = None
    if exists:
        try:
            stored = await (await client.download_blob(case.repo, digest)).readall()
        except DigestValidationError:
            stored = None
    outcome, detail = upload_verdict(case, result, error, stored, exists)
    if outcome == "ok":
        outcome = completed(case.plan, fired)
    tally.add(case, outcome, detail, elapsed)


async def _async_download(
    client: AsyncClient, proxy: FaultProxy, case: Case, where: Path, tally: Tally
) -> None:
    target = where / f"ablob-{case.index}.bin"
    old = None
    if case.pre_existing:
        old = b"an older file " * 10
        target.write_bytes(old)
    digest = sha256(case.data)

    async def transfer() -> Any:
        if case.variant == "file-sequential":
            return await client.download_blob_to_file(case.repo, digest, target, max_concurrency=1)
        if case.variant == "file-parallel":
            return await client.download_blob_to_file(
                case.repo, digest, target, max_concurrency=4, part_size=case.chunk
            )
        if case.variant == "readall":
            return await (await client.download_blob(case.repo, digest)).readall()
        async with await client.download_blob(case.repo, digest) as stream:
            return b"".join([chunk async for chunk in stream])

    result: Any = None
    error: BaseException | None = None
    before = await _aarm(proxy, case.plan)
    t0 = time.monotonic()
    try:
        result = await _abounded(transfer())
    except Exception as exc:  # noqa: BLE001 - judged below (Hang included)
        error = exc
    elapsed = time.monotonic() - t0
    fired = disarm(proxy, before, tally)
    if isinstance(error, Hang):
        proxy.drop_connections()
        tally.add(case, "wrong", "hang: " + str(error), elapsed)
        return
    outcome, detail = download_verdict(case, result, error, target, old)
    if outcome == "ok":
        outcome = completed(case.plan, fired)
    tally.add(case, outcome, detail, elapsed)
    target.unlink(missing_ok=True)


async def test_async_uploads_and_downloads_with_a_fault_each(
    testbed: TestBed, proxy: FaultProxy, tmp_path: Path
) -> None:
    rng = random.Random(f"{SEED}/async")
    uploads = upload_cases(rng, N_ASYNC, ASYNC_UPLOAD_SOURCES)
    downloads = download_cases(rng, N_ASYNC)
    up_tally = Tally("faults: async uploads")
    down_tally = Tally("faults: async downloads")
    started = time.monotonic()
    async with AsyncClient(
        proxy.url, AsyncTestbedCredential(testbed), **_client_kwargs(testbed)
    ) as client:
        await client.upload_blob("faults/warm", b"warm")
        for case in uploads:
            await _async_upload(client, proxy, case, tmp_path, rng, up_tally)
            case.forget()
        await asyncio.to_thread(store, testbed, downloads)
        for case in downloads:
            await _async_download(client, proxy, case, tmp_path, down_tally)
            case.forget()
    print(f"{N_ASYNC}+{N_ASYNC} async transfers in {time.monotonic() - started:.1f}s")
    up_tally.check()
    down_tally.check()
