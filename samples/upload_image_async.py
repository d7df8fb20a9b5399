"""upload_image with the async client: both blobs upload concurrently, then the manifest."""

from __future__ import annotations

import asyncio

from _settings import client_arguments, close_credential, image_reference
from upload_image import image_content, image_manifest

from azurecr.aio import ContainerRegistryClient


async def main() -> None:
    endpoint, credential, options = client_arguments(asynchronous=True)
    repository, tag = image_reference()
    config, layer = image_content()
    try:
        async with ContainerRegistryClient(endpoint, credential, **options) as client:
            (config_digest, config_size), (layer_digest, layer_size) = await asyncio.gather(
                client.upload_blob(repository, config), client.upload_blob(repository, layer)
            )
            print(f"uploaded config  {config_digest}  {config_size} bytes")
            print(f"uploaded layer   {layer_digest}  {layer_size} bytes")

            manifest = image_manifest((config_digest, config_size), [(layer_digest, layer_size)])
            digest = await client.set_manifest(repository, manifest, tag=tag)
            print(f"pushed {repository}:{tag}  {digest}")
    finally:
        await close_credential(credential)


if __name__ == "__main__":
    asyncio.run(main())
