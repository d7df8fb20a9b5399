"""delete_old_images with the async client: the old images of a repository are deleted
concurrently (``--dry-run`` deletes nothing, as in the sync sample)."""

from __future__ import annotations

import asyncio

from _settings import client_arguments, close_credential, repository_to_clean
from azure.core.exceptions import HttpResponseError
from delete_old_images import NEWEST_FIRST, describe, parse_arguments, summary, triage

from azurecr import ArtifactManifestProperties
from azurecr.aio import ContainerRegistryClient


async def main(dry_run: bool) -> None:
    endpoint, credential, options = client_arguments(asynchronous=True)
    only = repository_to_clean()
    try:
        async with ContainerRegistryClient(endpoint, credential, **options) as client:

            async def settle(
                repository: str, action: str, manifest: ArtifactManifestProperties
            ) -> tuple[str, int]:
                """(the line to print, how many images it deleted)."""
                if action != "delete" or manifest.digest is None:
                    return describe(action, manifest), 0
                if dry_run:
                    return describe("delete", manifest), 1
                try:
                    await client.delete_manifest(repository, manifest.digest)
                except HttpResponseError as error:  # e.g. one of its tags is locked
                    return describe("failed", manifest) + f"  ({error.reason})", 0
                return describe("deleted", manifest), 1

            if only:
                repositories = [only]
            else:
                repositories = [name async for name in client.list_repository_names()]
            deleted = 0
            for repository in repositories:
                print(repository)
                listing = client.list_manifest_properties(repository, order_by=NEWEST_FIRST)
                manifests = [manifest async for manifest in listing]
                results = await asyncio.gather(
                    *(settle(repository, action, m) for action, m in triage(manifests))
                )
                for line, count in results:
                    print(line)
                    deleted += count
            print(summary(deleted, dry_run))
    finally:
        await close_credential(credential)


if __name__ == "__main__":
    asyncio.run(main(parse_arguments()))
