"""download_image with the async client: the config and the layers download concurrently."""

from __future__ import annotations

import asyncio
from pathlib import Path

from _settings import client_arguments, close_credential, image_reference, output_directory
from download_image import blob_files, image_manifest_of, save_manifest

from azurecr.aio import ContainerRegistryClient


async def main() -> None:
    endpoint, credential, options = client_arguments(asynchronous=True)
    repository, tag = image_reference()
    directory = output_directory()
    try:
        async with ContainerRegistryClient(endpoint, credential, **options) as client:
            result = await client.get_manifest(repository, tag)
            manifest = image_manifest_of(result, f"{repository}:{tag}")
            save_manifest(result, directory)

            async def download(digest: str, path: Path) -> None:
                size = await client.download_blob_to_file(repository, digest, path)
                print(f"wrote {path}  {digest}  {size} bytes")

            await asyncio.gather(*(download(d, p) for d, p in blob_files(manifest, directory)))
    finally:
        await close_credential(credential)


if __name__ == "__main__":
    asyncio.run(main())
