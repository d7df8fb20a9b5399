"""The OCI grammar for repository names, tags and digests (pure, no I/O).

Every client method checks its arguments with these functions before any request, so a bad
name fails fast with ``ValueError`` instead of an HTTP 400/404 from the registry.
Grammar: OCI distribution spec, "Pulling manifests" (``<name>``, ``<reference>``) and the
OCI image spec, "Descriptors" / "Digests".
"""

from __future__ import annotations

import re

__all__ = [
    "is_digest",
    "validate_digest",
    "validate_repository",
    "validate_tag",
    "validate_tag_or_digest",
]

_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
_REPOSITORY = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
_TAG = re.compile(r"[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}")
# Registered algorithms have a fixed encoded length (lower-case hex only); others follow the
# general grammar ``algorithm ":" encoded``.
_REGISTERED = {"sha256": 64, "sha512": 128}
_ALGORITHM = re.compile(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*")
_ENCODED = re.compile(r"[a-zA-Z0-9=_-]+")
_HEX = re.compile(r"[a-f0-9]+")


def validate_repository(repository: str) -> str:
    """Return ``repository`` unchanged, or raise ``ValueError`` if it is not an OCI name."""
    if not isinstance(repository, str) or not _REPOSITORY.fullmatch(repository):
        raise ValueError(
            f"invalid repository name {repository!r}: expected lower-case path components "
            "such as 'library/hello-world'"
        )
    if len(repository) > 255:
        raise ValueError(f"invalid repository name: longer than 255 characters ({repository!r})")
    return repository


def validate_tag(tag: str) -> str:
    """Return ``tag`` unchanged, or raise ``ValueError`` if it is not an OCI tag."""
    if not isinstance(tag, str) or not _TAG.fullmatch(tag):
        raise ValueError(
            f"invalid tag {tag!r}: expected up to 128 characters of [a-zA-Z0-9_.-], "
            "not starting with '.' or '-'"
        )
    return tag


def validate_digest(digest: str) -> str:
    """Return ``digest`` unchanged, or raise ``ValueError`` if it is not ``algorithm:encoded``."""
    if not isinstance(digest, str) or ":" not in digest:
        raise ValueError(f"invalid digest {digest!r}: expected 'algorithm:hex'")
    algorithm, _, encoded = digest.partition(":")
    if not _ALGORITHM.fullmatch(algorithm) or not _ENCODED.fullmatch(encoded):
        raise ValueError(f"invalid digest {digest!r}: expected 'algorithm:hex'")
    size = _REGISTERED.get(algorithm)
    if size is not None and (len(encoded) != size or not _HEX.fullmatch(encoded)):
        raise ValueError(
            f"invalid digest {digest!r}: {algorithm} needs {size} lower-case hex characters"
        )
    return digest


def is_digest(tag_or_digest: str) -> bool:
    """True when the reference is a digest (it has a ':'; a tag never does)."""
    return ":" in tag_or_digest


def validate_tag_or_digest(tag_or_digest: str) -> str:
    """Validate a reference that may be either a tag or a digest."""
    if isinstance(tag_or_digest, str) and is_digest(tag_or_digest):
        return validate_digest(tag_or_digest)
    return validate_tag(tag_or_digest)
