"""Download an image: its manifest (found by tag), its config and its layers, to files.

Writes to CONTAINER_REGISTRY_OUTPUT_DIR: manifest.json (the manifest's exact bytes),
config.json, and each layer named by its digest. Every blob is checked against its digest
before it appears under its name; a failed download leaves no file behind.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Union

from _settings import client_arguments, image_reference, output_directory

from azurecr import ContainerRegistryClient, DockerManifest, GetManifestResult, OciImageManifest

ImageManifest = Union[OciImageManifest, DockerManifest]


def image_manifest_of(result: GetManifestResult, reference: str) -> ImageManifest:
    """The typed manifest, if it is an image's (an index or list names other manifests)."""
    if not isinstance(result.model, (OciImageManifest, DockerManifest)):
        sys.exit(f"{reference} is not an image manifest but {result.media_type}")
    return result.model


def save_manifest(result: GetManifestResult, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "manifest.json"
    path.write_bytes(result.content)
    print(f"wrote {path}  {result.digest}  {len(result.content)} bytes")


def blob_files(manifest: ImageManifest, directory: Path) -> list[tuple[str, Path]]:
    """(digest, file) of the config and of every layer."""
    files: list[tuple[str, Path]] = [(manifest.config.digest, directory / "config.json")]
    files += [(layer.digest, directory / layer.digest.encoded) for layer in manifest.layers]
    return files


def main() -> None:
    endpoint, credential, options = client_arguments()
    repository, tag = image_reference()
    directory = output_directory()
    with ContainerRegistryClient(endpoint, credential, **options) as client:
        result = client.get_manifest(repository, tag)
        manifest = image_manifest_of(result, f"{repository}:{tag}")
        save_manifest(result, directory)
        for digest, path in blob_files(manifest, directory):
            size = client.download_blob_to_file(repository, digest, path)
            print(f"wrote {path}  {digest}  {size} bytes")


if __name__ == "__main__":
    main()
