"""The async client's default transport: azure-core's aiohttp transport, with one TLS
context per (certificate, verification) setting instead of one per request."""

from __future__ import annotations

from typing import Any

from azure.core.pipeline.transport import AioHttpTransport

__all__ = ["PooledAioHttpTransport"]


class PooledAioHttpTransport(AioHttpTransport):  # type: ignore[misc]
    """``AioHttpTransport`` that reuses its ``ssl.SSLContext``.

    azure-core builds a new context on every request when ``connection_verify`` is a CA
    path or ``connection_cert`` is set; aiohttp pools connections per context, so each
    request then opened a new TLS connection and left the old one idle holding buffers as
    large as its biggest write (measured: 1.2 GiB peak for a 1 GiB upload, a TLS handshake
    per chunk). Caching the context per setting keeps one pool. If azure-core stops calling
    this hook, requests still work, only without the reuse.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._ssl_configs: dict[Any, Any] = {}

    def _build_ssl_config(self, cert: Any, verify: Any) -> Any:
        key = (tuple(cert) if isinstance(cert, (list, tuple)) else cert, verify)
        if key not in self._ssl_configs:
            self._ssl_configs[key] = super()._build_ssl_config(cert, verify)
        return self._ssl_configs[key]
