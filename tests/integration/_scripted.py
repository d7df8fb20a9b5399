"""A scripted HTTPS registry for responses no real registry sends (oversized manifests,
lying headers): an aiohttp app in its own thread, TLS with the test bed's certificate, so
clients connect to it exactly as to the test bed. Handlers are plain aiohttp handlers."""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from tests.testbed import TestBed

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ScriptedRegistry:
    """``with ScriptedRegistry(bed, {("GET", "/v2/x/manifests/t"): handler}) as reg:``
    -> ``reg.endpoint`` is ``https://127.0.0.1:<port>``; ``reg.requests`` lists what came."""

    def __init__(self, bed: TestBed, routes: dict[tuple[str, str], Handler]) -> None:
        self._bed = bed
        self._routes = routes
        self.requests: list[tuple[str, str]] = []
        self.endpoint = ""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: Any = None

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        self.requests.append((request.method, request.path))
        handler = self._routes.get((request.method, request.path))
        if handler is None:
            if request.path in ("/v2/", "/v2"):
                return web.json_response({})
            return web.json_response(
                {"errors": [{"code": "NAME_UNKNOWN", "message": "no route"}]}, status=404
            )
        return await handler(request)

    async def _start(self) -> int:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        state = self._bed.state_dir
        ctx.load_cert_chain(f"{state}/server.pem", f"{state}/server-key.pem")
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=ctx)
        await site.start()
        return int(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]

    def __enter__(self) -> ScriptedRegistry:
        self._thread.start()
        port = asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        self.endpoint = f"https://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
