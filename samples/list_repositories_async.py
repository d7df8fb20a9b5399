"""list_repositories with the async client: the pages are fetched with ``async for``."""

from __future__ import annotations

import asyncio

from _settings import client_arguments, close_credential

from azurecr.aio import ContainerRegistryClient


async def main() -> None:
    endpoint, credential, options = client_arguments(asynchronous=True)
    try:
        async with ContainerRegistryClient(endpoint, credential, **options) as client:
            print(f"Repositories in {client.endpoint}:")
            count = 0
            async for name in client.list_repository_names():
                print(f"  {name}")
                count += 1
            print("1 repository" if count == 1 else f"{count} repositories")
    finally:
        await close_credential(credential)


if __name__ == "__main__":
    asyncio.run(main())
