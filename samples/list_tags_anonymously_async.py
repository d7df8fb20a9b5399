"""list_tags_anonymously with the async client."""

from __future__ import annotations

import asyncio
import sys
from urllib.parse import urlsplit

from _settings import anonymous_client_arguments, image_reference
from azure.core.exceptions import ClientAuthenticationError
from list_tags_anonymously import refused

from azurecr.aio import ContainerRegistryClient


async def main() -> None:
    endpoint, options = anonymous_client_arguments()
    repository, tag = image_reference()
    async with ContainerRegistryClient(endpoint, **options) as client:  # anonymous
        login_server = urlsplit(client.endpoint).netloc
        try:
            manifest = await client.get_manifest_properties(repository, tag)
            print(f"{manifest.fully_qualified_reference} has these tags:")
            async for alias in client.list_tag_properties(repository, digest=manifest.digest):
                print(f"  {login_server}/{alias.repository_name}:{alias.name}")
        except ClientAuthenticationError as error:
            sys.exit(refused(endpoint, error))


if __name__ == "__main__":
    asyncio.run(main())
