"""Async clients of azurecr (needs the ``aio`` extra: aiohttp)."""

from ._async_container_registry_client import ContainerRegistryClient

__all__ = ["ContainerRegistryClient"]
