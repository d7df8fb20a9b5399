"""Public property models (repositories, manifests, tags) and their generated-model converters.

Names, constructor keywords and properties follow ``azure-containerregistry`` 1.2.0, with its
known faults fixed: ``ArtifactTagProperties.repository_name`` is set, a manifest's
``fully_qualified_reference`` keeps the digest's algorithm (``host/repo@sha256:...``), the
references of a manifest list are exposed (``related_artifacts``), media types are exposed,
a missing or ``null`` list is an empty list, and every model has ``__slots__`` so a misspelt
attribute raises ``AttributeError`` instead of being silently created.
"""

from __future__ import annotations

import warnings
from datetime import datetime
from enum import Enum
from typing import Any, Optional, TypeVar, Union
from urllib.parse import urlsplit

from azure.core import CaseInsensitiveEnumMeta

from ._generated import models as _gen

__all__ = [
    "ArtifactArchitecture",
    "ArtifactManifestOrder",
    "ArtifactManifestProperties",
    "ArtifactManifestReference",
    "ArtifactOperatingSystem",
    "ArtifactTagOrder",
    "ArtifactTagProperties",
    "RepositoryProperties",
]


class ArtifactArchitecture(str, Enum, metaclass=CaseInsensitiveEnumMeta):
    """CPU architecture of an image (Go ``GOARCH`` values)."""

    AMD64 = "amd64"
    ARM = "arm"
    ARM64 = "arm64"
    I386 = "386"
    MIPS = "mips"
    MIPS64 = "mips64"
    MIPS64LE = "mips64le"
    MIPSLE = "mipsle"
    PPC64 = "ppc64"
    PPC64LE = "ppc64le"
    RISCV64 = "riscv64"
    S390X = "s390x"
    WASM = "wasm"


class ArtifactOperatingSystem(str, Enum, metaclass=CaseInsensitiveEnumMeta):
    """Operating system of an image (Go ``GOOS`` values)."""

    AIX = "aix"
    ANDROID = "android"
    DARWIN = "darwin"
    DRAGONFLY = "dragonfly"
    FREEBSD = "freebsd"
    ILLUMOS = "illumos"
    IOS = "ios"
    JS = "js"
    LINUX = "linux"
    NETBSD = "netbsd"
    OPENBSD = "openbsd"
    PLAN9 = "plan9"
    SOLARIS = "solaris"
    WINDOWS = "windows"


class ArtifactManifestOrder(str, Enum, metaclass=CaseInsensitiveEnumMeta):
    """Order of ``list_manifest_properties``."""

    NONE = "none"
    """No ``orderby`` is sent: the registry's default order."""
    LAST_UPDATED_ON_DESCENDING = "timedesc"
    """Most recently updated first."""
    LAST_UPDATED_ON_ASCENDING = "timeasc"
    """Least recently updated first."""


class ArtifactTagOrder(str, Enum, metaclass=CaseInsensitiveEnumMeta):
    """Order of ``list_tag_properties``."""

    NONE = "none"
    """No ``orderby`` is sent: the registry's default order."""
    LAST_UPDATED_ON_DESCENDING = "timedesc"
    """Most recently updated first."""
    LAST_UPDATED_ON_ASCENDING = "timeasc"
    """Least recently updated first."""


_E = TypeVar("_E", bound=Enum)


def _known(enum: type[_E], value: Optional[str]) -> Optional[Union[_E, str]]:
    """The enum member for ``value``, or ``value`` itself when the enum does not know it."""
    if value is None:
        return None
    for candidate in (value, value.lower()):
        try:
            return enum(candidate)
        except ValueError:
            pass
    return value


def _host_only(registry: Optional[str]) -> str:
    if not registry:
        return ""
    return urlsplit(registry).netloc if "://" in registry else registry.rstrip("/")


class _Writeable:
    """The four writeable flags shared by every properties model."""

    __slots__ = ("can_delete", "can_list", "can_read", "can_write")

    def __init__(
        self,
        can_delete: Optional[bool],
        can_list: Optional[bool],
        can_read: Optional[bool],
        can_write: Optional[bool],
    ) -> None:
        self.can_delete = can_delete
        self.can_list = can_list
        self.can_read = can_read
        self.can_write = can_write

    def _flags(self) -> dict[str, Optional[bool]]:
        return {
            "delete_enabled": self.can_delete,
            "list_enabled": self.can_list,
            "read_enabled": self.can_read,
            "write_enabled": self.can_write,
        }

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name.lstrip('_')}={getattr(self, name)!r}" for name in _all_slots(type(self))
        )
        return f"{type(self).__name__}({fields})"


def _all_slots(cls: type) -> list[str]:
    names: list[str] = []
    for klass in reversed(cls.__mro__):
        names.extend(getattr(klass, "__slots__", ()))
    return names


def _flags_of(attributes: Any) -> dict[str, Optional[bool]]:
    """``can_*`` keywords from a generated ``*ChangeableAttributes`` (or None)."""
    return {
        "can_delete": getattr(attributes, "delete_enabled", None),
        "can_list": getattr(attributes, "list_enabled", None),
        "can_read": getattr(attributes, "read_enabled", None),
        "can_write": getattr(attributes, "write_enabled", None),
    }


class RepositoryProperties(_Writeable):
    """Properties of a repository.

    :ivar bool can_delete: whether the repository may be deleted.
    :ivar bool can_list: whether the repository shows in listings.
    :ivar bool can_read: whether the repository may be pulled.
    :ivar bool can_write: whether the repository may be pushed to.
    :ivar ~datetime.datetime created_on: when the repository was created.
    :ivar ~datetime.datetime last_updated_on: when the repository last changed.
    :ivar int manifest_count: number of manifests in the repository.
    :ivar str name: the repository name.
    :ivar int tag_count: number of tags in the repository.
    """

    __slots__ = ("_created_on", "_last_updated_on", "_manifest_count", "_name", "_tag_count")

    def __init__(
        self,
        *,
        can_delete: Optional[bool] = None,
        can_list: Optional[bool] = None,
        can_read: Optional[bool] = None,
        can_write: Optional[bool] = None,
        created_on: Optional[datetime] = None,
        last_updated_on: Optional[datetime] = None,
        manifest_count: Optional[int] = None,
        name: Optional[str] = None,
        tag_count: Optional[int] = None,
    ) -> None:
        super().__init__(can_delete, can_list, can_read, can_write)
        self._created_on = created_on
        self._last_updated_on = last_updated_on
        self._manifest_count = manifest_count
        self._name = name
        self._tag_count = tag_count

    @classmethod
    def _from_generated(cls, generated: Any) -> RepositoryProperties:
        return cls(
            created_on=generated.created_time,
            last_updated_on=generated.last_update_time,
            manifest_count=generated.manifest_count,
            name=generated.image_name,
            tag_count=generated.tag_count,
            **_flags_of(generated.changeable_attributes),
        )

    def _to_generated(self) -> Any:
        return _gen.RepositoryChangeableAttributes(**self._flags())

    @property
    def created_on(self) -> Optional[datetime]:
        """When the repository was created."""
        return self._created_on

    @property
    def last_updated_on(self) -> Optional[datetime]:
        """When the repository last changed."""
        return self._last_updated_on

    @property
    def last_udpated_on(self) -> Optional[datetime]:
        """Deprecated misspelling of ``last_updated_on`` kept by azure-containerregistry."""
        warnings.warn(
            "'last_udpated_on' is deprecated; use 'last_updated_on'",
            DeprecationWarning,
            stacklevel=2,
        )
        return self._last_updated_on

    @property
    def manifest_count(self) -> Optional[int]:
        """Number of manifests in the repository."""
        return self._manifest_count

    @property
    def name(self) -> Optional[str]:
        """The repository name."""
        return self._name

    @property
    def tag_count(self) -> Optional[int]:
        """Number of tags in the repository."""
        return self._tag_count


class ArtifactManifestReference:
    """One platform manifest that a manifest list (or OCI image index) points at.

    :ivar str digest: the platform manifest's digest.
    :ivar architecture: its CPU architecture (a plain str when the enum does not know it).
    :vartype architecture: ~azurecr.ArtifactArchitecture or str or None
    :ivar operating_system: its operating system (a plain str when the enum does not know it).
    :vartype operating_system: ~azurecr.ArtifactOperatingSystem or str or None
    """

    __slots__ = ("_architecture", "_digest", "_operating_system")

    def __init__(
        self,
        *,
        digest: str,
        architecture: Optional[str] = None,
        operating_system: Optional[str] = None,
    ) -> None:
        self._digest = digest
        self._architecture = _known(ArtifactArchitecture, architecture)
        self._operating_system = _known(ArtifactOperatingSystem, operating_system)

    @classmethod
    def _from_generated(cls, generated: Any) -> ArtifactManifestReference:
        return cls(
            digest=generated.digest,
            architecture=generated.architecture,
            operating_system=generated.os,
        )

    @property
    def digest(self) -> str:
        """The platform manifest's digest."""
        return self._digest

    @property
    def architecture(self) -> Optional[Union[ArtifactArchitecture, str]]:
        """The platform's CPU architecture."""
        return self._architecture

    @property
    def operating_system(self) -> Optional[Union[ArtifactOperatingSystem, str]]:
        """The platform's operating system."""
        return self._operating_system

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ArtifactManifestReference):
            return NotImplemented
        return (self.digest, self.architecture, self.operating_system) == (
            other.digest,
            other.architecture,
            other.operating_system,
        )

    def __hash__(self) -> int:
        return hash((self.digest, self.architecture, self.operating_system))

    def __repr__(self) -> str:
        return (
            f"ArtifactManifestReference(digest={self.digest!r}, "
            f"architecture={self.architecture!r}, operating_system={self.operating_system!r})"
        )


class ArtifactManifestProperties(_Writeable):
    """Properties of a manifest.

    :ivar bool can_delete: whether the manifest may be deleted.
    :ivar bool can_list: whether the manifest shows in listings.
    :ivar bool can_read: whether the manifest may be pulled.
    :ivar bool can_write: whether the manifest may be overwritten.
    :ivar architecture: CPU architecture (a plain str when the enum does not know it).
    :vartype architecture: ~azurecr.ArtifactArchitecture or str or None
    :ivar operating_system: operating system (a plain str when the enum does not know it).
    :vartype operating_system: ~azurecr.ArtifactOperatingSystem or str or None
    :ivar ~datetime.datetime created_on: when the manifest was pushed.
    :ivar ~datetime.datetime last_updated_on: when the manifest last changed.
    :ivar str digest: the manifest digest.
    :ivar str repository_name: the repository the manifest is in.
    :ivar int size_in_bytes: size of the image (manifest, config and layers).
    :ivar list[str] tags: tags pointing at the manifest (empty when none).
    :ivar str media_type: the manifest's media type.
    :ivar str config_media_type: the media type of the manifest's config blob.
    :ivar related_artifacts: for a manifest list / image index, the manifests it references.
    :vartype related_artifacts: list[~azurecr.ArtifactManifestReference]
    :ivar str fully_qualified_reference: ``<login server>/<repository>@<digest>``.
    """

    __slots__ = (
        "_architecture",
        "_config_media_type",
        "_created_on",
        "_digest",
        "_last_updated_on",
        "_media_type",
        "_operating_system",
        "_registry",
        "_related_artifacts",
        "_repository_name",
        "_size_in_bytes",
        "_tags",
    )

    def __init__(
        self,
        *,
        can_delete: Optional[bool] = None,
        can_list: Optional[bool] = None,
        can_read: Optional[bool] = None,
        can_write: Optional[bool] = None,
        cpu_architecture: Optional[str] = None,
        created_on: Optional[datetime] = None,
        digest: Optional[str] = None,
        last_updated_on: Optional[datetime] = None,
        operating_system: Optional[str] = None,
        repository_name: Optional[str] = None,
        registry: Optional[str] = None,
        size_in_bytes: Optional[int] = None,
        tags: Optional[list[str]] = None,
        media_type: Optional[str] = None,
        config_media_type: Optional[str] = None,
        related_artifacts: Optional[list[ArtifactManifestReference]] = None,
    ) -> None:
        super().__init__(can_delete, can_list, can_read, can_write)
        self._architecture = _known(ArtifactArchitecture, cpu_architecture)
        self._created_on = created_on
        self._digest = digest
        self._last_updated_on = last_updated_on
        self._operating_system = _known(ArtifactOperatingSystem, operating_system)
        self._repository_name = repository_name
        self._registry = registry
        self._size_in_bytes = size_in_bytes
        self._tags = list(tags or [])
        self._media_type = media_type
        self._config_media_type = config_media_type
        self._related_artifacts = list(related_artifacts or [])

    @classmethod
    def _from_generated(
        cls, generated: Any, *, repository_name: str, registry: str
    ) -> ArtifactManifestProperties:
        # The ACR answer carries ``mediaType`` although the REST description does not declare
        # it; the generated deserializer keeps undeclared keys in ``additional_properties``.
        extra = getattr(generated, "additional_properties", None) or {}
        media_type = extra.get("mediaType")
        return cls(
            cpu_architecture=generated.architecture,
            created_on=generated.created_time,
            digest=generated.digest,
            last_updated_on=generated.last_update_time,
            operating_system=generated.os,
            repository_name=repository_name,
            registry=registry,
            size_in_bytes=generated.image_size,
            tags=generated.tags,
            media_type=media_type if isinstance(media_type, str) else None,
            config_media_type=generated.config_media_type,
            related_artifacts=[
                ArtifactManifestReference._from_generated(r) for r in generated.references or []
            ],
            **_flags_of(generated.changeable_attributes),
        )

    def _to_generated(self) -> Any:
        return _gen.ManifestChangeableAttributes(**self._flags())

    @property
    def architecture(self) -> Optional[Union[ArtifactArchitecture, str]]:
        """CPU architecture of the image."""
        return self._architecture

    @property
    def created_on(self) -> Optional[datetime]:
        """When the manifest was pushed."""
        return self._created_on

    @property
    def digest(self) -> Optional[str]:
        """The manifest digest."""
        return self._digest

    @property
    def last_updated_on(self) -> Optional[datetime]:
        """When the manifest last changed."""
        return self._last_updated_on

    @property
    def operating_system(self) -> Optional[Union[ArtifactOperatingSystem, str]]:
        """Operating system of the image."""
        return self._operating_system

    @property
    def repository_name(self) -> Optional[str]:
        """The repository the manifest is in."""
        return self._repository_name

    @property
    def size_in_bytes(self) -> Optional[int]:
        """Size of the image in bytes."""
        return self._size_in_bytes

    @property
    def tags(self) -> list[str]:
        """Tags pointing at the manifest (empty when none)."""
        return self._tags

    @property
    def media_type(self) -> Optional[str]:
        """The manifest's media type."""
        return self._media_type

    @property
    def config_media_type(self) -> Optional[str]:
        """The media type of the manifest's config blob."""
        return self._config_media_type

    @property
    def related_artifacts(self) -> list[ArtifactManifestReference]:
        """The manifests a manifest list or image index references (empty otherwise)."""
        return self._related_artifacts

    @property
    def fully_qualified_reference(self) -> str:
        """``<login server>/<repository>@<algorithm>:<hex>``, usable by ``docker pull``."""
        reference = self._digest or ""
        separator = "@" if ":" in reference else ":"
        return f"{_host_only(self._registry)}/{self._repository_name}{separator}{reference}"


class ArtifactTagProperties(_Writeable):
    """Properties of a tag.

    :ivar bool can_delete: whether the tag may be deleted.
    :ivar bool can_list: whether the tag shows in listings.
    :ivar bool can_read: whether the tag may be pulled.
    :ivar bool can_write: whether the tag may be moved.
    :ivar ~datetime.datetime created_on: when the tag was created.
    :ivar str digest: digest of the manifest the tag points at.
    :ivar ~datetime.datetime last_updated_on: when the tag last moved or changed.
    :ivar str name: the tag.
    :ivar str repository_name: the repository the tag is in.
    """

    __slots__ = ("_created_on", "_digest", "_last_updated_on", "_name", "_repository_name")

    def __init__(
        self,
        *,
        can_delete: Optional[bool] = None,
        can_list: Optional[bool] = None,
        can_read: Optional[bool] = None,
        can_write: Optional[bool] = None,
        created_on: Optional[datetime] = None,
        digest: Optional[str] = None,
        last_updated_on: Optional[datetime] = None,
        name: Optional[str] = None,
        repository_name: Optional[str] = None,
    ) -> None:
        super().__init__(can_delete, can_list, can_read, can_write)
        self._created_on = created_on
        self._digest = digest
        self._last_updated_on = last_updated_on
        self._name = name
        self._repository_name = repository_name

    @classmethod
    def _from_generated(cls, generated: Any, *, repository_name: str) -> ArtifactTagProperties:
        return cls(
            created_on=generated.created_time,
            digest=generated.digest,
            last_updated_on=generated.last_update_time,
            name=generated.name,
            repository_name=repository_name,
            **_flags_of(generated.changeable_attributes),
        )

    def _to_generated(self) -> Any:
        return _gen.TagChangeableAttributes(**self._flags())

    @property
    def created_on(self) -> Optional[datetime]:
        """When the tag was created."""
        return self._created_on

    @property
    def digest(self) -> Optional[str]:
        """Digest of the manifest the tag points at."""
        return self._digest

    @property
    def last_updated_on(self) -> Optional[datetime]:
        """When the tag last moved or changed."""
        return self._last_updated_on

    @property
    def name(self) -> Optional[str]:
        """The tag."""
        return self._name

    @property
    def repository_name(self) -> Optional[str]:
        """The repository the tag is in."""
        return self._repository_name
