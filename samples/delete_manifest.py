"""Delete an image: get the manifest its tag points at, then delete that manifest by its
digest (the registry removes every tag on it). The blobs stay; see delete_blobs.
"""

from __future__ import annotations

from _settings import client_arguments, image_reference
from azure.core.exceptions import ResourceNotFoundError

from azurecr import ContainerRegistryClient


def main() -> None:
    endpoint, credential, options = client_arguments()
    repository, tag = image_reference()
    with ContainerRegistryClient(endpoint, credential, **options) as client:
        try:
            manifest = client.get_manifest(repository, tag)
        except ResourceNotFoundError:
            print(f"{repository}:{tag} does not exist; nothing to delete")
            return
        print(f"deleting {repository}@{manifest.digest}  ({tag} and any other tag on it)")
        client.delete_manifest(repository, manifest.digest)
        print("deleted")


if __name__ == "__main__":
    main()
