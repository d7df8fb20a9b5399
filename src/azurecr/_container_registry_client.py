"""``ContainerRegistryClient``: the synchronous facade over the generated protocol layer."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Optional

from azure.core.pipeline.transport import RequestsTransport
from azure.core.tracing.decorator import distributed_trace

from ._auth_policy import ContainerRegistryChallengePolicy
from ._generated import ContainerRegistry as _GeneratedClient
from ._pipeline import SDK_MONIKER, ClientSettings

__all__ = ["ContainerRegistryClient"]


class ContainerRegistryClient:
    """A client for an Azure Container Registry (or any OCI distribution registry).

    :param str endpoint: the registry's login server, e.g. ``myregistry.azurecr.io`` or
        ``https://myregistry.azurecr.io``; ``https://`` is added when no scheme is given.
    :param credential: a ``TokenCredential`` (AAD, exchanged for ACR tokens), an
        ``AzureNamedKeyCredential(username, password)`` (admin user or repository-scoped
        token), or None for anonymous pull access.
    :type credential: ~azure.core.credentials.TokenCredential or
        ~azure.core.credentials.AzureNamedKeyCredential or None
    :keyword audience: the AAD audience of the registry's cloud; inferred from the login
        server's suffix when not given (``.azurecr.cn``, ``.azurecr.us``), else
        ``https://containerregistry.azure.net``.
    :paramtype audience: str or ~azurecr.ContainerRegistryAudience
    :keyword str api_version: the ACR API version; only ``2021-07-01`` is supported.
    :keyword bool allow_insecure_http: send credentials over plain http (loopback test
        registries only). Defaults to False.
    :keyword transport, retry_total, logging_enable, connection_verify, proxies, ...: any
        azure-core pipeline keyword, passed through.
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
        transport = kwargs.pop("transport", None) or RequestsTransport(**kwargs)
        policy = ContainerRegistryChallengePolicy(
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
        """The registry endpoint this client talks to (``https://<login server>``)."""
        return self._endpoint

    @distributed_trace
    def ping(self, **kwargs: Any) -> None:
        """Check that the registry speaks the distribution API and accepts the credential.

        Sends ``GET /v2/``, answering the registry's authentication challenge.

        :raises ~azure.core.exceptions.ClientAuthenticationError: when the credential is refused.
        :raises ~azure.core.exceptions.HttpResponseError: for any other failure.
        """
        self._client.container_registry.check_docker_v2_support(**kwargs)

    def close(self) -> None:
        """Close the client's sessions (and its transport)."""
        self._client.close()

    def __enter__(self) -> ContainerRegistryClient:
        self._client.__enter__()
        return self

    def __exit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self._client.__exit__(exc_type, exc, tb)
