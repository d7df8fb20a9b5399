"""List every repository, and in each the tags, newest first."""

from __future__ import annotations

from _settings import client_arguments

from azurecr import ArtifactTagOrder, ContainerRegistryClient


def main() -> None:
    endpoint, credential, options = client_arguments()
    with ContainerRegistryClient(endpoint, credential, **options) as client:
        for repository in client.list_repository_names():
            print(repository)
            for tag in client.list_tag_properties(
                repository, order_by=ArtifactTagOrder.LAST_UPDATED_ON_DESCENDING
            ):
                print(f"  {tag.name}  {tag.digest}  {tag.last_updated_on:%Y-%m-%d %H:%M}")


if __name__ == "__main__":
    main()
