"""``azurecr.aio.ContainerRegistryClient``: the asynchronous twin of the sync client."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Optional

from azure.core.tracing.decorator_async import distributed_trace_async

from .._generated.aio import ContainerRegistry as _GeneratedClient
from .._pipeline import SDK_MONIKER, ClientSettings
from ._auth_policy_async import AsyncContainerRegistryChallengePolicy

__all__ = ["ContainerRegistryClient"]


class ContainerRegistryClient:
    """Async client for an Azure Container Registry (or any OCI distribution registry).

    Same arguments as :class:`azurecr.ContainerRegistryClient`; the credential may be an
    ``AsyncTokenCredential``, an ``AzureNamedKeyCredential`` or None. Needs ``aiohttp``
    (the ``aio`` extra) unless a ``transport`` is given.

    :param str endpoint: the registry's login server.
    :param credential: the credential, or None for anonymous pull access.
    :keyword audience: the AAD audience of the registry's cloud.
    :keyword str api_version: the ACR API version.
    :keyword bool allow_insecure_http: send credentials over plain http (loopback only).
    :raises ValueError: for a malformed endpoint or an unsupported API version.
    :raises TypeError: for a credential of an unsupported type.
    """

    def __init__(
        self,
        endpoint: str,
        credential: Optional[object] = None,
        *,
        audience: Optional[str] = None,
        api_version: Optional[str] = None,
        allow_insecure_http: bool = False,
        **kwargs: Any,
    ) -> None:
        settings = ClientSettings(endpoint, credential, audience, api_version)
        self._endpoint = settings.endpoint
        transport = kwargs.pop("transport", None)
        if transport is None:
            from azure.core.pipeline.transport import AioHttpTransport

            transport = AioHttpTransport(**kwargs)
        policy = AsyncContainerRegistryChallengePolicy(
            settings.credential,
            settings.endpoint,
            audience=settings.audience,
            transport=transport,
            allow_insecure_http=allow_insecure_http,
            **kwargs,
        )
        kwargs.setdefault("sdk_moniker", SDK_MONIKER)
        self._client = _GeneratedClient(
            url=settings.endpoint,
            api_version=settings.api_version,
            transport=transport,
            authentication_policy=policy,
            **kwargs,
        )

    @property
    def endpoint(self) -> str:
        """The registry endpoint this client talks to."""
        return self._endpoint

    @distributed_trace_async
    async def ping(self, **kwargs: Any) -> None:
        """Check that the registry speaks the distribution API and accepts the credential.

        :raises ~azure.core.exceptions.ClientAuthenticationError: when the credential is refused.
        :raises ~azure.core.exceptions.HttpResponseError: for any other failure.
        """
        await self._client.container_registry.check_docker_v2_support(**kwargs)

    async def close(self) -> None:
        """Close the client's sessions (and its transport)."""
        await self._client.close()

    async def __aenter__(self) -> ContainerRegistryClient:
        await self._client.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        await self._client.__aexit__(exc_type, exc, tb)
