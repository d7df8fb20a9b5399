"""delete_manifest with the async client."""

from __future__ import annotations

import asyncio

from _settings import client_arguments, close_credential, image_reference
from azure.core.exceptions import ResourceNotFoundError

from azurecr.aio import ContainerRegistryClient


async def main() -> None:
    endpoint, credential, options = client_arguments(asynchronous=True)
    repository, tag = image_reference()
    try:
        async with ContainerRegistryClient(endpoint, credential, **options) as client:
            try:
                manifest = await client.get_manifest(repository, tag)
            except ResourceNotFoundError:
                print(f"{repository}:{tag} does not exist; nothing to delete")
                return
            print(f"deleting {repository}@{manifest.digest}  ({tag} and any other tag on it)")
            await client.delete_manifest(repository, manifest.digest)
            print("deleted")
    finally:
        await close_credential(credential)


if __name__ == "__main__":
    asyncio.run(main())
