"""Upload an image: a config blob and a layer blob, then an OCI image manifest that
refers to them, stored under a tag.

Run it first; download_image, delete_manifest and delete_blobs then work on this image
(CONTAINER_REGISTRY_REPOSITORY and CONTAINER_REGISTRY_TAG, see _settings.py).
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile

from _settings import client_arguments, image_reference

from azurecr import ContainerRegistryClient, Digest, OciDescriptor, OciImageManifest

CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json"
LAYER_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"


def image_content() -> tuple[bytes, bytes]:
    """The image's config and its one layer (a gzipped tar holding hello.txt).

    Built the same way every time, so the same bytes give the same digests.
    """
    text = b"Hello from the azurecr samples!\n"
    info = tarfile.TarInfo("hello.txt")
    info.size, info.mode, info.mtime = len(text), 0o644, 0
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w") as archive:
        archive.addfile(info, io.BytesIO(text))
    layer = gzip.compress(tar.getvalue(), mtime=0)
    config = {
        "architecture": "amd64",
        "os": "linux",
        # the digest of the uncompressed layer, as image tools expect
        "rootfs": {"type": "layers", "diff_ids": [Digest.of(tar.getvalue())]},
    }
    return json.dumps(config, sort_keys=True).encode(), layer


def image_manifest(config: tuple[str, int], layers: list[tuple[str, int]]) -> OciImageManifest:
    """The manifest over the uploaded blobs' (digest, size)."""
    return OciImageManifest(
        config=OciDescriptor(media_type=CONFIG_MEDIA_TYPE, digest=config[0], size=config[1]),
        layers=[
            OciDescriptor(media_type=LAYER_MEDIA_TYPE, digest=digest, size=size)
            for digest, size in layers
        ],
    )


def main() -> None:
    endpoint, credential, options = client_arguments()
    repository, tag = image_reference()
    config, layer = image_content()
    with ContainerRegistryClient(endpoint, credential, **options) as client:
        config_digest, config_size = client.upload_blob(repository, config)
        print(f"uploaded config  {config_digest}  {config_size} bytes")
        layer_digest, layer_size = client.upload_blob(repository, layer)
        print(f"uploaded layer   {layer_digest}  {layer_size} bytes")

        manifest = image_manifest((config_digest, config_size), [(layer_digest, layer_size)])
        digest = client.set_manifest(repository, manifest, tag=tag)
        print(f"pushed {repository}:{tag}  {digest}")


if __name__ == "__main__":
    main()
