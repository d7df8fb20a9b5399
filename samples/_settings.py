"""How the samples find their registry: environment variables, as in the Azure SDK samples.

CONTAINER_REGISTRY_ENDPOINT   the login server, e.g. myregistry.azurecr.io (required)
CONTAINER_REGISTRY_USERNAME   with _PASSWORD: admin user or repository-scoped token;
CONTAINER_REGISTRY_PASSWORD   without them, DefaultAzureCredential (AAD) is used
                              (list_tags_anonymously ignores all three: it signs in as no one)
CONTAINER_REGISTRY_CA_BUNDLE  a CA bundle to trust (private or test registries only)

The samples that work on one image (list_tags_anonymously, set_artifact_properties,
upload_image, download_image, delete_manifest, delete_blobs) also read:

CONTAINER_REGISTRY_REPOSITORY  the repository they work in (default samples/hello-world);
                               delete_old_images cleans only this repository when it is
                               set, and every repository of the registry when it is not
CONTAINER_REGISTRY_TAG         the image's tag (default demo)
CONTAINER_REGISTRY_OUTPUT_DIR  where download_image writes files (default ./downloaded-image)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def client_arguments(*, asynchronous: bool = False) -> tuple[str, Any, dict[str, Any]]:
    """(endpoint, credential, client options); ``asynchronous`` picks the aio credential."""
    endpoint = os.environ["CONTAINER_REGISTRY_ENDPOINT"]
    username = os.environ.get("CONTAINER_REGISTRY_USERNAME")
    if username:
        from azure.core.credentials import AzureNamedKeyCredential

        credential: Any = AzureNamedKeyCredential(
            username, os.environ["CONTAINER_REGISTRY_PASSWORD"]
        )
    elif asynchronous:
        from azure.identity.aio import DefaultAzureCredential as AsyncDefaultAzureCredential

        credential = AsyncDefaultAzureCredential()
    else:
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential()
    return endpoint, credential, client_options()


def anonymous_client_arguments() -> tuple[str, dict[str, Any]]:
    """(endpoint, client options) for a client without a credential (anonymous pull)."""
    return os.environ["CONTAINER_REGISTRY_ENDPOINT"], client_options()


def client_options() -> dict[str, Any]:
    """Keyword arguments for the client: the CA bundle to trust, when one is set."""
    options: dict[str, Any] = {}
    if os.environ.get("CONTAINER_REGISTRY_CA_BUNDLE"):
        options["connection_verify"] = os.environ["CONTAINER_REGISTRY_CA_BUNDLE"]
    return options


def image_reference() -> tuple[str, str]:
    """(repository, tag) of the image the image samples upload, download and delete."""
    repository = os.environ.get("CONTAINER_REGISTRY_REPOSITORY") or "samples/hello-world"
    tag = os.environ.get("CONTAINER_REGISTRY_TAG") or "demo"
    return repository, tag


def repository_to_clean() -> str | None:
    """The one repository delete_old_images cleans, or None for every repository."""
    return os.environ.get("CONTAINER_REGISTRY_REPOSITORY") or None


def output_directory() -> Path:
    """Where download_image writes the manifest, config and layers (and delete_blobs
    finds the manifest once delete_manifest has removed it from the registry)."""
    return Path(os.environ.get("CONTAINER_REGISTRY_OUTPUT_DIR") or "downloaded-image")


async def close_credential(credential: Any) -> None:
    """Close an async AAD credential (a username/password credential has nothing to close)."""
    close = getattr(credential, "close", None)
    if close is not None:
        await close()
