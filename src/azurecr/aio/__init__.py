"""Async clients of azurecr (needs the ``aio`` extra: aiohttp)."""

from ._artifacts_async import copy_artifact
from ._async_container_registry_client import ContainerRegistryClient
from ._download_stream_async import AsyncDownloadBlobStream

__all__ = ["AsyncDownloadBlobStream", "ContainerRegistryClient", "copy_artifact"]
