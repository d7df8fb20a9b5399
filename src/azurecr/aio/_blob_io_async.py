"""Asynchronous I/O of the blob transfer engine: the async client's half.

The twin of :mod:`azurecr._blob_io`: the same decisions from :mod:`azurecr._transfer`,
executed with the generated async operations and asyncio tasks.
"""

from __future__ import annotations

import asyncio
import inspect
import io
import os
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any, Optional, Union

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError, map_error
from azure.core.rest import AsyncHttpResponse

from .._blob_io import (
    _ERROR_MAP,
    _HASH_BLOCK,
    AUTO_CONCURRENCY,
    STREAM_PIECE,
    FetchPlan,
    Opened,
    StagedFile,
    _ShortBody,
    download_complete,
    pwrite_all,
    single_stream,
)
from .._errors import service_errors
from .._transfer import (
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
    _IterableSource,
    check_chunk_size,
    content_range,
    is_transient,
    open_source,
    parse_upload_range,
    session_link,
)

__all__ = ["AsyncBlobFetcher", "download_to_path_async", "open_async_source", "run_upload_async"]


def _headers(pipeline_response: Any, deserialized: Any, headers: dict[str, Any]) -> Any:
    return headers


# ----------------------------------------------------------------------------- sources
class _AsyncSource:
    """Reads chunks for the async upload: from an async iterable or an async ``read``
    on the event loop, from anything else (bytes, files, sync iterables) in a thread, with
    the next chunk prefetched while the current one is sent."""

    def __init__(self, data: Any, source: BlobSource) -> None:
        self.source = source
        self._aiter: Optional[AsyncIterator[Any]] = None
        self._aread: Any = None
        if hasattr(data, "__aiter__"):
            self._aiter = data.__aiter__()
        elif inspect.iscoroutinefunction(getattr(data, "read", None)):
            self._aread = data.read
        self._next: Optional[asyncio.Task[bytes]] = None
        self._exhausted = False

    async def _fill(self) -> bytes:
        src = self.source
        assert isinstance(src, _IterableSource)
        while len(src._pending) < src.chunk_size and not self._exhausted:
            if self._aiter is not None:
                try:
                    piece = await self._aiter.__anext__()
                except StopAsyncIteration:
                    self._exhausted = True
                    break
            else:
                piece = await self._aread(src.chunk_size - len(src._pending))
                if not piece:
                    self._exhausted = True
                    break
            if not isinstance(piece, (bytes, bytearray, memoryview)):
                raise TypeError(f"the data yielded {type(piece).__name__}; it must yield bytes")
            src.feed(piece)
        if self._exhausted:
            src._done = True
        return await asyncio.to_thread(src.read_chunk)

    async def _read_one(self) -> bytes:
        if self._aiter is not None or self._aread is not None:
            return await self._fill()
        return await asyncio.to_thread(self.source.read_chunk)

    async def prepare(self) -> None:
        """Hash an in-memory source in a worker thread before the flow asks for its
        digest (the flow is synchronous code running on the event loop)."""
        if self._aiter is None and self._aread is None and self.source.size:
            await asyncio.to_thread(self.source.known_digest)

    async def read(self) -> bytes:
        if self._next is None:
            data = await self._read_one()
        else:
            data = await self._next
            self._next = None
        if data and (self.source.size is None or self.source.offset < self.source.size):
            self._next = asyncio.ensure_future(self._read_one())
        return data

    async def rewind(self) -> None:
        await self.close()
        self.source.rewind()

    async def close(self) -> None:
        if self._next is not None:
            try:
                await self._next
            except Exception:  # noqa: BLE001, S110 - discarded read-ahead
                pass
            self._next = None


def open_async_source(data: Any, chunk_size: Optional[int]) -> _AsyncSource:
    """Wrap the caller's data for the async upload (async iterables and async readables
    too, besides what :func:`azurecr._transfer.open_source` takes)."""
    if hasattr(data, "__aiter__") or inspect.iscoroutinefunction(getattr(data, "read", None)):
        return _AsyncSource(data, _IterableSource(iter(()), check_chunk_size(chunk_size)))
    return _AsyncSource(data, open_source(data, chunk_size))


def _body(data: bytes) -> Any:
    """A chunk as a stream: aiohttp then writes it in small pieces, waiting for the socket,
    instead of handing asyncio's TLS layer the whole chunk (several chunk-sized copies)."""
    return io.BytesIO(data) if data else data


async def _stream_body(
    source: BlobSource, offset: int, hook: Optional[ProgressHook]
) -> AsyncGenerator[bytes, None]:
    """Async twin of ``_blob_io._StreamBody``: the next piece is read and hashed in a worker
    thread while the current one is sent."""
    await asyncio.to_thread(source.seek, offset)
    position = offset
    ahead = asyncio.ensure_future(asyncio.to_thread(source.read, STREAM_PIECE))
    try:
        while True:
            piece = await ahead
            if not piece:
                return
            ahead = asyncio.ensure_future(asyncio.to_thread(source.read, STREAM_PIECE))
            yield piece
            position += len(piece)
            if hook is not None:
                hook(position, source.size)
    finally:
        if not ahead.done():
            try:
                await ahead
            except Exception:  # noqa: BLE001, S110 - the read-ahead is discarded
                pass


def _with_length(kwargs: dict[str, Any], source: BlobSource, offset: int) -> dict[str, Any]:
    """The request keywords with a ``Content-Length`` for a streamed body: aiohttp then sends
    it as is, as curl -T does, instead of ``Transfer-Encoding: chunked``."""
    if source.size is None:
        return kwargs
    headers = dict(kwargs.get("headers") or {})
    headers["Content-Length"] = str(source.size - offset)
    return dict(kwargs, headers=headers)


async def run_upload_async(
    client: Any,
    repository: str,
    flow: Any,
    reader: _AsyncSource,
    endpoint: str,
    **kwargs: Any,
) -> UploadResult:
    """Execute an upload flow with the generated async operations."""
    ops = client.container_registry_blob
    once = dict(kwargs, retry_total=0)

    async def execute(action: Action) -> Any:
        if isinstance(action, ReadChunk):
            return await reader.read()
        if isinstance(action, Rewind):
            return await reader.rewind()
        if isinstance(action, Exists):
            try:
                with service_errors():
                    headers = await ops.check_blob_exists(
                        repository, action.digest, cls=_headers, **kwargs
                    )
            except ResourceNotFoundError:
                return None
            return headers.get("Content-Length")
        if isinstance(action, Start):
            with service_errors():
                headers = await ops.start_upload(repository, cls=_headers, **kwargs)
            return session_link(headers.get("Location"), endpoint)
        if isinstance(action, Send):
            with service_errors():
                headers = await ops.upload_chunk(
                    action.location,
                    _body(action.data),
                    content_range=content_range(action.offset, len(action.data)),
                    cls=_headers,
                    **once,
                )
            return session_link(headers.get("Location"), endpoint)
        if isinstance(action, Stream):
            body = _stream_body(reader.source, action.offset, action.progress_hook)
            sized = _with_length(once, reader.source, action.offset)
            try:
                with service_errors():
                    if action.digest is not None:
                        headers = await ops.complete_upload(
                            action.location, action.digest, value=body, cls=_headers, **sized
                        )
                        return headers.get("Docker-Content-Digest")
                    headers = await ops.upload_chunk(action.location, body, cls=_headers, **sized)
            finally:
                await body.aclose()
            return session_link(headers.get("Location"), endpoint)
        if isinstance(action, Complete):
            with service_errors():
                headers = await ops.complete_upload(
                    action.location, action.digest, value=_body(action.data), cls=_headers, **once
                )
            return headers.get("Docker-Content-Digest")
        if isinstance(action, Status):
            with service_errors():
                headers = await ops.get_upload_status(action.location, cls=_headers, **kwargs)
            return parse_upload_range(headers.get("Range"))
        if isinstance(action, Cancel):
            try:
                await ops.cancel_upload(action.location, **once)
            except HttpResponseError:
                pass
            return None
        raise AssertionError(f"unknown upload action {action!r}")  # pragma: no cover

    try:
        await reader.prepare()
        action = next(flow)
        while True:
            try:
                result = await execute(action)
            except Exception as exc:  # noqa: BLE001 - handed to the flow, which decides
                action = flow.throw(exc)
            else:
                action = flow.send(result)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    finally:
        await reader.close()


# ----------------------------------------------------------------------------- download
async def raise_for_status_async(response: AsyncHttpResponse, ok: tuple[int, ...]) -> None:
    if response.status_code in ok:
        return
    try:
        await response.read()
    except Exception:  # noqa: BLE001, S110 - the status alone still makes the error
        pass
    with service_errors():
        map_error(status_code=response.status_code, response=response, error_map=_ERROR_MAP)
        raise HttpResponseError(response=response)


class AsyncBlobFetcher(FetchPlan):
    """Async twin of :class:`azurecr._blob_io.BlobFetcher` (decisions in ``FetchPlan``)."""

    def __init__(
        self, client: Any, endpoint: str, repository: str, digest: str, **kwargs: Any
    ) -> None:
        super().__init__(endpoint, repository, digest, **kwargs)
        self._client = client

    async def open(self, start: int = 0, end: Optional[int] = None) -> Opened:
        request = self.request(start, end)
        response = await self._client._send_request(request, stream=True, **self._kwargs)
        again = self.ask_again(response.status_code, start, end)
        if again is not None:
            await response.close()
            return await self.open(*again)
        await raise_for_status_async(response, (200, 206))
        try:
            return self.accept(response, start, end)
        except HttpResponseError:
            await response.close()
            raise


def aiter_body(response: Any) -> AsyncIterator[bytes]:
    return response.iter_raw()  # type: ignore[no-any-return]


async def download_to_path_async(
    fetcher: AsyncBlobFetcher,
    digest: str,
    path: Union[str, os.PathLike[str]],
    *,
    max_concurrency: Optional[int],
    part_size: int,
    progress_hook: Optional[ProgressHook],
) -> int:
    """Async twin of :func:`azurecr._blob_io.download_to_path`."""
    with StagedFile(path) as staged:
        first_end = None if max_concurrency == 1 else part_size
        opened = await fetcher.open(0, first_end)
        verifier = StreamVerifier(digest, opened.total)
        if single_stream(opened, max_concurrency, fetcher.redirected):
            await _sequential(fetcher, opened, staged.fd, verifier, progress_hook)
        else:
            assert opened.total is not None
            await _parallel(
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


async def _sequential(
    fetcher: AsyncBlobFetcher,
    opened: Opened,
    fd: int,
    verifier: StreamVerifier,
    progress_hook: Optional[ProgressHook],
) -> None:
    offset = 0
    recoveries = 0
    while True:
        try:
            async for chunk in aiter_body(opened.response):
                verifier.update(chunk)
                pwrite_all(fd, chunk, offset)
                offset += len(chunk)
                if progress_hook is not None:
                    progress_hook(offset, verifier.size)
            await opened.response.close()
            if download_complete(opened, offset, verifier.size):
                return
            # the first answer was one part (see download_to_path): the rest in one stream
            opened = await fetcher.open(offset, verifier.size)
            continue
        except Exception as exc:  # noqa: BLE001 - transient failures resume, others raise
            await opened.response.close()
            if not (is_transient(exc) or isinstance(exc, _ShortBody)):
                raise
            recoveries += 1
            if recoveries > MAX_RECOVERIES:
                raise
            opened = await fetcher.open(offset, verifier.size)


async def _parallel(
    fetcher: AsyncBlobFetcher,
    first: Opened,
    fd: int,
    verifier: StreamVerifier,
    total: int,
    max_concurrency: int,
    part_size: int,
    progress_hook: Optional[ProgressHook],
) -> None:
    parts = PartPlan(total, part_size)  # lazily: the total is the registry's word
    frontier = HashFrontier(parts)
    changed = asyncio.Event()
    pending = iter(range(1, len(parts)))  # shared: each worker claims the next part

    async def fetch(index: int, opened: Optional[Opened]) -> None:
        start, end = parts[index]
        recoveries = 0
        while True:
            try:
                if opened is None:
                    opened = await fetcher.open(start + frontier.written[index], end)
                async for chunk in aiter_body(opened.response):
                    pwrite_all(fd, chunk, start + frontier.written[index])
                    frontier.wrote(index, len(chunk))
                    changed.set()
                await opened.response.close()
                if frontier.written[index] >= end - start:
                    return
                raise _ShortBody(start + frontier.written[index])
            except Exception as exc:  # noqa: BLE001 - transient failures resume the part
                if opened is not None:
                    await opened.response.close()
                opened = None
                recoveries += 1
                if not (is_transient(exc) or isinstance(exc, _ShortBody)) or (
                    recoveries > MAX_RECOVERIES
                ):
                    raise

    async def worker(first_job: Optional[tuple[int, Opened]]) -> None:
        if first_job is not None:
            await fetch(*first_job)
        for index in pending:
            await fetch(index, None)

    async def hash_prefix() -> None:
        hashed = 0
        while hashed < total:
            await changed.wait()
            changed.clear()
            ready = frontier.contiguous()
            while hashed < ready:
                block = await asyncio.to_thread(
                    os.pread, fd, min(_HASH_BLOCK, ready - hashed), hashed
                )
                if not block:
                    raise OSError("the temporary file is shorter than what was written")
                await asyncio.to_thread(verifier.update, block)
                hashed += len(block)
            if progress_hook is not None:
                progress_hook(hashed, total)

    workers = [asyncio.ensure_future(worker((0, first)))]
    workers += [asyncio.ensure_future(worker(None)) for _ in range(max_concurrency - 1)]
    hasher = asyncio.ensure_future(hash_prefix())
    try:
        await asyncio.gather(*workers)
        changed.set()
        await hasher
    finally:
        for task in [*workers, hasher]:
            task.cancel()
        await asyncio.gather(*workers, hasher, return_exceptions=True)
        await first.response.close()
