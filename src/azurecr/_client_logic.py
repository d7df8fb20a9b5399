"""Everything the sync and async clients do that is not I/O: argument checks, the generated
request models, and the conversion of generated results into public models and pages.

Each client method is then: check arguments (here), one or two generated calls (its own,
sync or async), convert (here).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Optional, TypeVar

from azure.core.exceptions import DeserializationError

from ._models import (
    ArtifactManifestProperties,
    ArtifactTagProperties,
    RepositoryProperties,
)
from ._paging import Page, next_link
from ._reference import (
    validate_digest,
    validate_repository,
    validate_tag,
    validate_tag_or_digest,
)

__all__ = [
    "manifests_page",
    "repository_names_page",
    "tags_page",
    "with_link",
    "writeable",
]

_P = TypeVar("_P", RepositoryProperties, ArtifactManifestProperties, ArtifactTagProperties)


def with_link(pipeline_response: Any, deserialized: Any, headers: dict[str, Any]) -> Any:
    """``cls=`` callback of the generated list operations: (result, ``Link`` header)."""
    return deserialized, headers.get("Link")


@contextmanager
def _converting(what: str) -> Iterator[None]:
    """A registry answer without what the conversion needs (``null`` entries) raises
    ``DeserializationError``, like any other answer of the wrong shape."""
    try:
        yield
    except (AttributeError, TypeError) as exc:
        raise DeserializationError(
            f"the registry's {what} does not have the expected shape: {exc}"
        ) from exc


def tag_digest(result: Any) -> str:
    """The digest a tag points at, from a generated ``TagAttributes`` answer."""
    with _converting("tag"):
        digest = result.tag.digest
    if not isinstance(digest, str) or not digest:
        raise DeserializationError("the registry's tag answer has no digest")
    return digest


def writeable(
    kind: type[_P],
    properties: Optional[_P],
    can_delete: Optional[bool],
    can_list: Optional[bool],
    can_read: Optional[bool],
    can_write: Optional[bool],
) -> Any:
    """The generated ``*ChangeableAttributes`` for an update.

    Keywords that are not None win over the values of ``properties`` (as in
    azure-containerregistry); flags left None are not sent, so the registry keeps them.
    ``properties`` is not modified.
    """
    for name, flag in (
        ("can_delete", can_delete),
        ("can_list", can_list),
        ("can_read", can_read),
        ("can_write", can_write),
    ):
        if flag is not None and not isinstance(flag, bool):
            raise TypeError(f"{name} must be a bool or None, not {type(flag).__name__}")
    if properties is not None and not isinstance(properties, kind):
        raise TypeError(f"properties must be a {kind.__name__}, not {type(properties).__name__}")
    base = properties if properties is not None else kind()
    merged = kind(
        can_delete=base.can_delete if can_delete is None else can_delete,
        can_list=base.can_list if can_list is None else can_list,
        can_read=base.can_read if can_read is None else can_read,
        can_write=base.can_write if can_write is None else can_write,
    )
    return merged._to_generated()


def check_repository(repository: str) -> None:
    validate_repository(repository)


def check_tag(repository: str, tag: str) -> None:
    validate_repository(repository)
    validate_tag(tag)


def check_digest_filter(digest: Optional[str]) -> None:
    if digest is not None:
        validate_digest(digest)


def repository_names_page(result: Any, link: Optional[str], endpoint: str) -> Page[str]:
    names = list(result.repositories or [])
    if not all(isinstance(name, str) for name in names):
        raise DeserializationError("the registry's repository list has an entry that is not a name")
    return names, next_link(link, endpoint)


def tags_page(
    result: Any, link: Optional[str], endpoint: str, repository: str
) -> Page[ArtifactTagProperties]:
    with _converting("tag list"):
        items = [
            ArtifactTagProperties._from_generated(t, repository_name=repository)
            for t in result.tags or []
        ]
    return items, next_link(link, endpoint)


def manifests_page(
    result: Any, link: Optional[str], endpoint: str, repository: str
) -> Page[ArtifactManifestProperties]:
    with _converting("manifest list"):
        items = [
            ArtifactManifestProperties._from_generated(
                m, repository_name=repository, registry=endpoint
            )
            for m in result.manifests or []
        ]
    return items, next_link(link, endpoint)


def repository_properties(result: Any) -> RepositoryProperties:
    with _converting("repository properties"):
        return RepositoryProperties._from_generated(result)


def tag_properties(result: Any, repository: str) -> ArtifactTagProperties:
    with _converting("tag properties"):
        return ArtifactTagProperties._from_generated(result.tag, repository_name=repository)


def manifest_properties(result: Any, repository: str, endpoint: str) -> ArtifactManifestProperties:
    with _converting("manifest properties"):
        return ArtifactManifestProperties._from_generated(
            result.manifest, repository_name=repository, registry=endpoint
        )


def check_reference(repository: str, tag_or_digest: str) -> None:
    validate_repository(repository)
    validate_tag_or_digest(tag_or_digest)
