"""List the repositories of a registry.

The registry returns the names a page at a time, in lexical order; iterating over
``list_repository_names()`` fetches the next page only when the loop reaches it.
"""

from __future__ import annotations

from _settings import client_arguments

from azurecr import ContainerRegistryClient


def main() -> None:
    endpoint, credential, options = client_arguments()
    with ContainerRegistryClient(endpoint, credential, **options) as client:
        print(f"Repositories in {client.endpoint}:")
        count = 0
        for name in client.list_repository_names():
            print(f"  {name}")
            count += 1
        print("1 repository" if count == 1 else f"{count} repositories")


if __name__ == "__main__":
    main()
