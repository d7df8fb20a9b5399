"""delete_blobs with the async client: the blobs are deleted concurrently."""

from __future__ import annotations

import asyncio

from _settings import client_arguments, close_credential, image_reference
from azure.core.exceptions import ResourceNotFoundError
from delete_blobs import manifest_from_file, manifest_from_registry

from azurecr.aio import ContainerRegistryClient


async def main() -> None:
    endpoint, credential, options = client_arguments(asynchronous=True)
    repository, tag = image_reference()
    try:
        async with ContainerRegistryClient(endpoint, credential, **options) as client:
            try:
                manifest = manifest_from_registry(await client.get_manifest(repository, tag))
            except ResourceNotFoundError:
                manifest = manifest_from_file(f"{repository}:{tag}")
            descriptors = [manifest.config, *manifest.layers]
            await asyncio.gather(*(client.delete_blob(repository, d.digest) for d in descriptors))
            for descriptor in descriptors:
                print(f"deleted blob {descriptor.digest}  {descriptor.media_type}")
    finally:
        await close_credential(credential)


if __name__ == "__main__":
    asyncio.run(main())
