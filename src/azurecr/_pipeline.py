"""Client construction helpers shared by the sync and async clients (no I/O)."""

from __future__ import annotations

from typing import Any, Optional
from urllib.parse import urlsplit

from azure.core.pipeline.policies import (
    AsyncRetryPolicy,
    DistributedTracingPolicy,
    HeadersPolicy,
    HttpLoggingPolicy,
    NetworkTraceLoggingPolicy,
    RetryPolicy,
    UserAgentPolicy,
)

from ._version import VERSION

__all__ = [
    "RedactingNetworkTraceLoggingPolicy",
    "DEFAULT_API_VERSION",
    "SUPPORTED_API_VERSIONS",
    "SDK_MONIKER",
    "STREAM_BLOCK_SIZE",
    "check_api_version",
    "normalize_endpoint",
    "token_pipeline_policies",
]

SUPPORTED_API_VERSIONS = ("2021-07-01",)
DEFAULT_API_VERSION = SUPPORTED_API_VERSIONS[-1]
SDK_MONIKER = f"azurecr/{VERSION}"
#: Bytes per read of a streamed response body. azure-core's default (4 KiB) costs one Python
#: iteration per 4 KiB; blob downloads need far bigger reads to approach the network's speed.
STREAM_BLOCK_SIZE = 1024 * 1024


def normalize_endpoint(endpoint: str) -> str:
    """Return the registry endpoint as ``scheme://host[:port]``; a bare login server
    (``myregistry.azurecr.io``) gets ``https://``.

    :raises ValueError: when the endpoint is empty or has a path, query or credentials.
    """
    if not isinstance(endpoint, str) or not endpoint.strip():
        raise ValueError("endpoint must be a non-empty string such as 'myregistry.azurecr.io'")
    endpoint = endpoint.strip()
    if "://" not in endpoint:
        endpoint = "https://" + endpoint
    parts = urlsplit(endpoint)
    if parts.scheme.lower() not in ("https", "http") or not parts.hostname:
        raise ValueError(f"endpoint {endpoint!r} is not an http(s) URL of a registry")
    if parts.username or parts.password:
        raise ValueError("endpoint must not carry credentials; pass a credential instead")
    if parts.path.strip("/") or parts.query or parts.fragment:
        raise ValueError(f"endpoint {endpoint!r} must be a registry origin without a path")
    return f"{parts.scheme.lower()}://{parts.netloc}"


def check_api_version(api_version: Optional[str]) -> str:
    """Return the API version to use.

    :raises ValueError: for a version this client does not support, listing those it does.
    """
    if api_version is None:
        return DEFAULT_API_VERSION
    if api_version not in SUPPORTED_API_VERSIONS:
        raise ValueError(
            f"unsupported api_version {api_version!r}; supported: "
            + ", ".join(SUPPORTED_API_VERSIONS)
        )
    return api_version


def token_pipeline_policies(*, is_async: bool = False, **kwargs: Any) -> list[Any]:
    """Policies of the small pipeline that sends token requests.

    It has no ``NetworkTraceLoggingPolicy``: that policy logs request bodies, and token
    request bodies carry AAD tokens, refresh tokens and passwords. ``HttpLoggingPolicy``
    logs only allow-listed headers, so ``Authorization`` is redacted.
    """
    return [
        HeadersPolicy(**kwargs),
        UserAgentPolicy(sdk_moniker=SDK_MONIKER, **kwargs),
        AsyncRetryPolicy(**kwargs) if is_async else RetryPolicy(**kwargs),
        DistributedTracingPolicy(**kwargs),
        HttpLoggingPolicy(**kwargs),
    ]


class ClientSettings:
    """Validated constructor arguments shared by the sync and async clients.

    Everything here is checked before any request: a bad endpoint, an unsupported API
    version or an unusable credential fail at construction.
    """

    def __init__(
        self,
        endpoint: str,
        credential: Optional[object],
        audience: Optional[str],
        api_version: Optional[str],
    ) -> None:
        from ._audience import audience_for
        from ._auth_flow import credential_kind

        self.endpoint = normalize_endpoint(endpoint)
        self.api_version = check_api_version(api_version)
        self.audience = audience_for(self.endpoint, audience)
        credential_kind(credential)  # raises TypeError for an unusable credential
        self.credential = credential


class RedactingNetworkTraceLoggingPolicy(NetworkTraceLoggingPolicy):
    """azure-core's ``logging_enable=True`` request trace, without credentials.

    The stock policy logs every request header verbatim, ``Authorization`` included, and it
    sits after the authentication policy in the pipeline; this one logs the header as
    ``REDACTED``.
    """

    def on_request(self, request: Any) -> None:
        headers = request.http_request.headers
        saved = headers.get("Authorization")
        if saved is not None:
            headers["Authorization"] = "REDACTED"
        try:
            super().on_request(request)
        finally:
            if saved is not None:
                headers["Authorization"] = saved
