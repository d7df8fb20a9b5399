"""The transfer engine's pure decisions: sources, the upload flow's recovery, ranges and
verifiers. The flow is driven here by a small in-memory registry that can be told to fail."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterator
from typing import Any, Optional

import pytest
from azure.core.exceptions import HttpResponseError, ServiceResponseError

from azurecr import BlobUploadError, DigestValidationError
from azurecr._transfer import (
    Cancel,
    Complete,
    Exists,
    HashFrontier,
    ReadChunk,
    Rewind,
    Send,
    Start,
    Status,
    Stream,
    StreamVerifier,
    content_range,
    open_source,
    parse_content_range,
    parse_upload_range,
    plan_ranges,
    session_link,
    upload_flow,
)

CHUNK = 64 * 1024


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class _Gone(HttpResponseError):
    def __init__(self) -> None:
        super().__init__(message="(BLOB_UPLOAD_UNKNOWN) gone")
        self.status_code = 404
        from azure.core.exceptions import ODataV4Format

        self.error = ODataV4Format({"code": "BLOB_UPLOAD_UNKNOWN", "message": "gone"})


class FakeRegistry:
    """Executes upload actions in memory. ``fail`` maps an action index (counting Send and
    Complete actions from 0) to how many bytes of it land before the connection drops;
    ``lose_session`` makes the session unresumable after a failure (like distribution)."""

    def __init__(self, fail: Optional[dict[int, int]] = None, lose_session: bool = False):
        self.blobs: dict[str, bytes] = {}
        self.sessions: dict[str, bytearray] = {}
        self.fail = fail or {}
        self.lose_session = lose_session
        self.sends = 0
        self.log: list[tuple[str, int]] = []
        self.received = 0

    def run(self, flow: Any, source: Any) -> Any:
        action = next(flow)
        try:
            while True:
                try:
                    result = self.execute(action, source)
                except Exception as exc:  # noqa: BLE001
                    action = flow.throw(exc)
                else:
                    action = flow.send(result)
        except StopIteration as stop:
            return stop.value

    def _land(self, session: bytearray, data: bytes) -> None:
        index = self.sends
        self.sends += 1
        if index in self.fail:
            keep = self.fail[index]
            session += data[:keep]
            self.received += keep
            raise ServiceResponseError("connection reset")
        session += data
        self.received += len(data)

    def execute(self, action: Any, source: Any) -> Any:
        if isinstance(action, ReadChunk):
            return source.read_chunk()
        if isinstance(action, Rewind):
            self.log.append(("rewind", 0))
            return source.rewind()
        if isinstance(action, Exists):
            blob = self.blobs.get(action.digest)
            return None if blob is None else len(blob)
        if isinstance(action, Start):
            name = f"s{len(self.sessions)}"
            self.sessions[name] = bytearray()
            return name
        if isinstance(action, Send):
            session = self.sessions.get(action.location)
            if session is None:
                raise _Gone()
            assert action.offset == len(session), "Content-Range does not continue the upload"
            self.log.append(("send", len(action.data)))
            try:
                self._land(session, action.data)
            except ServiceResponseError:
                if self.lose_session:
                    del self.sessions[action.location]
                raise
            return action.location
        if isinstance(action, Stream):
            session = self.sessions.get(action.location)
            if session is None:
                raise _Gone()
            assert action.offset == len(session), "the stream does not continue the upload"
            source.seek(action.offset)
            body = bytearray()
            while piece := source.read(1000):
                body += piece
            self.log.append(("stream-put" if action.digest else "stream", len(body)))
            try:
                self._land(session, bytes(body))
            except ServiceResponseError:
                if self.lose_session:
                    del self.sessions[action.location]
                raise
            if action.digest is None:
                return action.location
            blob = bytes(session)
            if sha(blob) != action.digest:
                raise HttpResponseError("(DIGEST_INVALID) provided digest did not match")
            self.blobs[action.digest] = blob
            del self.sessions[action.location]
            return action.digest
        if isinstance(action, Complete):
            session = self.sessions.get(action.location)
            if session is None:
                raise _Gone()
            self.log.append(("complete", len(action.data)))
            self._land(session, action.data)
            blob = bytes(session)
            assert sha(blob) == action.digest
            self.blobs[action.digest] = blob
            del self.sessions[action.location]
            return action.digest
        if isinstance(action, Status):
            self.log.append(("status", 0))
            session = self.sessions.get(action.location)
            if session is None:
                raise _Gone()
            return len(session)
        if isinstance(action, Cancel):
            self.log.append(("cancel", 0))
            self.sessions.pop(action.location, None)
            return None
        raise AssertionError(action)


def _pipe_like(data: bytes) -> Any:
    class NonSeekable(io.RawIOBase):
        def __init__(self) -> None:
            self._f = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, b: Any) -> int:
            return self._f.readinto(memoryview(b)[:1000])

    return NonSeekable()


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK])
@pytest.mark.parametrize("kind", ["bytes", "file", "pipe", "iterable"])
def test_clean_upload_sends_each_byte_once(size: int, kind: str) -> None:
    data = os.urandom(size)
    src = {
        "bytes": lambda: data,
        "file": lambda: io.BytesIO(data),
        "pipe": lambda: _pipe_like(data),
        "iterable": lambda: iter([data[i : i + 999] for i in range(0, size, 999)]),
    }[kind]()
    source = open_source(src, CHUNK)
    reg = FakeRegistry()
    result = reg.run(upload_flow(source), source)
    assert (result.digest, result.size) == (sha(data), size)
    assert reg.blobs[sha(data)] == data
    assert reg.received == size
    sends = [n for op, n in reg.log if op == "send"]
    assert all(n == CHUNK for n in sends)
    # the final chunk travels with the closing PUT
    assert reg.log[-1][0] == "complete" and reg.log[-1][1] == size - len(sends) * CHUNK


def test_known_blob_is_skipped_without_reading() -> None:
    data = os.urandom(1000)
    reg = FakeRegistry()
    reg.blobs[sha(data)] = data
    stream = io.BytesIO(data)
    source = open_source(stream, CHUNK)
    result = reg.run(upload_flow(source, expected_digest=sha(data)), source)
    assert result.skipped and result.size == 1000 and stream.tell() == 0
    assert reg.log == []


def test_resume_sends_only_what_the_registry_lacks() -> None:
    data = os.urandom(3 * CHUNK + 10)
    source = open_source(_pipe_like(data), CHUNK)  # not seekable: resume must suffice
    reg = FakeRegistry(fail={1: 1000})  # the second PATCH breaks after 1000 bytes
    result = reg.run(upload_flow(source), source)
    assert reg.blobs[result.digest] == data
    assert result.resumed == 1 and result.restarted == 0
    assert ("status", 0) in reg.log
    # nothing was sent twice: the registry holds each byte once
    assert reg.received == len(data)
    assert ("send", CHUNK - 1000) in reg.log


def test_lost_session_restarts_a_seekable_source() -> None:
    data = os.urandom(3 * CHUNK + 10)
    source = open_source(io.BytesIO(data), CHUNK)
    reg = FakeRegistry(fail={1: 500}, lose_session=True)
    result = reg.run(upload_flow(source), source)
    assert reg.blobs[result.digest] == data
    assert result.restarted == 1
    assert ("rewind", 0) in reg.log


def test_lost_session_with_a_pipe_raises_a_clear_error() -> None:
    data = os.urandom(3 * CHUNK)
    source = open_source(_pipe_like(data), CHUNK)
    reg = FakeRegistry(fail={1: 500}, lose_session=True)
    with pytest.raises(BlobUploadError, match="cannot be read again"):
        reg.run(upload_flow(source), source)
    assert reg.blobs == {}


def test_closing_put_lost_after_success_is_not_repeated() -> None:
    data = os.urandom(CHUNK + 5)
    source = open_source(data, CHUNK)
    reg = FakeRegistry()
    original = reg.execute
    state = {"done": False}

    def execute(action: Any, src: Any) -> Any:
        result = original(action, src)
        if isinstance(action, Complete) and not state["done"]:
            state["done"] = True
            raise ServiceResponseError("reset after the registry answered")
        return result

    reg.execute = execute  # type: ignore[method-assign]
    # bytes: HEAD first says absent, then after the lost PUT the HEAD finds the blob
    result = reg.run(upload_flow(source), source)
    assert result.digest == sha(data) and reg.blobs[sha(data)] == data
    assert [op for op, _ in reg.log].count("complete") == 1


def test_repeated_failures_give_up() -> None:
    data = os.urandom(2 * CHUNK)
    source = open_source(io.BytesIO(data), CHUNK)
    reg = FakeRegistry(fail={i: 0 for i in range(50)})
    with pytest.raises((ServiceResponseError, BlobUploadError)):
        reg.run(upload_flow(source), source)


def test_wrong_expected_digest_cancels() -> None:
    data = os.urandom(CHUNK * 2)
    source = open_source(io.BytesIO(data), CHUNK)
    reg = FakeRegistry()
    with pytest.raises(DigestValidationError):
        reg.run(upload_flow(source, expected_digest=sha(b"other")), source)
    assert ("cancel", 0) in reg.log and reg.blobs == {} and reg.sessions == {}


def test_progress_hook() -> None:
    data = os.urandom(2 * CHUNK + 1)
    source = open_source(iter([data]), CHUNK)
    seen: list[tuple[int, Optional[int]]] = []
    FakeRegistry().run(upload_flow(source, progress_hook=lambda d, t: seen.append((d, t))), source)
    assert seen == [(CHUNK, None), (2 * CHUNK, None), (len(data), len(data))]


@pytest.mark.parametrize("bad", ["text", None, 5, io.StringIO("x"), [b"ok", "text"], object()])
def test_sources_refuse_what_is_not_bytes(bad: Any) -> None:
    with pytest.raises(TypeError):
        source = open_source(bad, CHUNK)
        source.read_chunk()


@pytest.mark.parametrize("size", [0, 100, 2**40, True, 1.5])
def test_chunk_size_is_checked(size: Any) -> None:
    with pytest.raises((ValueError, TypeError)):
        open_source(b"x", size)


def test_upload_range_parsing() -> None:
    assert parse_upload_range("0-0") == 0
    assert parse_upload_range("0-1023") == 1024
    assert parse_upload_range(None) == 0
    assert parse_upload_range("bytes=0-9") == 10
    with pytest.raises(ValueError):
        parse_upload_range("5-9")
    assert content_range(0, 10) == "0-9"
    assert content_range(100, 1) == "100-100"


def test_content_range_parsing() -> None:
    assert parse_content_range("bytes 0-9/100") == (0, 9, 100)
    assert parse_content_range("bytes 5-5/*") == (5, 5, None)
    for bad in [None, "", "bytes 9-0/100", "bytes 0-100/100", "0-9/100", "bytes a-b/c"]:
        with pytest.raises(ValueError):
            parse_content_range(bad)


def test_plan_ranges_cover_the_blob() -> None:
    assert plan_ranges(10, 4) == [(0, 4), (4, 8), (8, 10)]
    assert plan_ranges(0, 4) == []
    parts = plan_ranges(10**9 + 7, 8 << 20)
    assert parts[0][0] == 0 and parts[-1][1] == 10**9 + 7
    assert all(a[1] == b[0] for a, b in zip(parts, parts[1:]))


def test_hash_frontier_follows_the_contiguous_prefix() -> None:
    f = HashFrontier(plan_ranges(30, 10))
    f.wrote(1, 10)
    assert f.contiguous() == 0
    f.wrote(0, 4)
    assert f.contiguous() == 4
    f.wrote(0, 6)
    assert f.contiguous() == 20
    f.wrote(2, 10)
    assert f.contiguous() == 30
    with pytest.raises(DigestValidationError):
        f.wrote(2, 1)


def test_stream_verifier() -> None:
    data = b"hello"
    v = StreamVerifier(sha(data), 5)
    v.update(data)
    v.verify()
    short = StreamVerifier(sha(data), 5)
    short.update(b"hell")
    with pytest.raises(DigestValidationError, match="4 of the 5"):
        short.verify()
    wrong = StreamVerifier(sha(data), 5)
    wrong.update(b"jello")
    with pytest.raises(DigestValidationError) as exc:
        wrong.verify()
    assert exc.value.expected == sha(data) and exc.value.actual == sha(b"jello")
    with pytest.raises(DigestValidationError):
        StreamVerifier(sha(data), 2).update(data)


def test_session_links_stay_on_the_registry() -> None:
    ep = "https://reg.example.io"
    assert session_link("/v2/a/blobs/uploads/u?_state=x", ep) == "v2/a/blobs/uploads/u?_state=x"
    assert session_link("https://reg.example.io/v2/a/blobs/uploads/u", ep) == "v2/a/blobs/uploads/u"
    for bad in ["https://evil.example/v2/x", "http://reg.example.io/v2/x", None, ""]:
        with pytest.raises(ValueError):
            session_link(bad, ep)


def _chunks(source: Any) -> Iterator[bytes]:
    while True:
        c = source.read_chunk()
        if not c:
            return
        yield c


def test_readable_sources_fill_whole_chunks() -> None:
    data = os.urandom(5 * CHUNK + 3)
    pieces = list(_chunks(open_source(_pipe_like(data), CHUNK)))
    assert [len(p) for p in pieces] == [CHUNK] * 5 + [3]
    assert b"".join(pieces) == data


@pytest.mark.parametrize("size", [0, 1, 5000, 3 * CHUNK])
def test_streamed_upload_is_one_patch(size: int) -> None:
    data = os.urandom(size)
    source = open_source(io.BytesIO(data), CHUNK)
    reg = FakeRegistry()
    result = reg.run(upload_flow(source, streamed=True), source)
    assert (result.digest, result.size) == (sha(data), size)
    assert reg.blobs[sha(data)] == data
    assert [op for op, _ in reg.log] == ["stream", "complete"]


def test_streamed_upload_resumes_at_the_registry_offset_without_hashing_twice() -> None:
    data = os.urandom(3 * CHUNK + 11)
    source = open_source(io.BytesIO(data), CHUNK)
    reg = FakeRegistry(fail={0: CHUNK + 7})  # the stream breaks after CHUNK + 7 bytes landed
    result = reg.run(upload_flow(source, streamed=True), source)
    assert result.resumed == 1 and result.digest == sha(data)
    assert reg.blobs[sha(data)] == data
    assert reg.received == len(data)  # the tail only was sent again
    assert ("stream", len(data) - CHUNK - 7) in reg.log


def test_streamed_upload_restarts_when_the_session_is_lost() -> None:
    data = os.urandom(2 * CHUNK)
    source = open_source(data, CHUNK)
    reg = FakeRegistry(fail={0: 100}, lose_session=True)
    reg.blobs.clear()
    result = reg.run(upload_flow(source, streamed=True), source)
    assert result.restarted == 1 and reg.blobs[sha(data)] == data


def test_only_seekable_sources_stream() -> None:
    source = open_source(iter([b"x"]), CHUNK)
    with pytest.raises(ValueError):
        next(upload_flow(source, streamed=True))


@pytest.mark.parametrize("streamed", [False, True])
def test_a_lost_session_start_is_retried(streamed: bool) -> None:
    data = os.urandom(CHUNK + 1)
    source = open_source(io.BytesIO(data), CHUNK)
    reg = FakeRegistry()
    original = reg.execute
    failures = {"left": 2}

    def execute(action: Any, src: Any) -> Any:
        if isinstance(action, Start) and failures["left"]:
            failures["left"] -= 1
            raise ServiceResponseError("connection reset before the answer")
        return original(action, src)

    reg.execute = execute  # type: ignore[method-assign]
    result = reg.run(upload_flow(source, streamed=streamed), source)
    assert reg.blobs[result.digest] == data and failures["left"] == 0


def test_a_refused_start_is_not_retried_forever() -> None:
    source = open_source(io.BytesIO(b"x" * 10), CHUNK)
    reg = FakeRegistry()

    def execute(action: Any, src: Any) -> Any:
        if isinstance(action, Start):
            raise ServiceResponseError("down")
        raise AssertionError(action)

    reg.execute = execute  # type: ignore[method-assign]
    with pytest.raises(ServiceResponseError):
        reg.run(upload_flow(source), source)


# ----------------------------------------------------------------------------- monolithic
def test_a_known_digest_streams_the_blob_in_the_closing_put() -> None:
    data = os.urandom(3 * CHUNK + 5)
    registry = FakeRegistry()
    source = open_source(data)
    flow = upload_flow(source, expected_digest=sha(data), streamed=True)
    # bytes know their digest: the HEAD comes first, then one PUT carries everything
    result = registry.run(flow, source)
    assert (result.digest, result.size) == (sha(data), len(data))
    assert registry.log == [("stream-put", len(data))]
    assert registry.blobs[sha(data)] == data


def test_a_cut_monolithic_put_resumes_with_a_patch() -> None:
    data = os.urandom(3 * CHUNK)
    registry = FakeRegistry(fail={0: CHUNK + 7})
    source = open_source(data)
    result = registry.run(upload_flow(source, expected_digest=sha(data), streamed=True), source)
    assert result.digest == sha(data)
    assert registry.log == [
        ("stream-put", len(data)),
        ("status", 0),
        ("stream", len(data) - CHUNK - 7),
        ("complete", 0),
    ]
    assert registry.blobs[sha(data)] == data


def test_a_monolithic_put_of_the_wrong_digest_is_cancelled() -> None:
    data = os.urandom(CHUNK + 1)
    wrong = sha(b"something else")
    registry = FakeRegistry()
    source = open_source(io.BytesIO(data))
    with pytest.raises(DigestValidationError) as info:
        registry.run(upload_flow(source, expected_digest=wrong, streamed=True), source)
    assert (info.value.expected, info.value.actual) == (wrong, sha(data))
    assert registry.log[-1] == ("cancel", 0)
    assert registry.blobs == {} and registry.sessions == {}
