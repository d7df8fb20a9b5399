"""Blocking I/O of the blob transfer engine: the sync client's half.

Every decision is made in :mod:`._transfer` (upload flow, range plans, verifiers); this module
executes it with the generated operations and threads. :mod:`.aio._blob_io_async` is its twin.
"""

from __future__ import annotations

import os
import queue
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Optional, Union

from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    map_error,
)
from azure.core.rest import HttpRequest, HttpResponse

from ._errors import DigestValidationError, service_errors
from ._transfer import (
    MAX_RECOVERIES,
    Action,
    BlobSource,
    Cancel,
    Complete,
    Exists,
    HashFrontier,
    PartPlan,
    ProgressHook,
    ReadChunk,
    Rewind,
    Send,
    Start,
    Status,
    Stream,
    StreamVerifier,
    UploadResult,
    content_range,
    is_transient,
    parse_content_range,
    parse_upload_range,
    range_header,
    same_origin,
    session_link,
)

__all__ = ["BlobFetcher", "FetchPlan", "StagedFile", "download_to_path", "pwrite_all", "run_upload"]

_ERROR_MAP = {401: ClientAuthenticationError, 404: ResourceNotFoundError, 409: ResourceExistsError}
#: Parallel ranged GETs of ``max_concurrency=None`` when the blob comes from another origin.
AUTO_CONCURRENCY = 4
#: Bytes hashed per read-back of a downloaded file (page-cache reads; releases the GIL).
_HASH_BLOCK = 4 * 1024 * 1024


def _headers(pipeline_response: Any, deserialized: Any, headers: dict[str, Any]) -> Any:
    return headers


# ----------------------------------------------------------------------------- upload
class _Prefetcher:
    """Reads (and hashes) the next chunk in a helper thread while the current one is sent,
    so reading and hashing overlap the network. hashlib and file reads release the GIL."""

    def __init__(self, source: BlobSource) -> None:
        self._source = source
        self._pool: Optional[ThreadPoolExecutor] = None
        self._next: Optional[Future[bytes]] = None

    def read(self) -> bytes:
        if self._next is None:
            data = self._source.read_chunk()
        else:
            data = self._next.result()
            self._next = None
        if data and (self._source.size is None or self._source.offset < self._source.size):
            if self._pool is None:
                self._pool = ThreadPoolExecutor(1, thread_name_prefix="azurecr-read")
            self._next = self._pool.submit(self._source.read_chunk)
        return data

    def rewind(self) -> None:
        self._drain()
        self._source.rewind()

    def _drain(self) -> None:
        if self._next is not None:
            try:
                self._next.result()
            except Exception:  # noqa: BLE001, S110 - the rewind starts over anyway
                pass
            self._next = None

    def close(self) -> None:
        self._drain()
        if self._pool is not None:
            self._pool.shutdown(wait=True)


#: Bytes per piece of a streamed upload: read and hashed in a helper thread, a few ahead.
STREAM_PIECE = 1024 * 1024
_PIECES_AHEAD = 4


class _StreamBody:
    """The body of a streamed ``PATCH``: the source from ``offset`` to its end, read and
    hashed by a helper thread a few pieces ahead of the socket (bounded memory; reading,
    hashing and sending overlap). ``close()`` stops the helper before anyone else touches
    the source."""

    def __init__(self, source: BlobSource, offset: int, hook: Optional[ProgressHook]) -> None:
        source.seek(offset)
        self._source = source
        self._hook = hook
        self._position = offset
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=_PIECES_AHEAD)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._produce, name="azurecr-read", daemon=True)
        self._thread.start()

    def _produce(self) -> None:
        try:
            while not self._stop.is_set():
                piece = self._source.read(STREAM_PIECE)
                self._queue.put(piece)
                if not piece:
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            self._queue.put(exc)

    def __len__(self) -> int:
        # requests reads the length from here: the body goes with a Content-Length, as
        # curl -T sends it, instead of Transfer-Encoding: chunked
        assert self._source.size is not None
        return self._source.size - self._position

    def __iter__(self) -> Iterator[bytes]:
        while True:
            item = self._queue.get()
            if isinstance(item, BaseException):
                raise item
            if not item:
                return
            yield item
            self._position += len(item)
            if self._hook is not None:
                self._hook(self._position, self._source.size)

    def close(self) -> None:
        self._stop.set()
        while self._thread.is_alive():
            try:
                self._queue.get_nowait()
            except queue.Empty:
                self._thread.join(0.01)


def run_upload(
    client: Any,
    repository: str,
    flow: Any,
    source: BlobSource,
    endpoint: str,
    **kwargs: Any,
) -> UploadResult:
    """Execute an upload flow (``_transfer.upload_flow``) with the generated operations."""
    ops = client.container_registry_blob
    reader = _Prefetcher(source)
    # The flow recovers from failed chunks itself (after asking the registry where the upload
    # stands); the pipeline's retry would replay a PATCH blindly.
    once = dict(kwargs, retry_total=0)

    def execute(action: Action) -> Any:
        if isinstance(action, ReadChunk):
            return reader.read()
        if isinstance(action, Rewind):
            return reader.rewind()
        if isinstance(action, Exists):
            try:
                with service_errors():
                    headers = ops.check_blob_exists(
                        repository, action.digest, cls=_headers, **kwargs
                    )
            except ResourceNotFoundError:
                return None
            return headers.get("Content-Length")
        if isinstance(action, Start):
            with service_errors():
                headers = ops.start_upload(repository, cls=_headers, **kwargs)
            return session_link(headers.get("Location"), endpoint)
        if isinstance(action, Send):
            with service_errors():
                headers = ops.upload_chunk(
                    action.location,
                    action.data,
                    content_range=content_range(action.offset, len(action.data)),
                    cls=_headers,
                    **once,
                )
            return session_link(headers.get("Location"), endpoint)
        if isinstance(action, Stream):
            body = _StreamBody(source, action.offset, action.progress_hook)
            try:
                with service_errors():
                    if action.digest is not None:
                        headers = ops.complete_upload(
                            action.location, action.digest, value=body, cls=_headers, **once
                        )
                        return headers.get("Docker-Content-Digest")
                    headers = ops.upload_chunk(action.location, body, cls=_headers, **once)
            finally:
                body.close()
            return session_link(headers.get("Location"), endpoint)
        if isinstance(action, Complete):
            with service_errors():
                headers = ops.complete_upload(
                    action.location, action.digest, value=action.data, cls=_headers, **once
                )
            return headers.get("Docker-Content-Digest")
        if isinstance(action, Status):
            with service_errors():
                headers = ops.get_upload_status(action.location, cls=_headers, **kwargs)
            return parse_upload_range(headers.get("Range"))
        if isinstance(action, Cancel):
            try:
                ops.cancel_upload(action.location, **once)
            except HttpResponseError:
                pass
            return None
        raise AssertionError(f"unknown upload action {action!r}")  # pragma: no cover

    try:
        action = next(flow)
        while True:
            try:
                result = execute(action)
            except Exception as exc:  # noqa: BLE001 - handed to the flow, which decides
                action = flow.throw(exc)
            else:
                action = flow.send(result)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    finally:
        reader.close()


# ----------------------------------------------------------------------------- download
def raise_for_status(response: HttpResponse, ok: tuple[int, ...]) -> None:
    """Map a failed blob response to azure-core's exceptions, keeping the ACR error code."""
    if response.status_code in ok:
        return
    try:
        response.read()
    except Exception:  # noqa: BLE001, S110 - the status alone still makes the error
        pass
    with service_errors():
        map_error(status_code=response.status_code, response=response, error_map=_ERROR_MAP)
        raise HttpResponseError(response=response)


class Opened:
    """An open blob response: where its body starts, where it ends and the whole size."""

    def __init__(self, response: Any, start: int, end: Optional[int], total: Optional[int]) -> None:
        self.response = response  # azure.core.rest HttpResponse or AsyncHttpResponse
        self.start = start
        self.end = end  # exclusive, None when unknown
        self.total = total


def interpret(response: Any, start: int, end: Optional[int], size_hint: Optional[int]) -> Opened:
    """Check a (ranged) GET's answer against what was asked (shared by sync and async)."""
    if response.status_code == 206:
        try:
            first, last, total = parse_content_range(response.headers.get("Content-Range"))
        except ValueError as exc:
            raise HttpResponseError(message=str(exc), response=response) from exc
        if first != start or (end is not None and last >= end):
            raise HttpResponseError(
                message=f"the registry answered range {first}-{last} to a request for "
                f"{start}-{'' if end is None else end - 1}",
                response=response,
            )
        return Opened(response, first, last + 1, total)
    # 200: the whole blob (a registry may ignore Range; then only a start of 0 is usable)
    length = response.headers.get("Content-Length")
    total = int(length) if length is not None and length.isdigit() else size_hint
    if start != 0:
        raise HttpResponseError(
            message="the registry ignored a Range request; cannot resume the download",
            response=response,
        )
    return Opened(response, 0, total, total)


class FetchPlan:
    """The decisions of a blob fetcher, shared by the sync and async ones (no I/O): which
    request to send for a range, when an answer means "ask again differently", and what a
    good answer tells about the blob.

    The first answer tells where the registry redirected (ACR: a SAS URL on blob storage);
    later ranges go straight there, without the registry's token (the challenge policy
    strips it off-origin, and azure-core's redirect handling does too).
    """

    def __init__(self, endpoint: str, repository: str, digest: str, **kwargs: Any) -> None:
        self._endpoint = endpoint
        self._path = f"/v2/{repository}/blobs/{digest}"
        self._direct: Optional[str] = None
        self._kwargs = kwargs
        self.size: Optional[int] = None

    @property
    def redirected(self) -> bool:
        """Whether the registry sent the blob from another origin (ACR: blob storage)."""
        return self._direct is not None

    def request(self, start: int, end: Optional[int]) -> HttpRequest:
        """The GET of bytes ``[start, end)`` (``end`` None: to the end)."""
        headers = {}
        if start or end is not None:
            headers["Range"] = range_header(start, None if end is None else end - 1)
        return HttpRequest("GET", self._direct or self._path, headers=headers)

    def ask_again(
        self, status: int, start: int, end: Optional[int]
    ) -> Optional[tuple[int, Optional[int]]]:
        """The range to ask for instead, when an answer calls for another try, else None."""
        if self._direct is not None and status == 403:
            self._direct = None  # an expired SAS URL: ask the registry for a fresh one
            return start, end
        if status == 416 and start == 0 and end is not None:
            return 0, None  # a range of an empty blob is not satisfiable: ask for all of it
        return None

    def accept(self, response: Any, start: int, end: Optional[int]) -> Opened:
        """Check a 200/206 answer and learn from it (storage URL, total size).

        :raises ~azure.core.exceptions.HttpResponseError: for a range not asked for (the
            caller closes the response).
        """
        final = str(response.request.url)
        if not same_origin(final, self._endpoint):
            self._direct = final
        opened = interpret(response, start, end, self.size)
        if opened.total is not None:
            self.size = opened.total
        return opened


class BlobFetcher(FetchPlan):
    """Opens (ranged) GETs of one blob through the sync client's pipeline."""

    def __init__(
        self, client: Any, endpoint: str, repository: str, digest: str, **kwargs: Any
    ) -> None:
        super().__init__(endpoint, repository, digest, **kwargs)
        self._client = client

    def open(self, start: int = 0, end: Optional[int] = None) -> Opened:
        """GET bytes ``[start, end)`` (``end`` None: to the end)."""
        request = self.request(start, end)
        response = self._client._send_request(request, stream=True, **self._kwargs)
        again = self.ask_again(response.status_code, start, end)
        if again is not None:
            response.close()
            return self.open(*again)
        raise_for_status(response, (200, 206))
        try:
            return self.accept(response, start, end)
        except HttpResponseError:
            response.close()
            raise


def iter_body(response: HttpResponse) -> Iterator[bytes]:
    chunks: Iterator[bytes] = response.iter_raw()
    return chunks


class StagedFile:
    """A temporary file beside ``path`` that becomes ``path`` only on :meth:`commit`; left
    without a commit (an exception, a failed digest check), it is removed. Shared by the
    sync and async downloads."""

    def __init__(self, path: Union[str, os.PathLike[str]]) -> None:
        self.target = Path(path)
        self.tmp = self.target.with_name(f".{self.target.name}.{uuid.uuid4().hex[:12]}.partial")
        flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        self.fd = os.open(self.tmp, flags, 0o644)
        self._done = False

    def commit(self) -> None:
        os.close(self.fd)
        self.fd = -1
        os.replace(self.tmp, self.target)
        self._done = True

    def __enter__(self) -> StagedFile:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        if not self._done:
            try:
                os.unlink(self.tmp)
            except FileNotFoundError:
                pass


def single_stream(opened: Opened, max_concurrency: Optional[int], redirected: bool) -> bool:
    """Whether to download in one stream: when the first answer is the whole blob, ranges
    cannot be planned, one connection was asked for, or (``max_concurrency`` None, "auto")
    the registry serves the blob itself. Measured on a local registry, one stream reaches
    the network's speed while parallel ranges cost CPU and lose (benchmarks/README.md);
    parallel ranges pay where each connection is throttled, as on the blob storage ACR
    redirects to."""
    total = opened.total
    if total is None or opened.end is None or opened.end >= total:
        return True
    if max_concurrency is None:
        return not redirected
    return max_concurrency <= 1


def download_to_path(
    fetcher: BlobFetcher,
    digest: str,
    path: Union[str, os.PathLike[str]],
    *,
    max_concurrency: Optional[int],
    part_size: int,
    progress_hook: Optional[ProgressHook],
) -> int:
    """Download a blob into ``path`` atomically: parts are written at their offsets into a
    temporary file beside it, hashed in order as soon as they are contiguous, and the file
    is renamed into place only after size and digest match. Returns the size."""
    with StagedFile(path) as staged:
        first_end = None if max_concurrency == 1 else part_size
        opened = fetcher.open(0, first_end)
        verifier = StreamVerifier(digest, opened.total)
        if single_stream(opened, max_concurrency, fetcher.redirected):
            _sequential(fetcher, opened, staged.fd, verifier, progress_hook)
        else:
            assert opened.total is not None
            _parallel(
                fetcher,
                opened,
                staged.fd,
                verifier,
                opened.total,
                max_concurrency or AUTO_CONCURRENCY,
                part_size,
                progress_hook,
            )
        verifier.verify()
        staged.commit()
        return verifier.count


def _sequential(
    fetcher: BlobFetcher,
    opened: Opened,
    fd: int,
    verifier: StreamVerifier,
    progress_hook: Optional[ProgressHook],
) -> None:
    """One streamed GET, hashed inline; a broken connection resumes with a Range."""
    offset = 0
    recoveries = 0
    while True:
        try:
            for chunk in iter_body(opened.response):
                verifier.update(chunk)
                pwrite_all(fd, chunk, offset)
                offset += len(chunk)
                if progress_hook is not None:
                    progress_hook(offset, verifier.size)
            opened.response.close()
            if download_complete(opened, offset, verifier.size):
                return
            # the first answer was one part (see download_to_path): the rest in one stream
            opened = fetcher.open(offset, verifier.size)
            continue
        except Exception as exc:  # noqa: BLE001 - transient failures resume, others raise
            opened.response.close()
            if not (is_transient(exc) or isinstance(exc, _ShortBody)):
                raise
            recoveries += 1
            if recoveries > MAX_RECOVERIES:
                raise
            opened = fetcher.open(offset, verifier.size)


class _ShortBody(DigestValidationError):
    """The body ended (cleanly) before its announced end. Resumed from ``offset``; raised
    when the resumes are spent, as the content then does not match its digest."""

    def __init__(self, offset: int) -> None:
        super().__init__(
            f"the registry's answer ended at byte {offset}, before the body's announced end",
            actual=f"{offset} bytes",
        )
        self.offset = offset


def download_complete(opened: Opened, offset: int, size: Optional[int]) -> bool:
    """After an answer's body ended at ``offset``: True when the blob is complete, False
    when only a first part was asked for and the rest is due.

    :raises _ShortBody: when the answer stopped before its announced end (resumed by the
        caller, or raised once the resumes are spent).
    """
    if opened.end is not None and offset < opened.end:
        raise _ShortBody(offset)
    return size is None or offset >= size


def pwrite_all(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        n = os.pwrite(fd, view, offset)
        view = view[n:]
        offset += n


def _parallel(
    fetcher: BlobFetcher,
    first: Opened,
    fd: int,
    verifier: StreamVerifier,
    total: int,
    max_concurrency: int,
    part_size: int,
    progress_hook: Optional[ProgressHook],
) -> None:
    """Parts fetched by ``max_concurrency`` threads; the calling thread hashes the
    contiguous prefix (read back from the page cache) while later parts still stream."""
    parts = PartPlan(total, part_size)  # lazily: the total is the registry's word
    frontier = HashFrontier(parts)
    cond = threading.Condition()
    failure: list[BaseException] = []
    stop = threading.Event()

    def fetch(index: int, opened: Optional[Opened]) -> None:
        start, end = parts[index]
        recoveries = 0
        while not stop.is_set():
            done = frontier.written[index]
            try:
                if opened is None:
                    opened = fetcher.open(start + done, end)
                for chunk in iter_body(opened.response):
                    if stop.is_set():
                        return
                    pwrite_all(fd, chunk, start + frontier.written[index])
                    with cond:
                        frontier.wrote(index, len(chunk))
                        cond.notify_all()
                opened.response.close()
                if frontier.written[index] >= end - start:
                    return
                raise _ShortBody(start + frontier.written[index])
            except Exception as exc:  # noqa: BLE001 - transient failures resume the part
                if opened is not None:
                    opened.response.close()
                opened = None
                recoveries += 1
                if not (is_transient(exc) or isinstance(exc, _ShortBody)) or (
                    recoveries > MAX_RECOVERIES
                ):
                    raise

    def run(index: int, opened: Optional[Opened]) -> None:
        try:
            fetch(index, opened)
        except BaseException as exc:  # noqa: BLE001 - reported to the hashing thread
            with cond:
                failure.append(exc)
                stop.set()
                cond.notify_all()

    pending = iter(range(1, len(parts)))
    claim = threading.Lock()

    def work(first_job: bool) -> None:
        # each worker claims the next part: no task per part up front
        if first_job:
            run(0, first)
        while not stop.is_set():
            with claim:
                index = next(pending, None)
            if index is None:
                return
            run(index, None)

    with ThreadPoolExecutor(max_concurrency, thread_name_prefix="azurecr-get") as pool:
        for worker in range(max_concurrency):
            pool.submit(work, worker == 0)
        try:
            hashed = 0
            while hashed < total:
                with cond:
                    while not failure and frontier.contiguous() <= hashed:
                        cond.wait()
                    if failure:
                        raise failure[0]
                    ready = frontier.contiguous()
                while hashed < ready:
                    block = os.pread(fd, min(_HASH_BLOCK, ready - hashed), hashed)
                    if not block:
                        raise OSError("the temporary file is shorter than what was written")
                    verifier.update(block)
                    hashed += len(block)
                if progress_hook is not None:
                    progress_hook(hashed, total)
        finally:
            stop.set()
