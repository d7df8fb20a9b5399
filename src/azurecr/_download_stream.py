"""``DownloadBlobStream``: a blob streamed from the registry, verified as it goes."""

from __future__ import annotations

from collections.abc import Iterator
from types import TracebackType
from typing import Optional, Union

from ._blob_io import BlobFetcher, Opened, iter_body
from ._transfer import MAX_RECOVERIES, StreamCursor

__all__ = ["DownloadBlobStream"]


class DownloadBlobStream(Iterator[bytes]):
    """The bytes of a blob, streamed from one GET (resumed with a ``Range`` if the
    connection breaks) and checked against the blob's digest and size.

    Iterate it for chunks, or call :meth:`read`, :meth:`readall` or :meth:`readinto`.
    The check completes when the end is reached: the last iteration (or the read that
    reaches the end) raises :class:`~azurecr.DigestValidationError` if the content does not
    match. Use :meth:`readall`, or ``download_blob_to_path``, to get only verified bytes.
    Close it (or use it as a context manager) to release the connection early.
    """

    def __init__(self, fetcher: BlobFetcher, opened: Opened, digest: str) -> None:
        self._fetcher = fetcher
        self._opened = opened
        self._chunks: Iterator[bytes] = iter_body(opened.response)
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

    def __iter__(self) -> DownloadBlobStream:
        return self

    def __next__(self) -> bytes:
        cursor = self._cursor
        if cursor.leftover:
            chunk, cursor.leftover = cursor.leftover, b""
            return chunk
        while not cursor.done:
            try:
                chunk = next(self._chunks)
            except StopIteration:
                self._opened.response.close()
                if cursor.finished():
                    break
                if cursor.recoveries >= MAX_RECOVERIES:
                    cursor.verifier.verify()  # raises: the body is short
                cursor.recoveries += 1
                self._resume()
                continue
            except Exception as exc:
                self._opened.response.close()
                if not cursor.may_resume(exc):
                    raise
                self._resume()
                continue
            if chunk:
                return cursor.accept(chunk)
        raise StopIteration

    def _resume(self) -> None:
        self._opened = self._fetcher.open(self._cursor.offset, self.size)
        self._chunks = iter_body(self._opened.response)

    def read(self, size: int = -1) -> bytes:
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
        for chunk in self:
            chunk = self._cursor.take(want, chunk) if want >= 0 else chunk
            parts.append(chunk)
            if want >= 0:
                want -= len(chunk)
                if want <= 0:
                    break
        return b"".join(parts)

    def readall(self) -> bytes:
        """Read the rest of the blob, verified.

        :rtype: bytes
        :raises ~azurecr.DigestValidationError: when the content does not match the digest.
        """
        return self.read(-1)

    def readinto(self, buffer: Union[bytearray, memoryview]) -> int:
        """Read into a writable buffer; returns the number of bytes read (0 at the end)."""
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        """Release the connection; the rest of the blob is not read."""
        self._opened.response.close()

    def __enter__(self) -> DownloadBlobStream:
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()
