"""A scripted, hostile HTTPS registry for ``test_hostile.py``.

``HostileServer`` is an aiohttp app in its own thread on the test bed's certificate (which
names both ``127.0.0.1`` and ``localhost``), so a second instance on ``localhost`` plays
"another origin". Every request is recorded with its headers and body, so a test can
assert that no credential reached a server it should not have.

``AcrAuth`` makes a server behave like ACR's token service on its own origin: ``/v2/`` and
``/acr/`` paths need ``Authorization: Bearer <access token>`` and answer 401 with a
``WWW-Authenticate: Bearer realm=...`` challenge otherwise; ``/oauth2/exchange`` and
``/oauth2/token`` mint refresh and access tokens (shapes and expiry chosen by the test).
"""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Optional
from urllib.parse import parse_qs

from aiohttp import web

from tests.testbed import TestBed

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: Secrets the clients hold; none may ever appear in a request to another origin.
AAD_TOKEN = "aad-SECRET-token"
PASSWORD = "pass-SECRET-word"
REFRESH_TOKEN = "refresh-SECRET-token"
SECRETS = (AAD_TOKEN, PASSWORD, REFRESH_TOKEN, "SECRET")


@dataclass
class Seen:
    """One request as the server saw it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    def carries_secret(self) -> bool:
        text = " ".join(
            [self.path, self.query, *(f"{k}: {v}" for k, v in self.headers.items())]
        ) + self.body.decode("latin-1")
        return "authorization" in {k.lower() for k in self.headers} or any(
            secret in text for secret in SECRETS
        )


def jwt(claims: dict[str, Any]) -> str:
    """An unsigned compact JWT with ``claims`` (the client reads only ``exp``)."""

    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


def access_jwt(lifetime: float = 3600.0, tag: str = "access") -> str:
    now = int(time.time())
    return jwt({"exp": now + int(lifetime), "iat": now, "jti": f"{tag}-SECRET-{time.time_ns()}"})


class HostileServer:
    """``with HostileServer(bed, host="localhost") as srv:`` -> ``srv.endpoint``;
    ``srv.route("GET", "/v2/x/manifests/t", handler)``; ``srv.seen`` lists what came."""

    def __init__(self, bed: TestBed, host: str = "127.0.0.1", tls: bool = True) -> None:
        self._bed = bed
        self.host = host
        self.tls = tls
        self.routes: dict[tuple[str, str], Handler] = {}
        self.prefix_routes: list[tuple[str, str, Handler]] = []
        self.seen: list[Seen] = []
        self.endpoint = ""
        self.port = 0
        self.auth: Optional[AcrAuth] = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: Any = None

    def route(self, method: str, path: str, handler: Handler) -> None:
        self.routes[(method, path)] = handler

    def route_prefix(self, method: str, prefix: str, handler: Handler) -> None:
        self.prefix_routes.append((method, prefix, handler))

    def paths(self) -> list[tuple[str, str]]:
        return [(s.method, s.path) for s in self.seen]

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.seen.append(
            Seen(request.method, request.path, request.query_string, dict(request.headers), body)
        )
        if self.auth is not None:
            refused = self.auth.check(request, body)
            if refused is not None:
                return refused
        handler = self.routes.get((request.method, request.path))
        if handler is None:
            for method, prefix, candidate in self.prefix_routes:
                if request.method == method and request.path.startswith(prefix):
                    handler = candidate
                    break
        if handler is None:
            if request.path in ("/v2/", "/v2"):
                return web.json_response({})
            return web.json_response(
                {"errors": [{"code": "NAME_UNKNOWN", "message": "no route"}]}, status=404
            )
        return await handler(request)

    async def _start(self) -> int:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        ctx = None
        if self.tls:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            state = self._bed.state_dir
            ctx.load_cert_chain(f"{state}/server.pem", f"{state}/server-key.pem")
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=ctx)
        await site.start()
        return int(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]

    def __enter__(self) -> HostileServer:
        self._thread.start()
        self.port = asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        self.endpoint = f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"
        return self

    def __exit__(self, *exc: object) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


@dataclass
class AcrAuth:
    """ACR-style token auth on a :class:`HostileServer`.

    :ivar realm: the challenge's realm (default: the server's own ``/oauth2/token``).
    :ivar mint: makes each access token (default: a JWT valid for an hour).
    :ivar accept: decides whether a presented access token is accepted (default: any
        token this server issued). A registry that keeps challenging: ``lambda t: False``.
    """

    server: HostileServer
    realm: Optional[str] = None
    service: str = "hostile.example"
    mint: Callable[[], Any] = field(default_factory=lambda: access_jwt)
    accept: Optional[Callable[[str], bool]] = None
    issued: list[Any] = field(default_factory=list)
    token_requests: int = 0

    def install(self) -> AcrAuth:
        self.server.auth = self
        self.server.route("POST", "/oauth2/exchange", self._exchange)
        self.server.route("POST", "/oauth2/token", self._token)
        self.server.route("GET", "/oauth2/token", self._token)
        return self

    def challenge(self, scope: str = "") -> str:
        realm = self.realm or f"{self.server.endpoint}/oauth2/token"
        value = f'Bearer realm="{realm}",service="{self.service}"'
        return value + (f',scope="{scope}"' if scope else "")

    def check(self, request: web.Request, body: bytes) -> Optional[web.StreamResponse]:
        if not (request.path.startswith("/v2/") or request.path.startswith("/acr/")):
            return None
        authorization = request.headers.get("Authorization", "")
        token = authorization[len("Bearer ") :] if authorization.startswith("Bearer ") else None
        if token is not None:
            ok = self.accept(token) if self.accept is not None else token in self.issued
            if ok:
                return None
        scope = _scope_of(request)
        return web.json_response(
            {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]},
            status=401,
            headers={"WWW-Authenticate": self.challenge(scope)},
        )

    async def _exchange(self, request: web.Request) -> web.StreamResponse:
        self.token_requests += 1
        return web.json_response({"refresh_token": REFRESH_TOKEN})

    async def _token(self, request: web.Request) -> web.StreamResponse:
        self.token_requests += 1
        token = self.mint()
        self.issued.append(token)
        return web.json_response({"access_token": token})


def _scope_of(request: web.Request) -> str:
    path = request.path
    if path.startswith("/v2/") and "/" in path[4:]:
        name = path[4:].split("/manifests/")[0].split("/blobs/")[0].split("/tags/")[0]
        action = "pull" if request.method in ("GET", "HEAD") else "pull,push"
        return f"repository:{name}:{action}"
    if path.startswith("/acr/v1/_catalog"):
        return "registry:catalog:*"
    if path.startswith("/acr/v1/"):
        name = path[len("/acr/v1/") :].split("/_")[0]
        return f"repository:{name}:metadata_read"
    return ""


def form_of(body: bytes) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(body.decode()).items()}
