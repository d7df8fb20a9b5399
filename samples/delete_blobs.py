"""Delete the blobs of an image: its config and its layers, as its manifest lists them.

The manifest is read from the registry by tag. Once delete_manifest has removed it, the
copy download_image saved (manifest.json in CONTAINER_REGISTRY_OUTPUT_DIR) is read instead,
so the samples run in the order upload, download, delete manifest, delete blobs.

Blobs belong to a repository: deleting one that another manifest of the repository still
refers to breaks that image, so delete the blobs of images you no longer use only.
"""

from __future__ import annotations

import json
import sys

from _settings import client_arguments, image_reference, output_directory
from azure.core.exceptions import ResourceNotFoundError

from azurecr import (
    ContainerRegistryClient,
    DockerManifest,
    GetManifestResult,
    KnownManifestMediaType,
    OciImageManifest,
)


def manifest_from_registry(result: GetManifestResult) -> OciImageManifest | DockerManifest:
    if not isinstance(result.model, (OciImageManifest, DockerManifest)):
        sys.exit(f"{result.digest} is not an image manifest but {result.media_type}")
    print(f"read manifest {result.digest} from the registry")
    return result.model


def manifest_from_file(reference: str) -> OciImageManifest | DockerManifest:
    path = output_directory() / "manifest.json"
    if not path.is_file():
        sys.exit(f"{reference} is not in the registry and {path} does not exist")
    content = path.read_bytes()
    docker = json.loads(content).get("mediaType") == KnownManifestMediaType.DOCKER_MANIFEST
    manifest = (DockerManifest if docker else OciImageManifest).from_json(content)
    print(f"{reference} is no longer in the registry; read its manifest from {path}")
    return manifest


def main() -> None:
    endpoint, credential, options = client_arguments()
    repository, tag = image_reference()
    with ContainerRegistryClient(endpoint, credential, **options) as client:
        try:
            manifest = manifest_from_registry(client.get_manifest(repository, tag))
        except ResourceNotFoundError:
            manifest = manifest_from_file(f"{repository}:{tag}")
        for descriptor in [manifest.config, *manifest.layers]:
            client.delete_blob(repository, descriptor.digest)
            print(f"deleted blob {descriptor.digest}  {descriptor.media_type}")


if __name__ == "__main__":
    main()
