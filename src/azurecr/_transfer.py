"""The blob transfer engine's decisions, shared by the sync and async clients (no network I/O).

Uploads are driven by :func:`upload_flow`, a generator that yields the *actions* the client
must perform (start a session, send a chunk, ask where the upload stands, ...) and receives
their results, or their exceptions through ``throw``. The sync and async clients only execute
those actions; chunking, the digest computed while streaming, resuming from the registry's
offset and restarting a seekable source are all decided here, once.

Downloads share the range planning, ``Content-Range`` parsing and the verifiers.

Protocol references: OCI distribution spec, "Pushing blobs" (POST / PATCH / PUT, chunked
upload, ``Range`` answers, the upload status ``GET``) and "Pulling blobs" (ranged GET).
"""

from __future__ import annotations

import hashlib
import io
import re
from collections import defaultdict
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Callable, Optional, Union, overload
from urllib.parse import urlsplit

from azure.core.exceptions import (
    HttpResponseError,
    IncompleteReadError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)

from ._errors import BlobUploadError, DigestValidationError, acr_error_code

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "MAX_MANIFEST_SIZE",
    "BlobSource",
    "ProgressHook",
    "Stream",
    "StreamVerifier",
    "UploadResult",
    "content_range",
    "open_source",
    "parse_content_range",
    "plan_ranges",
    "PartPlan",
    "upload_flow",
]

#: Upload chunk size and download part size: the sweep is in benchmarks/README.md.
DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024
MIN_CHUNK_SIZE = 64 * 1024
MAX_CHUNK_SIZE = 512 * 1024 * 1024
#: The largest manifest a registry must accept (OCI distribution spec, "Pushing manifests").
MAX_MANIFEST_SIZE = 4 * 1024 * 1024
#: How many times one transfer may resume or restart before giving up.
MAX_RECOVERIES = 5

ProgressHook = Callable[[int, Optional[int]], None]
BytesLike = Union[bytes, bytearray, memoryview]


# ----------------------------------------------------------------------------- sources
class BlobSource:
    """A blob's bytes, read in chunks while the digest is computed.

    Wraps bytes, a binary readable (file, socket file, pipe) or an iterable of bytes.
    ``read_chunk`` returns exactly ``chunk_size`` bytes except at the end (b"" when done),
    hashing them as it goes; ``rewind`` starts over (only when ``seekable``).
    """

    def __init__(self, chunk_size: int, size: Optional[int], seekable: bool) -> None:
        self.chunk_size = chunk_size
        self.size = size
        self.seekable = seekable
        self.offset = 0  # where the next read starts
        self.hashed_upto = 0  # bytes before this have been hashed, exactly once
        self._hasher = hashlib.sha256()

    @property
    def digest(self) -> str:
        """The sha256 digest of the bytes read so far."""
        return "sha256:" + self._hasher.hexdigest()

    def read_chunk(self) -> bytes:
        return self.read(self.chunk_size)

    def read(self, n: int) -> bytes:
        """Read up to ``n`` bytes (exactly ``n`` unless at the end), hashing the bytes not
        hashed before (after a seek back, re-read bytes are not hashed twice)."""
        data = self._read(n)
        self._absorb(data, self.offset)
        self.offset += len(data)
        return data

    def _absorb(self, data: bytes, position: int) -> None:
        skip = self.hashed_upto - position
        if skip <= 0:
            self._hasher.update(data)
        elif skip < len(data):
            self._hasher.update(memoryview(data)[skip:])
        else:
            return
        self.hashed_upto = position + len(data)

    def seek(self, offset: int) -> None:
        """Continue reading at ``offset`` (seekable sources only; never past what was
        hashed, so the digest stays that of the bytes in order)."""
        if not self.seekable:
            raise ValueError("this source cannot be read twice")
        if not 0 <= offset <= self.hashed_upto:
            raise ValueError(f"cannot continue at {offset}: only {self.hashed_upto} bytes read")
        self._seek(offset)
        self.offset = offset

    def rewind(self) -> None:
        self.seek(0)

    # overridden by the concrete sources
    def _read(self, n: int) -> bytes:  # pragma: no cover - abstract
        raise NotImplementedError

    def _seek(self, offset: int) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def known_digest(self) -> Optional[str]:
        """The digest, when it can be had without consuming the source (bytes only)."""
        return None


class _BytesSource(BlobSource):
    def __init__(self, data: BytesLike, chunk_size: int) -> None:
        self._view = memoryview(data).cast("B")
        super().__init__(chunk_size, len(self._view), True)
        self._pos = 0

        self._digest: Optional[str] = None

    def _read(self, n: int) -> bytes:
        chunk = bytes(self._view[self._pos : self._pos + n])
        self._pos += len(chunk)
        return chunk

    def _absorb(self, data: bytes, position: int) -> None:
        # the digest of the whole buffer is computed once, up front
        self.hashed_upto = max(self.hashed_upto, position + len(data))

    def _seek(self, offset: int) -> None:
        self._pos = offset

    @property
    def digest(self) -> str:
        return self.known_digest()

    def known_digest(self) -> str:
        if self._digest is None:
            self._digest = "sha256:" + hashlib.sha256(self._view).hexdigest()
        return self._digest


class _ReadableSource(BlobSource):
    def __init__(self, stream: Any, chunk_size: int) -> None:
        self._stream = stream
        start: Optional[int] = None
        size: Optional[int] = None
        try:
            if stream.seekable():
                start = int(stream.tell())
                end = int(stream.seek(0, io.SEEK_END))
                stream.seek(start)
                size = end - start
        except (AttributeError, OSError, ValueError):
            start, size = None, None
        self._start = start
        super().__init__(chunk_size, size, start is not None)

    def _read(self, n: int) -> bytes:
        # A pipe or socket returns what it has; keep reading until the chunk is full or EOF,
        # so every chunk but the last has exactly ``chunk_size`` bytes. A regular file
        # answers in one read, and that bytes object is the chunk (no copy).
        pieces: list[bytes] = []
        got = 0
        while got < n:
            piece = self._stream.read(n - got)
            if isinstance(piece, str):
                raise TypeError("the data stream is in text mode; open it in binary mode")
            if piece is None:  # non-blocking stream with nothing ready
                continue
            if not piece:
                break
            if not isinstance(piece, bytes):
                piece = bytes(piece)
            pieces.append(piece)
            got += len(piece)
        if len(pieces) == 1:
            return pieces[0]
        return b"".join(pieces)

    def _seek(self, offset: int) -> None:
        assert self._start is not None
        self._stream.seek(self._start + offset)


class _IterableSource(BlobSource):
    def __init__(self, chunks: Iterable[Any], chunk_size: int) -> None:
        super().__init__(chunk_size, None, False)
        self._iter: Iterator[Any] = iter(chunks)
        self._pending = bytearray()
        self._done = False

    def _read(self, n: int) -> bytes:
        while len(self._pending) < n and not self._done:
            try:
                piece = next(self._iter)
            except StopIteration:
                self._done = True
                break
            if not isinstance(piece, (bytes, bytearray, memoryview)):
                raise TypeError(
                    f"the data iterable yielded {type(piece).__name__}; it must yield bytes"
                )
            self._pending += piece
        with memoryview(self._pending) as view:
            chunk = bytes(view[:n])  # one copy (a bytearray slice would be a second)
        del self._pending[:n]
        return chunk

    def feed(self, piece: BytesLike) -> None:
        """Add bytes from an async iterable (the async client reads it, this buffers)."""
        self._pending += piece

    def _seek(self, offset: int) -> None:  # pragma: no cover - never seekable
        raise ValueError("an iterable cannot be read twice")


DEFAULT_CONCURRENCY = 4
MAX_CONCURRENCY = 64


def check_progress_hook(progress_hook: Any) -> None:
    if progress_hook is not None and not callable(progress_hook):
        raise TypeError(f"progress_hook must be callable, not {type(progress_hook).__name__}")


def check_concurrency(max_concurrency: Optional[int]) -> Optional[int]:
    if max_concurrency is None:
        return None
    if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int):
        raise TypeError(f"max_concurrency must be an int, not {type(max_concurrency).__name__}")
    if not 1 <= max_concurrency <= MAX_CONCURRENCY:
        raise ValueError(f"max_concurrency must be between 1 and {MAX_CONCURRENCY}")
    return max_concurrency


def check_chunk_size(chunk_size: Optional[int]) -> int:
    if chunk_size is None:
        return DEFAULT_CHUNK_SIZE
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int):
        raise TypeError(f"chunk_size must be an int, not {type(chunk_size).__name__}")
    if not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE:
        raise ValueError(
            f"chunk_size must be between {MIN_CHUNK_SIZE} and {MAX_CHUNK_SIZE} bytes, "
            f"not {chunk_size}"
        )
    return chunk_size


def open_source(data: Any, chunk_size: Optional[int] = None) -> BlobSource:
    """Wrap the caller's data: bytes, a binary readable, or an iterable of bytes.

    :raises TypeError: for text, None, or anything that is not one of those.
    :raises ValueError: for a chunk size out of range.
    """
    size = check_chunk_size(chunk_size)
    if isinstance(data, (bytes, bytearray, memoryview)):
        return _BytesSource(data, size)
    if isinstance(data, str):
        raise TypeError("data must be bytes, a binary stream or an iterable of bytes, not str")
    if callable(getattr(data, "read", None)):
        if isinstance(data, io.TextIOBase):
            raise TypeError("the data stream is in text mode; open it in binary mode")
        return _ReadableSource(data, size)
    if isinstance(data, Iterable):
        return _IterableSource(data, size)
    raise TypeError(
        f"data must be bytes, a binary stream or an iterable of bytes, not {type(data).__name__}"
    )


# ----------------------------------------------------------------------------- upload actions
@dataclass
class ReadChunk:
    """Read the next chunk of the source (result: bytes, b"" at the end)."""


@dataclass
class Rewind:
    """Rewind the source to its start (result: None)."""


@dataclass
class Exists:
    """``HEAD`` the blob (result: its size, or None when the registry does not have it)."""

    digest: str


@dataclass
class Start:
    """``POST`` a new upload session (result: the session's ``Location``)."""


@dataclass
class Send:
    """``PATCH`` bytes at ``offset`` (result: the next ``Location``)."""

    location: str
    data: bytes
    offset: int


@dataclass
class Stream:
    """One ``PATCH`` streaming the rest of a seekable source from ``offset`` (no
    ``Content-Range``; bounded memory, each piece hashed once while it is read). Result: the
    next ``Location``.

    With ``digest``, the stream is instead the body of the closing ``PUT ?digest=`` (a
    monolithic upload in one request, as ``docker push`` sends a layer whose digest it
    knows). Result: the registry's ``Docker-Content-Digest``."""

    location: str
    offset: int
    progress_hook: Optional[ProgressHook] = None
    digest: Optional[str] = None


@dataclass
class Complete:
    """``PUT ?digest=`` with the final bytes (result: the registry's ``Docker-Content-Digest``)."""

    location: str
    digest: str
    data: bytes


@dataclass
class Status:
    """``GET`` the upload session (result: how many bytes the registry holds)."""

    location: str


@dataclass
class Cancel:
    """``DELETE`` the upload session (result: None; failures are ignored by the driver)."""

    location: str


Action = Union[ReadChunk, Rewind, Exists, Start, Send, Stream, Complete, Status, Cancel]


@dataclass
class UploadResult:
    """What an upload did: its digest and size, and what it cost (for tests and benchmarks)."""

    digest: str
    size: int
    skipped: bool = False
    resumed: int = 0
    restarted: int = 0
    resent_bytes: int = 0
    session: Optional[str] = None  # the open upload session, to cancel on a failure


class _Restart(Exception):
    """Internal: the registry lost the session or its offset cannot be used."""

    def __init__(self, reason: str, cause: Optional[BaseException] = None) -> None:
        super().__init__(reason)
        self.cause = cause


def is_transient(exc: BaseException) -> bool:
    """A failure after which asking the registry where the upload stands makes sense."""
    if isinstance(exc, (ServiceRequestError, ServiceResponseError, IncompleteReadError)):
        return True
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return True
    if isinstance(exc, HttpResponseError):
        status = exc.status_code or 0
        return status >= 500 or status in (408, 416, 429)
    return False


_SESSION_GONE = ("BLOB_UPLOAD_UNKNOWN", "BLOB_UPLOAD_INVALID")


def session_gone(exc: BaseException) -> bool:
    """The registry no longer knows the session, or it cannot be resumed."""
    if isinstance(exc, ResourceNotFoundError):
        return True
    return acr_error_code(exc) in _SESSION_GONE


def parse_upload_range(value: Optional[str]) -> int:
    """How many bytes the registry holds, from an upload ``Range: 0-<end>`` header.

    Distribution answers ``0-0`` both for an empty session and one holding one byte; it is
    read as 0 here (a wrong guess makes the next ``PATCH`` fail its ``Content-Range`` check,
    which restarts the upload rather than corrupting it).
    """
    if not value:
        return 0
    m = re.fullmatch(r"\s*(?:bytes=)?0-([0-9]+)\s*", value)
    if m is None:
        raise ValueError(f"the registry sent an unreadable upload Range {value!r}")
    end = int(m.group(1))
    return 0 if end == 0 else end + 1


def content_range(offset: int, length: int) -> str:
    """The ``Content-Range`` of an upload chunk (``<start>-<end>``, inclusive; OCI spec)."""
    return f"{offset}-{offset + length - 1}"


def upload_flow(
    source: BlobSource,
    *,
    expected_digest: Optional[str] = None,
    progress_hook: Optional[ProgressHook] = None,
    streamed: bool = False,
) -> Generator[Action, Any, UploadResult]:
    """Decide an upload, one action at a time (see the module docstring).

    One pass over the source, each chunk sent once unless the registry lost it; the
    last chunk travels with the closing ``PUT``. After a transient failure the registry is
    asked where the upload stands and it resumes from there; when the session is gone the
    upload restarts if the source is seekable, else :class:`BlobUploadError` is raised.

    ``streamed`` (seekable sources only): the bytes go in one streamed ``PATCH`` instead of
    chunks held in memory; after a failure the registry's offset is sought in the source.
    """
    if streamed and not source.seekable:
        raise ValueError("only a seekable source can be streamed")
    known = expected_digest or source.known_digest()
    if known is not None:
        size = yield Exists(known)
        if size is not None and (source.size is None or size == source.size):
            _report(progress_hook, size, size)
            return UploadResult(known, size, skipped=True)
    result = UploadResult("", 0)
    once = _upload_streamed if streamed else _upload_once
    while True:
        try:
            return (yield from once(source, result, expected_digest, progress_hook))
        except DigestValidationError:
            raise  # a mismatch with the caller's digest was cancelled where it was found
        except _Restart as caught:
            restart = caught
        except Exception:
            # anything else ends the upload: close the session rather than leave it open
            if result.session is not None:
                yield Cancel(result.session)
            raise
        if not source.seekable:
            raise BlobUploadError(
                "the upload was interrupted and the registry cannot resume it; the data "
                "source cannot be read again (pass bytes or a seekable file to restart "
                "automatically)",
                offset=source.offset,
                error=restart.cause,
            ) from restart.cause
        if result.restarted + result.resumed >= MAX_RECOVERIES:
            raise BlobUploadError(
                f"the upload failed {MAX_RECOVERIES + 1} times; giving up",
                offset=0,
                error=restart.cause,
            ) from restart.cause
        result.restarted += 1
        result.resent_bytes += source.offset
        result.session = None
        yield Rewind()


def _report(hook: Optional[ProgressHook], done: int, total: Optional[int]) -> None:
    if hook is not None:
        hook(done, total)


def _start(result: UploadResult) -> Generator[Action, Any, str]:
    """``POST`` a session; azure-core never retries a POST, but a lost one only leaves an
    unused session behind, so transient failures are retried here (bounded)."""
    attempts = 0
    while True:
        try:
            location: str = yield Start()
        except Exception as exc:  # noqa: BLE001 - classified below, re-raised if not ours
            if not is_transient(exc) or attempts >= MAX_RECOVERIES:
                raise
            attempts += 1
            continue
        result.session = location
        return location


def _upload_once(
    source: BlobSource,
    result: UploadResult,
    expected_digest: Optional[str],
    progress_hook: Optional[ProgressHook],
) -> Generator[Action, Any, UploadResult]:
    location = yield from _start(result)
    confirmed = 0
    current: bytes = yield ReadChunk()
    following = b""
    while True:
        # The last chunk travels with the closing PUT, so each chunk is sent only once it is
        # known not to be the last: by the size when known (no look-ahead held in memory),
        # else by reading the next chunk first.
        if source.size is not None:
            last = not current or len(current) < source.chunk_size
            last = last or confirmed + len(current) >= source.size
        else:
            following = (yield ReadChunk()) if current else b""
            last = not following
        if last:
            break
        location = yield from _deliver(source, result, location, current, confirmed, None)
        result.session = location
        confirmed += len(current)
        _report(progress_hook, confirmed, source.size)
        current = following if source.size is None else (yield ReadChunk())
        following = b""
    digest = source.digest
    if expected_digest is not None and digest != expected_digest:
        yield Cancel(location)
        raise _caller_digest_error(expected_digest, digest)
    registry_digest = yield from _deliver(source, result, location, current, confirmed, digest)
    size = confirmed + len(current)
    if registry_digest and registry_digest != digest:
        raise DigestValidationError(
            "the registry stored the blob under another digest than the one computed while "
            "uploading",
            expected=digest,
            actual=registry_digest,
        )
    _report(progress_hook, size, source.size if source.size is not None else size)
    result.digest, result.size, result.session = digest, size, None
    return result


def _upload_streamed(
    source: BlobSource,
    result: UploadResult,
    expected_digest: Optional[str],
    progress_hook: Optional[ProgressHook],
) -> Generator[Action, Any, UploadResult]:
    location = yield from _start(result)
    offset = 0
    # The digest known up front: the bytes go in the closing PUT, one request. After a
    # failure the upload resumes with a PATCH from what the registry holds.
    monolithic = expected_digest
    registry_digest: Optional[str] = None
    while True:
        try:
            answer = yield Stream(location, offset, progress_hook, monolithic)
            if monolithic is not None:
                registry_digest = answer
            else:
                location = answer
                result.session = location
            break
        except Exception as exc:  # noqa: BLE001 - classified below, re-raised if not ours
            if monolithic is not None and _mismatch(source, monolithic):
                yield Cancel(location)
                raise _caller_digest_error(monolithic, source.digest) from exc
            if not is_transient(exc) or result.resumed + result.restarted >= MAX_RECOVERIES:
                raise
            cause = exc
        monolithic = None
        try:
            held = yield Status(location)
        except Exception as exc:  # noqa: BLE001 - classified below
            if session_gone(exc) or is_transient(exc):
                raise _Restart(location, exc) from exc
            raise
        if not 0 <= held <= source.hashed_upto:
            raise _Restart(location, cause)
        result.resumed += 1
        offset = held
    size = source.offset
    digest = source.digest
    if registry_digest is None:
        if expected_digest is not None and digest != expected_digest:
            yield Cancel(location)
            raise _caller_digest_error(expected_digest, digest)
        registry_digest = yield from _deliver(source, result, location, b"", size, digest)
    if registry_digest and registry_digest != digest:
        raise DigestValidationError(
            "the registry stored the blob under another digest than the one computed while "
            "uploading",
            expected=digest,
            actual=registry_digest,
        )
    _report(progress_hook, size, size)
    result.digest, result.size, result.session = digest, size, None
    return result


def _mismatch(source: BlobSource, expected_digest: str) -> bool:
    """Whether the whole source was read and its digest is not the caller's."""
    whole = source.size is not None and source.hashed_upto >= source.size
    return whole and source.digest != expected_digest


def _caller_digest_error(expected: str, actual: str) -> DigestValidationError:
    return DigestValidationError(
        "the data does not have the digest the caller gave; nothing was stored",
        expected=expected,
        actual=actual,
    )


def _deliver(
    source: BlobSource,
    result: UploadResult,
    location: str,
    data: bytes,
    offset: int,
    final_digest: Optional[str],
) -> Generator[Action, Any, str]:
    """Send ``data`` (at ``offset``) with PATCH, or with the closing PUT when
    ``final_digest`` is given; resume from the registry's offset after a transient failure.
    Returns the next Location (PATCH) or the registry's digest (PUT)."""
    start = 0  # how much of ``data`` the registry already holds
    while True:
        piece = data if start == 0 else data[start:]
        try:
            if final_digest is None:
                next_location: str = yield Send(location, piece, offset + start)
                return next_location
            stored: str = yield Complete(location, final_digest, piece)
            return stored
        except Exception as exc:  # noqa: BLE001 - classified below, re-raised if not ours
            if not is_transient(exc) and not session_gone(exc):
                raise
            if result.resumed + result.restarted >= MAX_RECOVERIES:
                raise
            cause = exc
        if session_gone(cause) and final_digest is None:
            raise _Restart(location, cause)
        try:
            held = yield Status(location)
        except Exception as exc:  # noqa: BLE001 - classified below
            if final_digest is not None and session_gone(exc):
                # The closing PUT may have succeeded before the connection dropped: a
                # finished session is gone, and the blob is there.
                size = yield Exists(final_digest)
                if size is not None:
                    return final_digest
            if session_gone(exc) or is_transient(exc):
                raise _Restart(location, exc) from exc
            raise
        if not offset <= held <= offset + len(data):
            raise _Restart(location, cause)
        result.resumed += 1
        start = held - offset
        if start == len(data) and final_digest is None:
            return location


def session_link(location: Optional[str], endpoint: str) -> str:
    """The upload session address to pass to the generated operations: a ``Location``
    header made relative to the endpoint, without its leading slash.

    :raises ValueError: when the registry names no session or one on another origin (the
        session's requests carry the registry's token, which must not leave its origin).
    """
    if not location:
        raise ValueError("the registry started an upload without a Location header")
    parts = urlsplit(location)
    if parts.scheme or parts.netloc:
        if not same_origin(location, endpoint):
            raise ValueError(
                f"the registry sent an upload Location on another origin ({parts.scheme}://"
                f"{parts.netloc}); refusing to send the registry's credentials there"
            )
    path = parts.path.lstrip("/")
    return f"{path}?{parts.query}" if parts.query else path


_DEFAULT_PORTS = {"https": 443, "http": 80}


def _origin(url: str) -> tuple[str, str, Optional[int]]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:  # an unreadable port is no origin of ours
        return scheme, "\0", None
    return scheme, (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(scheme)


def same_origin(url: str, endpoint: str) -> bool:
    """Whether an absolute URL is on the endpoint's origin (scheme, host and port, with
    the scheme's default port filled in)."""
    return _origin(url) == _origin(endpoint)


# ----------------------------------------------------------------------------- downloads
_CONTENT_RANGE = re.compile(r"bytes ([0-9]+)-([0-9]+)/([0-9]+|\*)")


def parse_content_range(value: Optional[str]) -> tuple[int, int, Optional[int]]:
    """``Content-Range: bytes <start>-<end>/<total>`` -> (start, end inclusive, total).

    :raises ValueError: when the header is missing or malformed.
    """
    if not value:
        raise ValueError("the registry answered a ranged request without Content-Range")
    m = _CONTENT_RANGE.fullmatch(value.strip())
    if m is None:
        raise ValueError(f"the registry sent an unreadable Content-Range {value!r}")
    start, end = int(m.group(1)), int(m.group(2))
    total = None if m.group(3) == "*" else int(m.group(3))
    if end < start or (total is not None and end >= total):
        raise ValueError(f"the registry sent an impossible Content-Range {value!r}")
    return start, end, total


def range_header(start: int, end: Optional[int] = None) -> str:
    """A ``Range`` request header for bytes ``start..end`` (inclusive), or ``start..``."""
    return f"bytes={start}-" if end is None else f"bytes={start}-{end}"


def plan_ranges(size: int, part_size: int, first: int = 0) -> list[tuple[int, int]]:
    """Split ``[first, size)`` into ``(start, end_exclusive)`` parts of ``part_size`` bytes."""
    return [(s, min(s + part_size, size)) for s in range(first, size, part_size)]


class PartPlan(Sequence[tuple[int, int]]):
    """The parts of :func:`plan_ranges`, computed on demand: a size announced by the
    registry (which a hostile one may inflate to petabytes) costs no memory up front."""

    def __init__(self, size: int, part_size: int) -> None:
        self._starts = range(0, size, part_size)
        self._size = size
        self._part_size = part_size

    def __len__(self) -> int:
        return len(self._starts)

    @overload
    def __getitem__(self, index: int) -> tuple[int, int]: ...

    @overload
    def __getitem__(self, index: slice) -> list[tuple[int, int]]: ...

    def __getitem__(
        self, index: Union[int, slice]
    ) -> Union[tuple[int, int], list[tuple[int, int]]]:
        if isinstance(index, slice):
            return [self[i] for i in range(len(self))[index]]
        start = self._starts[index]
        return start, min(start + self._part_size, self._size)


class StreamVerifier:
    """Checks that a stream has the expected size and digest, as its bytes go by."""

    def __init__(self, digest: str, size: Optional[int] = None) -> None:
        algorithm, _, _ = digest.partition(":")
        self.digest = digest
        self.size = size
        self.count = 0
        self._hasher = hashlib.new(algorithm)

    def update(self, data: BytesLike) -> None:
        self.count += len(data)
        if self.size is not None and self.count > self.size:
            raise DigestValidationError(
                f"the registry sent more than the {self.size} bytes it announced for {self.digest}",
                expected=self.digest,
            )
        self._hasher.update(data)

    @property
    def actual(self) -> str:
        return f"{self._hasher.name}:{self._hasher.hexdigest()}"

    def verify(self) -> None:
        """:raises DigestValidationError: on a short body or a digest mismatch."""
        if self.size is not None and self.count != self.size:
            raise DigestValidationError(
                f"the registry sent {self.count} of the {self.size} bytes of {self.digest}",
                expected=self.digest,
                actual=f"{self.count} bytes",
            )
        actual = self.actual
        if actual != self.digest:
            raise DigestValidationError(
                "the content the registry sent does not match its digest",
                expected=self.digest,
                actual=actual,
            )


class HashFrontier:
    """Bookkeeping of a parallel download: which bytes are on disk, and how far from the
    start they are contiguous (that prefix can be hashed while later parts still stream).

    Not thread-safe by itself: the sync driver guards it with a ``threading.Condition``,
    the async one runs it on the event loop.
    """

    def __init__(self, parts: Sequence[tuple[int, int]]) -> None:
        self.parts = parts
        # bytes written per part index; only parts that received bytes take memory
        self.written: defaultdict[int, int] = defaultdict(int)
        self._next = 0  # first part not yet complete
        self.hashed = parts[0][0] if parts else 0

    def wrote(self, index: int, n: int) -> None:
        self.written[index] += n
        start, end = self.parts[index]
        if self.written[index] > end - start:
            raise DigestValidationError(
                f"the registry sent more than the {end - start} bytes asked for at {start}"
            )

    def contiguous(self) -> int:
        """The end of the contiguous prefix on disk."""
        while self._next < len(self.parts):
            start, end = self.parts[self._next]
            if start + self.written[self._next] < end:
                return start + self.written[self._next]
            self._next += 1
        return self.parts[-1][1] if self.parts else 0


class StreamCursor:
    """The state of a streamed download (``DownloadBlobStream`` and its async twin):
    bytes handed out, the verifier, leftovers of ``read(n)``, and when to resume."""

    def __init__(self, digest: str, size: Optional[int]) -> None:
        self.verifier = StreamVerifier(digest, size)
        self.offset = 0
        self.recoveries = 0
        self.done = False
        self.leftover = b""

    def accept(self, chunk: bytes) -> bytes:
        self.verifier.update(chunk)
        self.offset += len(chunk)
        return chunk

    def finished(self) -> bool:
        """At the end of a response body: True when the blob is complete and verified;
        False when the body stopped short and the download should resume from ``offset``."""
        size = self.verifier.size
        if size is not None and self.offset < size:
            return False
        self.verifier.verify()
        self.done = True
        return True

    def may_resume(self, exc: BaseException) -> bool:
        if not is_transient(exc) or self.recoveries >= MAX_RECOVERIES:
            return False
        self.recoveries += 1
        return True

    def take(self, size: int, chunk: bytes) -> bytes:
        """Split ``chunk`` at ``size`` bytes, keeping the rest for the next read."""
        if size < 0 or len(chunk) <= size:
            return chunk
        self.leftover = chunk[size:]
        return chunk[:size]


def check_manifest_size(announced: Optional[int]) -> None:
    from ._errors import ManifestTooLargeError

    if announced is not None and announced > MAX_MANIFEST_SIZE:
        raise ManifestTooLargeError(
            f"the manifest is {announced} bytes; manifests over {MAX_MANIFEST_SIZE} bytes "
            "are refused"
        )
