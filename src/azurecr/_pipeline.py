"""Client construction helpers shared by the sync and async clients (no I/O)."""

from __future__ import annotations

import logging
import re
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
from azure.core.pipeline.transport import RequestsTransport

from ._version import VERSION

__all__ = [
    "PooledRequestsTransport",
    "RedactingNetworkTraceLoggingPolicy",
    "DEFAULT_API_VERSION",
    "SUPPORTED_API_VERSIONS",
    "SDK_MONIKER",
    "TOKEN_RETRY_METHODS",
    "STREAM_BLOCK_SIZE",
    "check_api_version",
    "normalize_endpoint",
    "redact_sas",
    "redact_transport_logs",
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


#: Token requests are POSTs, which azure-core never retries; they have no side effect, so a
#: dropped connection or a 5xx is retried like a GET.
TOKEN_RETRY_METHODS = frozenset({"HEAD", "GET", "PUT", "DELETE", "OPTIONS", "TRACE", "POST"})


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


_SAS_SIGNATURE = re.compile(r"([?&]sig=)[^&#\s]*", re.IGNORECASE)


def redact_sas(url: str) -> str:
    """A URL with the signature of a SAS (``sig=``) replaced by ``REDACTED``: ACR redirects
    blob downloads to storage URLs whose signature is a bearer credential."""
    return _SAS_SIGNATURE.sub(r"\1REDACTED", url)


class _SasRedactingFilter(logging.Filter):
    """Redacts SAS signatures from the records of a third-party logger (urllib3 logs each
    request line, query included, at DEBUG)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_sas(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact_sas(a) if isinstance(a, str) else a for a in record.args)
        return True


def redact_transport_logs() -> None:
    """Keep SAS signatures out of urllib3's DEBUG request lines (idempotent)."""
    logger = logging.getLogger("urllib3.connectionpool")
    if not any(isinstance(f, _SasRedactingFilter) for f in logger.filters):
        logger.addFilter(_SasRedactingFilter())


class RedactingNetworkTraceLoggingPolicy(NetworkTraceLoggingPolicy):
    """azure-core's ``logging_enable=True`` request trace, without credentials.

    The stock policy logs every request header verbatim, ``Authorization`` included, and it
    sits after the authentication policy in the pipeline; this one logs the header as
    ``REDACTED``. The SAS signature of blob-storage URLs (in the request URL after ACR's
    redirect, and in the ``Location`` of that redirect) is redacted too.
    """

    def on_request(self, request: Any) -> None:
        http_request = request.http_request
        headers = http_request.headers
        saved = headers.get("Authorization")
        url = http_request.url
        if saved is not None:
            headers["Authorization"] = "REDACTED"
        http_request.url = redact_sas(url)
        try:
            super().on_request(request)
        finally:
            http_request.url = url
            if saved is not None:
                headers["Authorization"] = saved

    def on_response(self, request: Any, response: Any) -> None:
        headers = response.http_response.headers
        location = headers.get("Location")
        if location is not None:
            headers["Location"] = redact_sas(location)
        try:
            super().on_response(request, response)
        finally:
            if location is not None:
                headers["Location"] = location


#: Connections kept per host by the sync client's default transport: as many as it runs
#: transfers at once in common use (parallel ranges, artifact blobs, threads sharing one
#: client). urllib3's default of 10 discards every connection beyond it, with a warning each.
POOL_SIZE = 32


class PooledRequestsTransport(RequestsTransport):  # type: ignore[misc]
    """azure-core's ``RequestsTransport`` with a connection pool of :data:`POOL_SIZE` per
    host. It overrides azure-core's private ``_init_session`` (which mounts its own adapter
    at open); if azure-core changes that, the transport still works, with urllib3's pool."""

    def _init_session(self, session: Any) -> None:
        super()._init_session(session)
        try:
            from azure.core.pipeline.transport._requests_basic import (  # type: ignore[attr-defined]
                BiggerBlockSizeHTTPAdapter,
            )
            from urllib3.util.retry import Retry
        except ImportError:  # pragma: no cover - a future azure-core layout
            return
        adapter = BiggerBlockSizeHTTPAdapter(
            max_retries=Retry(total=False, redirect=False, raise_on_status=False),
            pool_maxsize=POOL_SIZE,
        )
        for prefix in ("http://", "https://"):
            session.mount(prefix, adapter)
