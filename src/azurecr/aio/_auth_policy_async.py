"""The ACR challenge authentication policy (async). Decisions live in :mod:`.._auth_flow`;
this module only drives them with awaitable I/O."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Generator
from typing import Any, Optional, Union

from azure.core.credentials_async import AsyncTokenCredential
from azure.core.pipeline import AsyncPipeline, PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import AsyncHTTPPolicy
from azure.core.pipeline.transport import AsyncHttpTransport
from azure.core.rest import AsyncHttpResponse, HttpRequest

from .._auth_flow import AadTokenStep, ChallengeResponder, FlowStep, HttpStep
from .._auth_policy import (
    bearer_token,
    body_position,
    parse_token_response,
    rewind_body,
    unreplayable,
)
from .._pipeline import TOKEN_RETRY_METHODS, token_pipeline_policies

__all__ = ["AsyncContainerRegistryChallengePolicy"]


class AsyncContainerRegistryChallengePolicy(AsyncHTTPPolicy[HttpRequest, AsyncHttpResponse]):
    """Async twin of :class:`azurecr._auth_policy.ContainerRegistryChallengePolicy`.

    :param credential: an AsyncTokenCredential, an AzureNamedKeyCredential or None.
    :param str endpoint: the registry's endpoint.
    :keyword str audience: the AAD audience of the registry's cloud.
    :keyword transport: the async transport the token requests share with the client.
    :keyword bool allow_insecure_http: allow credentials over plain http (loopback tests).
    """

    def __init__(
        self,
        credential: Optional[object],
        endpoint: str,
        *,
        audience: str,
        transport: AsyncHttpTransport[HttpRequest, AsyncHttpResponse],
        allow_insecure_http: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        self._responder = ChallengeResponder(credential, endpoint, audience, allow_insecure_http)
        self._lock: Optional[asyncio.Lock] = None
        self._token_pipeline: AsyncPipeline[HttpRequest, AsyncHttpResponse] = AsyncPipeline(
            transport=_NonClosingAsyncTransport(transport),
            policies=token_pipeline_policies(is_async=True, **kwargs),
        )

    async def _drive(self, flow: Generator[FlowStep, Any, str]) -> str:
        try:
            step = next(flow)
            while True:
                step = flow.send(await self._perform(step))
        except StopIteration as done:
            token: str = done.value
            return token

    async def _perform(self, step: FlowStep) -> Any:
        if isinstance(step, AadTokenStep):
            credential: AsyncTokenCredential = self._responder.credential  # type: ignore[assignment]
            result = credential.get_token(step.scope)
            # A sync TokenCredential is accepted too, for convenience.
            token = await result if inspect.isawaitable(result) else result
            return token.token
        assert isinstance(step, HttpStep)
        request = HttpRequest(step.method, step.url, data=step.form, headers=step.headers)
        response = (
            await self._token_pipeline.run(request, retry_on_methods=TOKEN_RETRY_METHODS)
        ).http_response
        await response.read()
        return parse_token_response(response.status_code, response.text())

    async def _authorization(self, answer: Union[Generator[FlowStep, Any, str], str]) -> str:
        if isinstance(answer, str):
            return answer
        if self._lock is None:
            self._lock = asyncio.Lock()
        # One token refresh at a time: tasks that waited find the result in the cache.
        async with self._lock:
            return "Bearer " + await self._drive(answer)

    async def send(
        self, request: PipelineRequest[HttpRequest]
    ) -> PipelineResponse[HttpRequest, AsyncHttpResponse]:
        http_request = request.http_request
        responder = self._responder
        if not responder.on_registry_origin(http_request.url):
            # e.g. a blob GET redirected to storage: no registry credential goes there.
            http_request.headers.pop("Authorization", None)
            return await self.next.send(request)
        position = body_position(http_request)
        sent: Optional[str] = None
        first = responder.prepare(http_request.method, http_request.url)
        if first is not None:
            sent = await self._authorization(first)
            http_request.headers["Authorization"] = sent
        response = await self.next.send(request)
        if response.http_response.status_code != 401:
            return response
        header = response.http_response.headers.get("WWW-Authenticate")
        answer = responder.respond(header, http_request.url, rejected=bearer_token(sent))
        if answer is None:
            return response
        authorization = await self._authorization(answer)
        if authorization == sent and not isinstance(answer, str):
            return response
        if not rewind_body(http_request, position):
            raise unreplayable()
        await response.http_response.close()
        http_request.headers["Authorization"] = authorization
        response = await self.next.send(request)
        if response.http_response.status_code == 401:
            error = responder.refusal(response.http_response.headers.get("WWW-Authenticate"))
            if error is not None:
                raise error
        return response


class _NonClosingAsyncTransport(AsyncHttpTransport[HttpRequest, AsyncHttpResponse]):
    """Shares the client's async transport with the token pipeline; the client closes it."""

    def __init__(self, inner: AsyncHttpTransport[HttpRequest, AsyncHttpResponse]) -> None:
        self._inner = inner

    async def __aenter__(self) -> _NonClosingAsyncTransport:
        return self

    async def __aexit__(self, *args: Any) -> None:
        return None

    async def open(self) -> None:
        await self._inner.open()

    async def close(self) -> None:
        return None

    async def send(self, request: HttpRequest, **kwargs: Any) -> AsyncHttpResponse:
        return await self._inner.send(request, **kwargs)
