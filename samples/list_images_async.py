"""The async client: repositories and their properties, fetched concurrently."""

from __future__ import annotations

import asyncio

from _settings import client_arguments

from azurecr.aio import ContainerRegistryClient


async def main() -> None:
    endpoint, credential, options = client_arguments()
    if hasattr(credential, "get_token") and not hasattr(credential, "named_key"):
        from azure.identity.aio import DefaultAzureCredential

        credential = DefaultAzureCredential()
    async with ContainerRegistryClient(endpoint, credential, **options) as client:
        names = [name async for name in client.list_repository_names()]
        properties = await asyncio.gather(*(client.get_repository_properties(n) for n in names))
        for p in properties:
            print(f"{p.name}: {p.tag_count} tags, {p.manifest_count} manifests")


if __name__ == "__main__":
    asyncio.run(main())
