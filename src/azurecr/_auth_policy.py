"""The ACR challenge authentication policy (sync). Decisions live in :mod:`._auth_flow`;
this module only drives them with blocking I/O."""

from __future__ import annotations

import json
import threading
from collections.abc import Generator
from typing import Any, Optional, Union

from azure.core.credentials import TokenCredential
from azure.core.exceptions import ClientAuthenticationError
from azure.core.pipeline import Pipeline, PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import HTTPPolicy
from azure.core.pipeline.transport import HttpTransport
from azure.core.rest import HttpRequest, HttpResponse

from ._auth_flow import AadTokenStep, ChallengeResponder, FlowStep, HttpStep
from ._pipeline import TOKEN_RETRY_METHODS, token_pipeline_policies

__all__ = ["ContainerRegistryChallengePolicy"]


def body_position(request: HttpRequest) -> Optional[int]:
    """Where a seekable request body starts, so a retry can rewind it."""
    body: Any = getattr(request, "content", None)
    tell = getattr(body, "tell", None)
    if callable(tell):
        try:
            return int(tell())
        except (OSError, ValueError):
            return None
    return None


def rewind_body(request: HttpRequest, position: Optional[int]) -> bool:
    """Rewind a request body to ``position``; False when the body cannot be replayed."""
    body: Any = getattr(request, "content", None)
    if body is None or isinstance(body, (bytes, bytearray, str, dict, list)):
        return True
    if position is None or not callable(getattr(body, "seek", None)):
        return False
    body.seek(position)
    return True


def parse_token_response(status: int, text: str) -> tuple[int, Any]:
    """Decode a token endpoint's answer into ``(status, JSON or None)``."""
    try:
        return status, json.loads(text) if text else None
    except ValueError:
        return status, None


def bearer_token(authorization: Optional[str]) -> Optional[str]:
    """The token of a ``Bearer`` header value, else None."""
    if authorization and authorization.startswith("Bearer "):
        return authorization[len("Bearer ") :]
    return None


def unreplayable() -> ClientAuthenticationError:
    return ClientAuthenticationError(
        "the registry asked for authentication but the request body cannot be replayed"
    )


class ContainerRegistryChallengePolicy(HTTPPolicy[HttpRequest, HttpResponse]):
    """Answers the registry's ``WWW-Authenticate`` challenges.

    Bearer challenges are answered through the ACR token flow (AAD exchange, username and
    password, or anonymous); Basic challenges with a username and password. The request is
    retried once, with its body rewound.

    :param credential: a TokenCredential, an AzureNamedKeyCredential or None (anonymous).
    :param str endpoint: the registry's endpoint (``https://<login server>``).
    :keyword str audience: the AAD audience of the registry's cloud.
    :keyword transport: the transport the token requests share with the client.
    :keyword bool allow_insecure_http: allow credentials over plain http (loopback tests).
    """

    def __init__(
        self,
        credential: Optional[object],
        endpoint: str,
        *,
        audience: str,
        transport: HttpTransport[HttpRequest, HttpResponse],
        allow_insecure_http: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        self._responder = ChallengeResponder(credential, endpoint, audience, allow_insecure_http)
        self._lock = threading.Lock()
        self._token_pipeline: Pipeline[HttpRequest, HttpResponse] = Pipeline(
            transport=_NonClosingTransport(transport), policies=token_pipeline_policies(**kwargs)
        )

    def _drive(self, flow: Generator[FlowStep, Any, str]) -> str:
        try:
            step = next(flow)
            while True:
                step = flow.send(self._perform(step))
        except StopIteration as done:
            token: str = done.value
            return token

    def _perform(self, step: FlowStep) -> Any:
        if isinstance(step, AadTokenStep):
            credential: TokenCredential = self._responder.credential  # type: ignore[assignment]
            return credential.get_token(step.scope).token
        assert isinstance(step, HttpStep)
        request = HttpRequest(step.method, step.url, data=step.form, headers=step.headers)
        response = self._token_pipeline.run(
            request, retry_on_methods=TOKEN_RETRY_METHODS
        ).http_response
        response.read()
        return parse_token_response(response.status_code, response.text())

    def _authorization(self, answer: Union[Generator[FlowStep, Any, str], str]) -> str:
        if isinstance(answer, str):
            return answer
        # One token refresh at a time: callers that waited find the result in the cache.
        with self._lock:
            return "Bearer " + self._drive(answer)

    def send(
        self, request: PipelineRequest[HttpRequest]
    ) -> PipelineResponse[HttpRequest, HttpResponse]:
        http_request = request.http_request
        responder = self._responder
        if not responder.on_registry_origin(http_request.url):
            # e.g. a blob GET redirected to storage: no registry credential goes there.
            http_request.headers.pop("Authorization", None)
            return self.next.send(request)
        position = body_position(http_request)
        sent: Optional[str] = None
        first = responder.prepare(http_request.method, http_request.url)
        if first is not None:
            sent = self._authorization(first)
            http_request.headers["Authorization"] = sent
        response = self.next.send(request)
        if response.http_response.status_code != 401:
            return response
        header = response.http_response.headers.get("WWW-Authenticate")
        answer = responder.respond(header, http_request.url, rejected=bearer_token(sent))
        if answer is None:
            return response
        authorization = self._authorization(answer)
        if authorization == sent and not isinstance(answer, str):
            return response
        if not rewind_body(http_request, position):
            raise unreplayable()
        response.http_response.close()
        http_request.headers["Authorization"] = authorization
        response = self.next.send(request)
        if response.http_response.status_code == 401:
            error = responder.refusal(response.http_response.headers.get("WWW-Authenticate"))
            if error is not None:
                raise error
        return response


class _NonClosingTransport(HttpTransport[HttpRequest, HttpResponse]):
    """Shares the client's transport with the token pipeline without closing it: the
    client owns the transport's lifetime."""

    def __init__(self, inner: HttpTransport[HttpRequest, HttpResponse]) -> None:
        self._inner = inner

    def __enter__(self) -> _NonClosingTransport:
        return self

    def __exit__(self, *args: Any) -> None:
        return None

    def open(self) -> None:
        self._inner.open()

    def close(self) -> None:
        return None

    def send(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        return self._inner.send(request, **kwargs)
