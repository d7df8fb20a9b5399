"""Delete all but the newest three images of each repository.

The manifests of a repository are listed newest first (by last update); the first three
are kept and every older one is deleted, with its tags. A manifest whose can_delete flag is
False (see set_artifact_properties) is kept and reported as locked.

Every repository of the registry is cleaned, unless CONTAINER_REGISTRY_REPOSITORY names
one. Try it with ``--dry-run`` first: it prints what it would delete and deletes nothing.

The blobs of a deleted image stay in the registry until it garbage-collects them. Note
that the platform images of a multi-platform image are manifests of the repository too,
usually untagged: clean such repositories with care.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Iterator

from _settings import client_arguments, repository_to_clean
from azure.core.exceptions import HttpResponseError

from azurecr import ArtifactManifestOrder, ArtifactManifestProperties, ContainerRegistryClient

KEEP = 3
NEWEST_FIRST = ArtifactManifestOrder.LAST_UPDATED_ON_DESCENDING


def parse_arguments() -> bool:
    """True for a dry run."""
    parser = argparse.ArgumentParser(description="Delete all but the newest three images.")
    parser.add_argument("--dry-run", action="store_true", help="only print what would go")
    return bool(parser.parse_args().dry_run)


def triage(
    manifests: Iterable[ArtifactManifestProperties],
) -> Iterator[tuple[str, ArtifactManifestProperties]]:
    """("keep" | "locked" | "delete", manifest) for manifests listed newest first."""
    for position, manifest in enumerate(manifests):
        if position < KEEP:
            yield "keep", manifest
        elif manifest.can_delete is False:
            yield "locked", manifest
        else:
            yield "delete", manifest


def describe(action: str, manifest: ArtifactManifestProperties) -> str:
    tags = ", ".join(manifest.tags) or "(untagged)"
    return f"  {action:<7} {manifest.digest}  {tags}"


def summary(deleted: int, dry_run: bool) -> str:
    images = "1 image" if deleted == 1 else f"{deleted} images"
    if dry_run:
        return f"dry run: {images} would be deleted; nothing was deleted"
    return f"{images} deleted"


def main(dry_run: bool) -> None:
    endpoint, credential, options = client_arguments()
    only = repository_to_clean()
    deleted = 0
    with ContainerRegistryClient(endpoint, credential, **options) as client:
        repositories = [only] if only else client.list_repository_names()
        for repository in repositories:
            print(repository)
            manifests = client.list_manifest_properties(repository, order_by=NEWEST_FIRST)
            for action, manifest in triage(manifests):
                if action != "delete" or manifest.digest is None:
                    print(describe(action, manifest))
                elif dry_run:
                    print(describe("delete", manifest))
                    deleted += 1
                else:
                    try:
                        client.delete_manifest(repository, manifest.digest)
                    except HttpResponseError as error:  # e.g. one of its tags is locked
                        print(describe("failed", manifest) + f"  ({error.reason})")
                        continue
                    print(describe("deleted", manifest))
                    deleted += 1
    print(summary(deleted, dry_run))


if __name__ == "__main__":
    main(parse_arguments())
