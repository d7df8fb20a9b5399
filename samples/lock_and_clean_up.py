"""Protect an image from deletion, then delete the other manifests of its repository,
keeping the three most recent."""

from __future__ import annotations

import sys

from _settings import client_arguments

from azurecr import ArtifactManifestOrder, ContainerRegistryClient


def main(repository: str, keep_tag: str) -> None:
    endpoint, credential, options = client_arguments()
    with ContainerRegistryClient(endpoint, credential, **options) as client:
        # Lock the tag and its manifest: the registry refuses to delete or overwrite them.
        client.update_tag_properties(repository, keep_tag, can_delete=False, can_write=False)
        client.update_manifest_properties(repository, keep_tag, can_delete=False)
        manifests = client.list_manifest_properties(
            repository, order_by=ArtifactManifestOrder.LAST_UPDATED_ON_DESCENDING
        )
        for index, manifest in enumerate(manifests):
            if manifest.digest is None:  # a listing entry always has one; the type allows None
                continue
            if index < 3 or not manifest.can_delete:
                print(f"keep    {manifest.digest} {manifest.tags}")
                continue
            print(f"delete  {manifest.digest} {manifest.tags}")
            client.delete_manifest(repository, manifest.digest)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
