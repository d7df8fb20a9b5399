"""Helpers for client tests against the real test bed: credentials the bed's fake AAD
accepts, and a transport wrapper that records what went over the wire."""

from __future__ import annotations

import time
from typing import Any

from azure.core.credentials import AccessToken
from azure.core.pipeline.transport import (
    AioHttpTransport,
    AsyncHttpTransport,
    HttpTransport,
    RequestsTransport,
)
from azure.core.rest import AsyncHttpResponse, HttpRequest, HttpResponse

from tests.testbed import TestBed


def _audience(scopes: tuple[str, ...]) -> str:
    (scope,) = scopes
    assert scope.endswith("/.default"), scope
    return scope[: -len("/.default")]


class TestbedCredential:
    """A TokenCredential whose AAD tokens the test bed's fake AAD signs."""

    __test__ = False

    def __init__(self, bed: TestBed) -> None:
        self.bed = bed
        self.requested: list[str] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.requested.extend(scopes)
        return AccessToken(
            self.bed.mint_aad_token(audience=_audience(scopes)), int(time.time()) + 3600
        )


class AsyncTestbedCredential(TestbedCredential):
    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:  # type: ignore[override]
        return TestbedCredential.get_token(self, *scopes, **kwargs)

    async def close(self) -> None:
        return None


def wire(request: HttpRequest, status: int) -> tuple[str, str, int, str]:
    path = request.url.split("://", 1)[1].split("/", 1)[1].split("?", 1)[0]
    auth = request.headers.get("Authorization", "").split(" ", 1)[0]
    return request.method, "/" + path, status, auth


class RecordingTransport(HttpTransport[HttpRequest, HttpResponse]):
    """Sends through a real RequestsTransport and records (method, path, status, auth scheme)."""

    def __init__(self, **kwargs: Any) -> None:
        self.inner = RequestsTransport(**kwargs)
        self.log: list[tuple[str, str, int, str]] = []

    def __enter__(self) -> RecordingTransport:
        self.inner.__enter__()
        return self

    def __exit__(self, *args: Any) -> None:
        self.inner.__exit__(*args)

    def open(self) -> None:
        self.inner.open()

    def close(self) -> None:
        self.inner.close()

    def send(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        response = self.inner.send(request, **kwargs)
        self.log.append(wire(request, response.status_code))
        return response


class AsyncRecordingTransport(AsyncHttpTransport[HttpRequest, AsyncHttpResponse]):
    def __init__(self, **kwargs: Any) -> None:
        self.inner = AioHttpTransport(**kwargs)
        self.log: list[tuple[str, str, int, str]] = []

    async def __aenter__(self) -> AsyncRecordingTransport:
        await self.inner.__aenter__()
        return self

    async def __aexit__(self, *args: Any) -> None:
        await self.inner.__aexit__(*args)

    async def open(self) -> None:
        await self.inner.open()

    async def close(self) -> None:
        await self.inner.close()

    async def send(self, request: HttpRequest, **kwargs: Any) -> AsyncHttpResponse:
        response = await self.inner.send(request, **kwargs)
        self.log.append(wire(request, response.status_code))
        return response
