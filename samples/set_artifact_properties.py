"""Lock an image so that it cannot be changed or deleted; ``--unlock`` undoes it.

Tags and manifests carry four flags: can_read, can_list, can_write and can_delete.
Locking sets can_write and can_delete to False on the tag CONTAINER_REGISTRY_TAG (it can
no longer be moved to another manifest or deleted) and on the manifest it points at (it can
no longer be deleted, nor can the repository be deleted while it is there). Each update
returns the properties as the registry now has them, which the sample prints.

    python set_artifact_properties.py            # lock
    python set_artifact_properties.py --unlock   # allow writes and deletes again
"""

from __future__ import annotations

import argparse

from _settings import client_arguments, image_reference

from azurecr import ArtifactManifestProperties, ArtifactTagProperties, ContainerRegistryClient


def parse_arguments() -> bool:
    """True to lock, False to unlock."""
    parser = argparse.ArgumentParser(description="Lock an image against changes and deletion.")
    parser.add_argument("--unlock", action="store_true", help="allow writes and deletes again")
    return not parser.parse_args().unlock


def flags(properties: ArtifactTagProperties | ArtifactManifestProperties) -> str:
    return f"can_write={properties.can_write} can_delete={properties.can_delete}"


def main(lock: bool) -> None:
    endpoint, credential, options = client_arguments()
    repository, tag = image_reference()
    allowed = not lock
    print(f"{'locking' if lock else 'unlocking'} {repository}:{tag}")
    with ContainerRegistryClient(endpoint, credential, **options) as client:
        tag_properties = client.update_tag_properties(
            repository, tag, can_write=allowed, can_delete=allowed
        )
        print(f"  tag       {tag_properties.name}  {flags(tag_properties)}")
        manifest_properties = client.update_manifest_properties(
            repository, tag, can_write=allowed, can_delete=allowed
        )
        print(f"  manifest  {manifest_properties.digest}  {flags(manifest_properties)}")


if __name__ == "__main__":
    main(parse_arguments())
