"""``AsyncDownloadBlobStream``: the async twin of :class:`azurecr.DownloadBlobStream`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import TracebackType
from typing import Optional, Union

from .._blob_io import Opened
from .._transfer import MAX_RECOVERIES, StreamCursor
from ._blob_io_async import AsyncBlobFetcher, aiter_body

__all__ = ["AsyncDownloadBlobStream"]


class AsyncDownloadBlobStream(AsyncIterator[bytes]):
    """The bytes of a blob, streamed from one GET (resumed with a ``Range`` if the
    connection breaks) and checked against the blob's digest and size.

    Iterate it (``async for``) for chunks, or await :meth:`read`, :meth:`readall` or
    :meth:`readinto`.
    The check completes when the end is reached: the last iteration (or the read that
    reaches the end) raises :class:`~azurecr.DigestValidationError` if the content does not
    match. Use :meth:`readall`, or ``download_blob_to_path``, to get only verified bytes.
    Close it (or use it as a context manager) to release the connection early.
    """

    def __init__(self, fetcher: AsyncBlobFetcher, opened: Opened, digest: str) -> None:
        self._fetcher = fetcher
        self._opened = opened
        self._chunks: AsyncIterator[bytes] = aiter_body(opened.response)
        self._cursor = StreamCursor(digest, opened.total)
        self._digest = digest

    @property
    def digest(self) -> str:
        """The digest the content is checked against."""
        return self._digest

    @property
    def size(self) -> Optional[int]:
        """The blob's size in bytes, as announced by the registry (None if it did not say)."""
        return self._cursor.verifier.size

    @property
    def bytes_read(self) -> int:
        """How many bytes have been handed out so far."""
        return self._cursor.offset - len(self._cursor.leftover)

    def __aiter__(self) -> AsyncDownloadBlobStream:
        return self

    async def __anext__(self) -> bytes:
        cursor = self._cursor
        if cursor.leftover:
            chunk, cursor.leftover = cursor.leftover, b""
            return chunk
        while not cursor.done:
            try:
                chunk = await self._chunks.__anext__()
            except StopAsyncIteration:
                await self._opened.response.close()
                if cursor.finished():
                    break
                if cursor.recoveries >= MAX_RECOVERIES:
                    cursor.verifier.verify()  # raises: the body is short
                cursor.recoveries += 1
                await self._resume()
                continue
            except Exception as exc:
                await self._opened.response.close()
                if not cursor.may_resume(exc):
                    raise
                await self._resume()
                continue
            if chunk:
                return cursor.accept(chunk)
        raise StopAsyncIteration

    async def _resume(self) -> None:
        self._opened = await self._fetcher.open(self._cursor.offset, self.size)
        self._chunks = aiter_body(self._opened.response)

    async def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` bytes (all that remain when negative); b"" at the end.

        :param int size: how many bytes to read at most.
        :rtype: bytes
        :raises ~azurecr.DigestValidationError: when the read reaches the end and the
            content does not match the digest.
        """
        if size == 0:
            return b""
        parts: list[bytes] = []
        want = size
        async for chunk in self:
            chunk = self._cursor.take(want, chunk) if want >= 0 else chunk
            parts.append(chunk)
            if want >= 0:
                want -= len(chunk)
                if want <= 0:
                    break
        return b"".join(parts)

    async def readall(self) -> bytes:
        """Read the rest of the blob, verified.

        :rtype: bytes
        :raises ~azurecr.DigestValidationError: when the content does not match the digest.
        """
        return await self.read(-1)

    async def readinto(self, buffer: Union[bytearray, memoryview]) -> int:
        """Read into a writable buffer; returns the number of bytes read (0 at the end)."""
        view = memoryview(buffer).cast("B")
        data = await self.read(len(view))
        view[: len(data)] = data
        return len(data)

    async def close(self) -> None:
        """Release the connection; the rest of the blob is not read."""
        await self._opened.response.close()

    async def __aenter__(self) -> AsyncDownloadBlobStream:
        return self

    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        await self.close()
