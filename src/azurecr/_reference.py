"""The OCI grammar for repository names, tags, digests and whole references (pure, no I/O).

Every client method checks its arguments with these functions before any request, so a bad
name fails fast with ``ValueError`` (or ``TypeError`` for a value that is not a ``str`` at
all) instead of an HTTP 400/404 from the registry.
Grammar: OCI distribution spec, "Pulling manifests" (``<name>``, ``<reference>``), the OCI
image spec, "Descriptors" / "Digests", and the ``[registry/]repository[:tag][@digest]``
reference form the container tools share (distribution's ``reference`` package).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from ._digest import Digest

__all__ = [
    "Reference",
    "is_digest",
    "validate_digest",
    "validate_repository",
    "validate_tag",
    "validate_tag_or_digest",
]

_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
_REPOSITORY = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
_TAG = re.compile(r"[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}")
# A registry host: DNS labels (letters allowed in either case: host names are not case
# sensitive) or a bracketed IPv6 literal, then an optional port.
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_REGISTRY = re.compile(rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[a-fA-F0-9:.]+\])(?::[0-9]+)?")


def _require_str(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    return value


def validate_repository(repository: str) -> str:
    """Return ``repository`` unchanged if it is an OCI repository name.

    :param str repository: a name such as ``library/hello-world``.
    :return: ``repository``.
    :rtype: str
    :raises TypeError: if ``repository`` is not a ``str``.
    :raises ValueError: if ``repository`` is not a valid OCI repository name.
    """
    _require_str(repository, "repository name")
    if not _REPOSITORY.fullmatch(repository):
        raise ValueError(
            f"invalid repository name {repository!r}: expected lower-case path components "
            "such as 'library/hello-world'"
        )
    if len(repository) > 255:
        raise ValueError(f"invalid repository name: longer than 255 characters ({repository!r})")
    return repository


def validate_tag(tag: str) -> str:
    """Return ``tag`` unchanged if it is an OCI tag.

    :param str tag: a tag such as ``latest``.
    :return: ``tag``.
    :rtype: str
    :raises TypeError: if ``tag`` is not a ``str``.
    :raises ValueError: if ``tag`` is not a valid OCI tag.
    """
    _require_str(tag, "tag")
    if not _TAG.fullmatch(tag):
        raise ValueError(
            f"invalid tag {tag!r}: expected up to 128 characters of [a-zA-Z0-9_.-], "
            "not starting with '.' or '-'"
        )
    return tag


def validate_digest(digest: str) -> Digest:
    """Return ``digest`` as a :class:`~azurecr.Digest` (equal to the ``str`` given).

    Only ``sha256`` (64 hex characters) and ``sha512`` (128 hex characters), in lower case,
    are accepted.

    :param str digest: a digest such as ``sha256:<64 hex characters>``.
    :return: the validated digest.
    :rtype: ~azurecr.Digest
    :raises TypeError: if ``digest`` is not a ``str``.
    :raises ValueError: if ``digest`` is not a valid sha256 or sha512 digest.
    """
    return Digest(_require_str(digest, "digest"))


def is_digest(tag_or_digest: str) -> bool:
    """Whether a reference is a digest rather than a tag (it has a ``:``; a tag never does).

    :param str tag_or_digest: a tag or a digest.
    :rtype: bool
    """
    return ":" in tag_or_digest


def validate_tag_or_digest(tag_or_digest: str) -> str:
    """Validate a reference that may be either a tag or a digest.

    :param str tag_or_digest: a tag or a digest.
    :return: the tag unchanged, or the digest as a :class:`~azurecr.Digest`.
    :rtype: str
    :raises TypeError: if ``tag_or_digest`` is not a ``str``.
    :raises ValueError: if it is neither a valid tag nor a valid digest.
    """
    _require_str(tag_or_digest, "tag or digest")
    if is_digest(tag_or_digest):
        return validate_digest(tag_or_digest)
    return validate_tag(tag_or_digest)


def _is_registry(component: str) -> bool:
    # The rule docker and distribution use to tell "host[:port]/repo" from "org/repo".
    return "." in component or ":" in component or component == "localhost"


@dataclass(frozen=True, init=False)
class Reference:
    """A parsed image reference: ``[registry/]repository[:tag][@digest]``.

    Every part is validated when the reference is made, by :meth:`parse` or directly.
    ``str(reference)`` gives back the canonical text.

    :param str repository: the repository, such as ``library/hello-world``.
    :keyword registry: the registry host, with an optional port (``myreg.azurecr.io``,
        ``localhost:5000``), or None.
    :paramtype registry: str or None
    :keyword tag: the tag, or None.
    :paramtype tag: str or None
    :keyword digest: the manifest digest, or None.
    :paramtype digest: str or None
    :raises TypeError: if a part is not a ``str`` (or None where allowed).
    :raises ValueError: if a part does not follow the OCI grammar, or if, without a registry,
        the repository's first component would read as one (``my.org/app``), so that
        ``str()`` and :meth:`parse` always agree.
    """

    registry: Optional[str]
    repository: str
    tag: Optional[str]
    digest: Optional[Digest]

    def __init__(
        self,
        repository: str,
        *,
        registry: Optional[str] = None,
        tag: Optional[str] = None,
        digest: Optional[str] = None,
    ) -> None:
        if registry is not None and not (
            _REGISTRY.fullmatch(_require_str(registry, "registry")) and _is_registry(registry)
        ):
            raise ValueError(
                f"invalid registry {registry!r}: expected a host name with a dot or a port, "
                "or localhost, such as 'myregistry.azurecr.io' or 'localhost:5000' (a bare "
                "name would read back as part of the repository)"
            )
        validate_repository(repository)
        first, slash, _ = repository.partition("/")
        if registry is None and slash and _is_registry(first):
            # Written out, it would read back as registry "first": refuse rather than change
            # meaning between str() and parse().
            raise ValueError(
                f"ambiguous repository {repository!r} without a registry: its first component "
                f"{first!r} reads as a registry host; pass registry="
            )
        object.__setattr__(self, "registry", registry)
        object.__setattr__(self, "repository", repository)
        object.__setattr__(self, "tag", None if tag is None else validate_tag(tag))
        object.__setattr__(self, "digest", None if digest is None else validate_digest(digest))

    @classmethod
    def parse(cls, text: str) -> Reference:
        """Parse ``[registry[:port]/]repository[:tag][@digest]``.

        The first path component is a registry when it contains ``.`` or ``:`` or is
        ``localhost``; otherwise the whole path is the repository and ``registry`` is None.

        :param str text: the reference, such as ``myreg.azurecr.io/hello:v1``.
        :return: the parsed reference.
        :rtype: ~azurecr.Reference
        :raises TypeError: if ``text`` is not a ``str``.
        :raises ValueError: if ``text`` is not a valid reference.
        """
        _require_str(text, "reference")
        name, at, digest = text.partition("@")
        if at and not digest:
            raise ValueError(f"invalid reference {text!r}: nothing after '@'")
        registry: Optional[str] = None
        first, slash, rest = name.partition("/")
        if slash and _is_registry(first):
            registry, name = first, rest
        repository, colon, tag = name.rpartition(":")
        if not colon:
            repository, tag = name, ""
        elif "/" in tag:
            # A ':' before the last '/' is not a tag separator ("host:port" left over).
            raise ValueError(f"invalid reference {text!r}: misplaced ':'")
        if colon and not tag:
            raise ValueError(f"invalid reference {text!r}: nothing after ':'")
        try:
            return cls(
                repository,
                registry=registry,
                tag=tag or None,
                digest=digest or None,
            )
        except ValueError as exc:
            raise ValueError(f"invalid reference {text!r}: {exc}") from None

    @property
    def tag_or_digest(self) -> Optional[str]:
        """What to ask the registry for: the digest when there is one, else the tag, else None.

        :rtype: str or None
        """
        return self.digest if self.digest is not None else self.tag

    def __str__(self) -> str:
        text = self.repository if self.registry is None else f"{self.registry}/{self.repository}"
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text
