"""List the tags of an image without signing in.

A client created without a credential pulls anonymously. That works only on a registry
with anonymous pull enabled (``az acr update --name <registry> --anonymous-pull-enabled``),
and only for reading: the registry refuses anonymous pushes and deletes.

The sample finds the manifest CONTAINER_REGISTRY_TAG points at, then lists every tag on
that manifest: the image's aliases. CONTAINER_REGISTRY_USERNAME and _PASSWORD are ignored.
"""

from __future__ import annotations

import sys
from urllib.parse import urlsplit

from _settings import anonymous_client_arguments, image_reference
from azure.core.exceptions import ClientAuthenticationError

from azurecr import ContainerRegistryClient


def refused(endpoint: str, error: ClientAuthenticationError) -> str:
    """What to tell the user when the registry does not allow anonymous pull."""
    return f"{endpoint} refused anonymous access; is anonymous pull enabled?\n  {error.message}"


def main() -> None:
    endpoint, options = anonymous_client_arguments()
    repository, tag = image_reference()
    with ContainerRegistryClient(endpoint, **options) as client:  # no credential: anonymous
        login_server = urlsplit(client.endpoint).netloc
        try:
            manifest = client.get_manifest_properties(repository, tag)
            print(f"{manifest.fully_qualified_reference} has these tags:")
            for alias in client.list_tag_properties(repository, digest=manifest.digest):
                print(f"  {login_server}/{alias.repository_name}:{alias.name}")
        except ClientAuthenticationError as error:
            sys.exit(refused(endpoint, error))


if __name__ == "__main__":
    main()
