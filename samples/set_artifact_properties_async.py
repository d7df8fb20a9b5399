"""set_artifact_properties with the async client: the tag and the manifest are updated
concurrently (``--unlock`` undoes the lock, as in the sync sample)."""

from __future__ import annotations

import asyncio

from _settings import client_arguments, close_credential, image_reference
from set_artifact_properties import flags, parse_arguments

from azurecr.aio import ContainerRegistryClient


async def main(lock: bool) -> None:
    endpoint, credential, options = client_arguments(asynchronous=True)
    repository, tag = image_reference()
    allowed = not lock
    print(f"{'locking' if lock else 'unlocking'} {repository}:{tag}")
    try:
        async with ContainerRegistryClient(endpoint, credential, **options) as client:
            tag_properties, manifest_properties = await asyncio.gather(
                client.update_tag_properties(
                    repository, tag, can_write=allowed, can_delete=allowed
                ),
                client.update_manifest_properties(
                    repository, tag, can_write=allowed, can_delete=allowed
                ),
            )
            print(f"  tag       {tag_properties.name}  {flags(tag_properties)}")
            print(f"  manifest  {manifest_properties.digest}  {flags(manifest_properties)}")
    finally:
        await close_credential(credential)


if __name__ == "__main__":
    asyncio.run(main(parse_arguments()))
