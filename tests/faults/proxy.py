"""A fault-injecting TCP proxy (asyncio, in its own thread), driven from synchronous tests.

It forwards raw bytes between a client and ``target_host:target_port``; TLS passes
through untouched (the client still verifies the target's certificate, which covers
127.0.0.1 and localhost in the test bed). The test bed's service builds its token realm,
``Location`` and ``Link`` headers from the ``Host`` the client sent, so pointing a client
at ``proxy.url`` keeps the whole flow on the proxy.

Faults are rules armed from the test and checked as bytes flow:

* ``cut_next(direction, after_bytes)``: the next connection that carries more than
  ``after_bytes`` bytes in ``direction`` ("up" = client -> target, "down" = target ->
  client) *after the rule was armed* gets exactly ``after_bytes`` of them through, then
  both of its sockets are reset (SO_LINGER 0 + abort: an RST, not a FIN).
* ``stall(direction, after_bytes, seconds)``: the same trigger, but the flow in that
  direction pauses for ``seconds`` (``None``: until :meth:`FaultProxy.release` / stop).
* ``refuse_next()``: the next accepted connection is reset before any byte is forwarded.
* ``delay(seconds)``: every forwarded chunk waits that long first (latency).

Rules count bytes from the moment they are armed (a pooled keep-alive connection the
client opened earlier is affected too); ``connection=N`` restricts a rule to the N-th
connection accepted (1-based), ``new_only=True`` to connections accepted after arming,
``min_bytes_up=M`` to a connection once it carried more than M bytes up since arming (e.g.
"the connection that sent the big PUT"); ``count`` is how many connections it hits.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

CHUNK = 64 * 1024
DIRECTIONS = ("up", "down")

__all__ = ["FaultProxy", "Fault", "FaultEvent", "ConnectionStats"]


@dataclass
class ConnectionStats:
    id: int  # 1-based, in accept order
    bytes_up: int = 0  # client -> target, forwarded
    bytes_down: int = 0  # target -> client, forwarded
    open: bool = True
    faults: list[str] = field(default_factory=list)  # e.g. ["cut-down"], in firing order


@dataclass(frozen=True)
class FaultEvent:
    kind: str  # "cut" | "stall" | "refuse"
    direction: str  # "up" | "down" | "" (refuse)
    connection: int
    bytes_up: int  # the connection's totals when it fired
    bytes_down: int
    at: float  # time.monotonic()


@dataclass
class Fault:
    """An armed rule (returned by the arming methods); ``hits`` lists the connections
    it fired on, ``active`` is False once it hit ``count`` connections or was cleared."""

    kind: str
    direction: str
    after_bytes: int = 0
    seconds: float | None = None
    connection: int | None = None
    new_only: bool = False
    min_bytes_up: int | None = None
    count: int = 1
    hits: list[int] = field(default_factory=list)
    active: bool = True
    _first_new: int = 0  # first connection id accepted after arming
    _baselines: dict[int, tuple[int, int]] = field(default_factory=dict, repr=False)

    @property
    def fired(self) -> int:
        return len(self.hits)

    def _since_armed(self, conn: ConnectionStats) -> tuple[int, int]:
        up0, down0 = self._baselines.get(conn.id, (0, 0))
        return conn.bytes_up - up0, conn.bytes_down - down0

    def _split(self, conn: ConnectionStats, direction: str, n: int) -> int | None:
        """Bytes of an ``n``-byte chunk to forward before firing; None = not firing."""
        if not self.active or direction != self.direction or conn.id in self.hits:
            return None
        if self.connection is not None and conn.id != self.connection:
            return None
        if self.new_only and conn.id < self._first_new:
            return None
        up, down = self._since_armed(conn)
        if self.min_bytes_up is not None and up <= self.min_bytes_up:
            return None
        done = up if direction == "up" else down
        if done + n <= self.after_bytes:
            return None
        return max(0, self.after_bytes - done)


class _Conn:
    def __init__(self, stats: ConnectionStats, client: asyncio.StreamWriter) -> None:
        self.stats = stats
        self.client = client
        self.target: asyncio.StreamWriter | None = None
        self.dead = False

    def reset(self) -> None:
        """Abort both sides with an RST."""
        self.dead = True
        for w in (self.client, self.target):
            if w is not None:
                _rst(w)


def _rst(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.transport.abort()


class FaultProxy:
    """``FaultProxy(target_host, target_port)``; ``start()``/``stop()`` or ``with``."""

    def __init__(
        self,
        target_host: str,
        target_port: int,
        *,
        listen_host: str = "127.0.0.1",
        listen_port: int = 0,
        scheme: str = "https",
    ) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.listen_host = listen_host
        self.scheme = scheme
        self._listen_port = listen_port
        self.port = 0
        self._lock = threading.Lock()
        self._rules: list[Fault] = []
        self._conns: dict[int, _Conn] = {}
        self._stats: list[ConnectionStats] = []  # since the last reset()
        self._next_id = 1  # connection ids are never reused, reset() or not
        self._events: list[FaultEvent] = []
        self._refuse = 0
        self._delay: dict[str, float] = {"up": 0.0, "down": 0.0}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.AbstractServer | None = None
        self._release: asyncio.Event | None = None

    @classmethod
    def to(cls, url: str, **kw: Any) -> FaultProxy:
        """A proxy for the host:port of ``url`` (e.g. ``testbed.endpoint``), started."""
        parts = urlsplit(url)
        if parts.hostname is None or parts.port is None:
            raise ValueError(f"need an explicit host and port in {url!r}")
        return cls(parts.hostname, parts.port, scheme=parts.scheme or "https", **kw).start()

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> FaultProxy:
        if self._thread is not None:
            return self
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(
            target=loop.run_forever, name=f"FaultProxy->{self.target_port}", daemon=True
        )
        self._thread.start()
        self._call(self._start())
        return self

    async def _start(self) -> None:
        self._release = asyncio.Event()
        self._server = await asyncio.start_server(
            self._handle, self.listen_host, self._listen_port, backlog=128
        )
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            self._call(self._shutdown(), timeout=5.0)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5.0)
            if not thread.is_alive():
                loop.close()
            self._loop = self._thread = None

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        if self._release is not None:
            self._release.set()
        with self._lock:
            conns = list(self._conns.values())
        for c in conns:
            c.reset()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _call(self, coro: Any, timeout: float = 10.0) -> Any:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    # -- addresses -----------------------------------------------------------------------
    @property
    def url(self) -> str:
        """``https://127.0.0.1:<port>``: what the client uses as its endpoint."""
        return self.origin()

    def origin(self, host: str | None = None) -> str:
        """The proxy's origin under another host name, e.g. ``origin("localhost")``."""
        return f"{self.scheme}://{host or self.listen_host}:{self.port}"

    # -- faults --------------------------------------------------------------------------
    def _arm(self, rule: Fault) -> Fault:
        if rule.direction not in DIRECTIONS:
            raise ValueError(f"direction must be 'up' or 'down', not {rule.direction!r}")
        if rule.after_bytes < 0 or rule.count < 1:
            raise ValueError("after_bytes must be >= 0 and count >= 1")
        with self._lock:
            rule._first_new = self._next_id
            rule._baselines = {
                c.id: (c.bytes_up, c.bytes_down) for c in (x.stats for x in self._conns.values())
            }
            self._rules.append(rule)
        return rule

    def cut_next(
        self,
        direction: str = "down",
        after_bytes: int = 0,
        *,
        connection: int | None = None,
        new_only: bool = False,
        min_bytes_up: int | None = None,
        count: int = 1,
    ) -> Fault:
        """Reset (RST both sides) the next ``count`` connection(s) passing ``after_bytes``
        bytes in ``direction`` since now; exactly ``after_bytes`` get through."""
        return self._arm(
            Fault(
                "cut",
                direction,
                after_bytes,
                connection=connection,
                new_only=new_only,
                min_bytes_up=min_bytes_up,
                count=count,
            )
        )

    def stall(
        self,
        direction: str = "down",
        after_bytes: int = 0,
        seconds: float | None = None,
        *,
        connection: int | None = None,
        new_only: bool = False,
        min_bytes_up: int | None = None,
        count: int = 1,
    ) -> Fault:
        """Pause ``direction`` of the next ``count`` connection(s) passing ``after_bytes``
        bytes for ``seconds`` (``None``: until :meth:`release` or :meth:`stop`)."""
        return self._arm(
            Fault(
                "stall",
                direction,
                after_bytes,
                seconds=seconds,
                connection=connection,
                new_only=new_only,
                min_bytes_up=min_bytes_up,
                count=count,
            )
        )

    def refuse_next(self, count: int = 1) -> None:
        """Reset the next ``count`` accepted connections before forwarding anything."""
        with self._lock:
            self._refuse += count

    def delay(self, seconds: float, direction: str = "both") -> None:
        """Wait ``seconds`` before forwarding each chunk (``0``: off)."""
        with self._lock:
            for d in DIRECTIONS if direction == "both" else (direction,):
                if d not in DIRECTIONS:
                    raise ValueError(f"direction must be 'up', 'down' or 'both': {direction!r}")
                self._delay[d] = seconds

    def release(self) -> None:
        """End every stall in progress (open-ended or not)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._release_stalls)

    def _release_stalls(self) -> None:
        if self._release is not None:
            self._release.set()
            self._release = asyncio.Event()

    def clear_faults(self) -> None:
        """Disarm every rule, pending refusals and delays; release stalls."""
        with self._lock:
            for r in self._rules:
                r.active = False
            self._rules.clear()
            self._refuse = 0
            self._delay = {"up": 0.0, "down": 0.0}
        self.release()

    def reset(self) -> None:
        """:meth:`clear_faults` and start the counters afresh: closed connections and fault
        events are forgotten; open connections stay (and stay open), their bytes zeroed.
        Connection ids keep counting up."""
        self.clear_faults()
        with self._lock:
            self._events.clear()
            self._stats = [c.stats for c in self._conns.values()]
            for st in self._stats:
                st.bytes_up = st.bytes_down = 0
                st.faults.clear()

    def drop_connections(self) -> None:
        """Reset every open connection now (e.g. to make the client reconnect)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._drop_all)

    def _drop_all(self) -> None:
        with self._lock:
            conns = list(self._conns.values())
        for c in conns:
            c.reset()

    # -- counters ------------------------------------------------------------------------
    @property
    def connections(self) -> list[ConnectionStats]:
        """A snapshot of the connections accepted (since the last reset), in order."""
        with self._lock:
            return [dataclasses.replace(s, faults=list(s.faults)) for s in self._stats]

    @property
    def connections_accepted(self) -> int:
        """Connections accepted since start (or the last reset, plus those still open)."""
        with self._lock:
            return len(self._stats)

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._conns)

    @property
    def faults_fired(self) -> list[FaultEvent]:
        with self._lock:
            return list(self._events)

    @property
    def bytes_up(self) -> int:
        with self._lock:
            return sum(s.bytes_up for s in self._stats)

    @property
    def bytes_down(self) -> int:
        with self._lock:
            return sum(s.bytes_down for s in self._stats)

    def wait_for(self, predicate: Callable[[FaultProxy], bool], timeout: float = 5.0) -> bool:
        """Poll ``predicate(self)`` until true or ``timeout``; returns the last result."""
        deadline = time.monotonic() + timeout
        while not predicate(self):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True

    # -- the proxy -----------------------------------------------------------------------
    def _fire(self, conn: _Conn, rule: Fault, direction: str) -> None:
        with self._lock:
            rule.hits.append(conn.stats.id)
            if len(rule.hits) >= rule.count:
                rule.active = False
                if rule in self._rules:
                    self._rules.remove(rule)
            conn.stats.faults.append(f"{rule.kind}-{direction}")
            self._events.append(
                FaultEvent(
                    rule.kind,
                    direction,
                    conn.stats.id,
                    conn.stats.bytes_up,
                    conn.stats.bytes_down,
                    time.monotonic(),
                )
            )

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with self._lock:
            stats = ConnectionStats(self._next_id)
            self._next_id += 1
            self._stats.append(stats)
            conn = _Conn(stats, writer)
            self._conns[stats.id] = conn
            refuse = self._refuse > 0
            if refuse:
                self._refuse -= 1
                self._events.append(FaultEvent("refuse", "", stats.id, 0, 0, time.monotonic()))
                stats.faults.append("refuse")
        try:
            if refuse:
                conn.reset()
                return
            try:
                t_reader, t_writer = await asyncio.open_connection(
                    self.target_host, self.target_port
                )
            except OSError:
                conn.reset()
                return
            conn.target = t_writer
            await asyncio.gather(
                self._pump(conn, "up", reader, t_writer),
                self._pump(conn, "down", t_reader, writer),
            )
            for w in (writer, t_writer):
                w.close()
        finally:
            with self._lock:
                stats.open = False
                self._conns.pop(stats.id, None)

    async def _pump(
        self,
        conn: _Conn,
        direction: str,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        try:
            while not conn.dead:
                data = await reader.read(CHUNK)
                if not data or conn.dead:
                    break
                await self._forward(conn, direction, data, writer)
            if not conn.dead and writer.can_write_eof():
                writer.write_eof()  # half-close, as the sender did
        except (ConnectionError, OSError):
            conn.reset()

    async def _forward(
        self, conn: _Conn, direction: str, data: bytes, writer: asyncio.StreamWriter
    ) -> None:
        with self._lock:
            delay = self._delay[direction]
            hit: tuple[Fault, int] | None = None
            for rule in self._rules:
                keep = rule._split(conn.stats, direction, len(data))
                if keep is not None:
                    hit = (rule, keep)
                    break
        if delay:
            await asyncio.sleep(delay)
        if hit is None:
            await self._write(conn, direction, data, writer)
            return
        rule, keep = hit
        if keep:
            await self._write(conn, direction, data[:keep], writer)
        self._fire(conn, rule, direction)
        if rule.kind == "cut":
            conn.reset()
            return
        # stall, then the rest of the chunk
        release = self._release
        assert release is not None
        try:
            await asyncio.wait_for(release.wait(), rule.seconds)
        except asyncio.TimeoutError:
            pass
        if not conn.dead and keep < len(data):
            await self._write(conn, direction, data[keep:], writer)

    async def _write(
        self, conn: _Conn, direction: str, data: bytes, writer: asyncio.StreamWriter
    ) -> None:
        with self._lock:
            if direction == "up":
                conn.stats.bytes_up += len(data)
            else:
                conn.stats.bytes_down += len(data)
        writer.write(data)
        await writer.drain()
