"""Typed OCI and Docker manifest models (pure, no I/O).

Each model reads a JSON document with ``from_json`` and writes one with ``to_json``. What a
model does not know (fields of a newer spec, vendor extensions) is kept in its
``additional_properties`` and written back, so ``Model.from_json(doc).to_json() == doc`` for
every valid document. A document that does not fit raises ``ValueError`` naming the field.

Names follow ``azure-containerregistry``: ``OciAnnotations``, ``OciDescriptor``,
``OciImageManifest`` keep the attribute names of its ``Annotations``, ``Descriptor``,
``OCIManifest`` and ``Platform`` models (``created``, ``media_type``, ``schema_version``,
``os_version``...), with ``additional_properties`` for the rest.

Specs: OCI image spec v1.1 (``descriptor.md``, ``manifest.md``, ``image-index.md``,
``annotations.md``) and Docker "Image Manifest Version 2, Schema 2" (manifest and
manifest list).

A ``null`` in an optional known field is read as if the field were absent (as Go's
``encoding/json`` does), so it is not written back; the specs do not allow it anyway.
To send a manifest byte for byte as received, send its raw bytes, not a model: a model writes
its known fields first, in a fixed order.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Any, Callable, ClassVar, Optional, TypeVar, Union

from azure.core import CaseInsensitiveEnumMeta
from typing_extensions import Self

from ._digest import Digest

__all__ = [
    "MANIFEST_ACCEPT",
    "DockerManifest",
    "DockerManifestList",
    "KnownManifestMediaType",
    "ManifestModel",
    "OciAnnotations",
    "OciDescriptor",
    "OciImageIndex",
    "OciImageManifest",
    "OciPlatform",
    "manifest_bytes",
    "media_type_of",
    "parse_manifest",
]


class KnownManifestMediaType(str, Enum, metaclass=CaseInsensitiveEnumMeta):
    """Media types of the manifests a registry serves."""

    OCI_IMAGE_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
    """An OCI image manifest (also used for OCI 1.1 artifacts)."""
    OCI_IMAGE_INDEX = "application/vnd.oci.image.index.v1+json"
    """An OCI image index (multi-platform image)."""
    DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
    """A Docker image manifest, version 2 schema 2."""
    DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
    """A Docker manifest list (multi-platform image)."""
    OCI_ARTIFACT_MANIFEST = "application/vnd.oci.artifact.manifest.v1+json"
    """The OCI artifact manifest of the 1.1 release candidates (dropped from OCI 1.1)."""


MANIFEST_ACCEPT = ", ".join(member.value for member in KnownManifestMediaType)
"""``Accept`` header value asking for any of :class:`KnownManifestMediaType`.

Deliberately without ``*/*``: offered that, some registries fall back to the Docker schema 1
format, which no model here reads.
"""

_JSONInput = Union[Mapping[str, Any], str, bytes, bytearray]
_T = TypeVar("_T")


# ---------------------------------------------------------------------------------------------
# Reading JSON: every failure is a ValueError naming the field's path in the document.


def _kind(value: object) -> str:
    """The JSON name of a value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "an array"
    return f"a {type(value).__name__}"


def _decode(obj: object) -> object:
    """A JSON value from a Mapping (as is) or from JSON text."""
    if isinstance(obj, (str, bytes, bytearray)):
        try:
            return json.loads(obj)
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
            raise ValueError(f"not valid JSON: {exc}") from None
        except RecursionError:
            raise ValueError("not valid JSON: nested too deeply") from None
    return obj


def _json_copy(value: object, path: str) -> Any:
    """A deep copy of a JSON value, refusing anything JSON cannot hold."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{path}: {value!r} is not a JSON number")
        return value
    if isinstance(value, Mapping):
        copied: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{path}: object key {key!r} is not a string")
            copied[key] = _json_copy(item, f"{path}.{key}" if path else key)
        return copied
    if isinstance(value, (list, tuple)):
        return [_json_copy(item, f"{path}[{i}]") for i, item in enumerate(value)]
    raise ValueError(f"{path}: {_kind(value)} is not a JSON value")


class _Fields:
    """One JSON object being read: typed getters, and the keys no getter asked for."""

    def __init__(self, obj: object, path: str) -> None:
        if not isinstance(obj, Mapping):
            raise ValueError(f"{path or 'document'}: expected a JSON object, got {_kind(obj)}")
        for key in obj:
            if not isinstance(key, str):
                raise ValueError(f"{path or 'document'}: object key {key!r} is not a string")
        self._obj: Mapping[str, Any] = obj
        self._path = path
        self._known: set[str] = set()

    def at(self, key: str) -> str:
        return f"{self._path}.{key}" if self._path else key

    def get(self, key: str, *, required: bool = False) -> Any:
        self._known.add(key)
        value = self._obj.get(key)
        if value is None and required:
            state = "is null" if key in self._obj else "is missing"
            raise ValueError(f"{self.at(key)}: required field {state}")
        return value

    def string(self, key: str, *, required: bool = False) -> Any:
        value = self.get(key, required=required)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{self.at(key)}: expected a string, got {_kind(value)}")
        return value

    def integer(self, key: str, *, required: bool = False) -> Any:
        value = self.get(key, required=required)
        # bool is an int in Python, never in JSON.
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise ValueError(f"{self.at(key)}: expected an integer, got {_kind(value)}")
        return value

    def strings(self, key: str) -> Optional[list[str]]:
        value = self.get(key)
        if value is None:
            return None
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"{self.at(key)}: expected an array of strings, got {_kind(value)}")
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise ValueError(f"{self.at(key)}[{i}]: expected a string, got {_kind(item)}")
        return list(value)

    def model(self, key: str, read: Callable[[_Fields], _T]) -> Optional[_T]:
        value = self.get(key)
        return None if value is None else read(_Fields(value, self.at(key)))

    def required_model(self, key: str, read: Callable[[_Fields], _T]) -> _T:
        return read(_Fields(self.get(key, required=True), self.at(key)))

    def models(self, key: str, read: Callable[[_Fields], _T]) -> list[_T]:
        """A required array of objects."""
        value = self.get(key, required=True)
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"{self.at(key)}: expected an array, got {_kind(value)}")
        return [read(_Fields(item, f"{self.at(key)}[{i}]")) for i, item in enumerate(value)]

    def rest(self) -> dict[str, Any]:
        """The fields no getter asked for, deep-copied."""
        return {
            key: _json_copy(value, self.at(key))
            for key, value in self._obj.items()
            if key not in self._known
        }


def _media_type_matches(fields: _Fields, accepted: str) -> Optional[str]:
    """The document's ``mediaType``, which must be ``accepted`` when present (spec: MUST)."""
    media_type: Optional[str] = fields.string("mediaType")
    if media_type is not None and _normalise(media_type) != accepted:
        raise ValueError(f"{fields.at('mediaType')}: expected {accepted!r}, got {media_type!r}")
    return media_type


def _schema_version_2(fields: _Fields) -> int:
    version: int = fields.integer("schemaVersion", required=True)
    if version != 2:
        raise ValueError(f"{fields.at('schemaVersion')}: expected 2, got {version}")
    return version


def _normalise(media_type: str) -> str:
    """A media type without parameters, in lower case (media types are case-insensitive)."""
    return media_type.split(";", 1)[0].strip().lower()


# ---------------------------------------------------------------------------------------------
# Writing JSON


def _put(out: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        out[key] = value


def _model_list(items: Optional[Iterable[_Model]]) -> Optional[list[dict[str, Any]]]:
    return None if items is None else [item.to_json() for item in items]


class _Model:
    """Shared behaviour: JSON in and out, equality by JSON, a repr of the fields set."""

    __slots__ = ("additional_properties",)

    additional_properties: dict[str, Any]
    _REPR: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def from_json(cls, obj: _JSONInput) -> Self:
        """Read a model from a JSON object (a Mapping) or from JSON text.

        :param obj: the JSON document, parsed (a Mapping) or as text (``str`` or ``bytes``).
        :type obj: ~collections.abc.Mapping[str, Any] or str or bytes
        :return: the model; fields it does not know are in ``additional_properties``.
        :raises ValueError: if ``obj`` is not JSON, not an object, or does not fit the model.
        """
        try:
            return cls._read(_Fields(_decode(obj), ""))
        # _read checks every field itself; TypeError is only a safety net for the promise
        # that a bad document is always a ValueError.
        except (ValueError, TypeError) as exc:
            raise ValueError(f"invalid {cls.__name__}: {exc}") from None
        except RecursionError:
            raise ValueError(f"invalid {cls.__name__}: nested too deeply") from None

    @classmethod
    def _read(cls, fields: _Fields) -> Self:
        raise NotImplementedError

    def _known_json(self) -> dict[str, Any]:
        raise NotImplementedError

    def to_json(self) -> dict[str, Any]:
        """The model as a JSON-ready dict: known fields first, then ``additional_properties``.

        :return: a new dict that shares nothing with the model.
        :rtype: dict[str, Any]
        """
        out = self._known_json()
        for key, value in self.additional_properties.items():
            if key not in out:  # a field set on the model wins over a stale extra
                out[key] = _json_copy(value, key)
        return out

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, _Model)
        return self.to_json() == other.to_json()

    # Models are mutable: equal models may stop being equal, so they are not hashable.
    __hash__ = None  # type: ignore[assignment]

    def _repr_fields(self) -> list[tuple[str, Any]]:
        return [(name, getattr(self, name)) for name in self._REPR]

    def __repr__(self) -> str:
        fields = [*self._repr_fields(), ("additional_properties", self.additional_properties)]
        shown = ", ".join(f"{name}={value!r}" for name, value in fields if value not in (None, {}))
        return f"{type(self).__name__}({shown})"


def _text(value: object, what: str) -> str:
    """A required str; an enum member (a media type, say) stands for its value."""
    if isinstance(value, Enum):
        value = value.value
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    return value


def _is_base64(text: str) -> bool:
    # descriptor.md: "data ... MUST be encoded using base64 (RFC 4648 section 4)".
    try:
        base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        return False
    return True


def _extra(additional_properties: Optional[Mapping[str, Any]]) -> dict[str, Any]:
    return dict(additional_properties) if additional_properties is not None else {}


def _str_or_none(value: object, what: str) -> Optional[str]:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    return value


def _str_list(value: Optional[Iterable[str]], what: str) -> Optional[list[str]]:
    if value is None:
        return None
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{what} must be a list of str, not {type(value).__name__}")
    items = list(value)
    for item in items:
        _str_or_none(item, f"each of {what}")
    return items


# ---------------------------------------------------------------------------------------------
# Annotations

_PREFIX = "org.opencontainers.image."
# attribute -> annotation key (annotations.md, "Pre-Defined Annotation Keys")
_ANNOTATION_KEYS: dict[str, str] = {
    "created": _PREFIX + "created",
    "authors": _PREFIX + "authors",
    "url": _PREFIX + "url",
    "documentation": _PREFIX + "documentation",
    "source": _PREFIX + "source",
    "version": _PREFIX + "version",
    "revision": _PREFIX + "revision",
    "vendor": _PREFIX + "vendor",
    "licenses": _PREFIX + "licenses",
    "name": _PREFIX + "ref.name",
    "title": _PREFIX + "title",
    "description": _PREFIX + "description",
}
# RFC 3339 section 5.6 date-time; the 'T' may be a space or lower case (section 5.6 NOTE).
_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?"
    r"(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))"
)


def _parse_rfc3339(text: str) -> Optional[datetime]:
    """The aware datetime ``text`` names, or None when it is not an RFC 3339 date-time."""
    match = _RFC3339.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    try:
        if zulu:
            tz = timezone.utc
        else:
            offset = timedelta(hours=int(off_h), minutes=int(off_m))
            tz = timezone(-offset if sign == "-" else offset)
        micro = int((fraction[1:] + "000000")[:6]) if fraction else 0
        return datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tz
        )
    except ValueError:  # 2023-02-30, a leap second, an offset of 24 hours or more...
        return None


def _format_rfc3339(value: datetime) -> str:
    """RFC 3339 text for ``value``; a naive datetime is taken to be UTC (as azure-core does)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class OciAnnotations(_Model):
    """The pre-defined ``org.opencontainers.image.*`` annotations, and any others.

    ``created`` is read into an aware ``datetime``; the original text is kept and written back
    unchanged until ``created`` is set. Text that is not an RFC 3339 date-time gives
    ``created = None`` and is still written back as it was.

    :keyword created: ``org.opencontainers.image.created``, when the image was built.
    :paramtype created: ~datetime.datetime or None
    :keyword str authors: ``org.opencontainers.image.authors``.
    :keyword str url: ``org.opencontainers.image.url``.
    :keyword str documentation: ``org.opencontainers.image.documentation``.
    :keyword str source: ``org.opencontainers.image.source``.
    :keyword str version: ``org.opencontainers.image.version``.
    :keyword str revision: ``org.opencontainers.image.revision``.
    :keyword str vendor: ``org.opencontainers.image.vendor``.
    :keyword str licenses: ``org.opencontainers.image.licenses``.
    :keyword str name: ``org.opencontainers.image.ref.name``.
    :keyword str title: ``org.opencontainers.image.title``.
    :keyword str description: ``org.opencontainers.image.description``.
    :keyword additional_properties: every other annotation, key to string value.
    :paramtype additional_properties: dict[str, Any] or None
    :raises TypeError: if a value has the wrong type.
    """

    __slots__ = (
        "_created",
        "_created_text",
        "authors",
        "url",
        "documentation",
        "source",
        "version",
        "revision",
        "vendor",
        "licenses",
        "name",
        "title",
        "description",
    )
    _REPR = tuple(_ANNOTATION_KEYS)

    _created: Optional[datetime]
    _created_text: Optional[str]

    def __init__(
        self,
        *,
        created: Optional[datetime] = None,
        authors: Optional[str] = None,
        url: Optional[str] = None,
        documentation: Optional[str] = None,
        source: Optional[str] = None,
        version: Optional[str] = None,
        revision: Optional[str] = None,
        vendor: Optional[str] = None,
        licenses: Optional[str] = None,
        name: Optional[str] = None,
        title: Optional[str] = None,
        description: Optional[str] = None,
        additional_properties: Optional[dict[str, Any]] = None,
    ) -> None:
        self.created = created
        self.authors = _str_or_none(authors, "authors")
        self.url = _str_or_none(url, "url")
        self.documentation = _str_or_none(documentation, "documentation")
        self.source = _str_or_none(source, "source")
        self.version = _str_or_none(version, "version")
        self.revision = _str_or_none(revision, "revision")
        self.vendor = _str_or_none(vendor, "vendor")
        self.licenses = _str_or_none(licenses, "licenses")
        self.name = _str_or_none(name, "name")
        self.title = _str_or_none(title, "title")
        self.description = _str_or_none(description, "description")
        self.additional_properties = _extra(additional_properties)

    @property
    def created(self) -> Optional[datetime]:
        """``org.opencontainers.image.created`` as an aware datetime (None if absent/invalid).

        :rtype: ~datetime.datetime or None
        """
        return self._created

    @created.setter
    def created(self, value: Optional[datetime]) -> None:
        if value is not None and not isinstance(value, datetime):
            raise TypeError(f"created must be a datetime, not {type(value).__name__}")
        self._created = value
        self._created_text = None

    @classmethod
    def _read(cls, fields: _Fields) -> Self:
        values: dict[str, Any] = {
            attribute: fields.string(key) for attribute, key in _ANNOTATION_KEYS.items()
        }
        extra = fields.rest()
        for key, value in extra.items():
            # annotations.md: "annotations MUST be a key-value map where both the key and
            # value MUST be strings".
            if not isinstance(value, str):
                raise ValueError(f"{fields.at(key)}: expected a string, got {_kind(value)}")
        created_text = values.pop("created")
        model = cls(**values, additional_properties=extra)
        if created_text is not None:
            model._created = _parse_rfc3339(created_text)
            model._created_text = created_text
        return model

    def _known_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for attribute, key in _ANNOTATION_KEYS.items():
            if attribute == "created":
                if self._created_text is not None:
                    out[key] = self._created_text
                elif self._created is not None:
                    out[key] = _format_rfc3339(self._created)
            else:
                _put(out, key, getattr(self, attribute))
        return out

    def _repr_fields(self) -> list[tuple[str, Any]]:
        fields = super()._repr_fields()
        if self._created is None and self._created_text is not None:
            # Text that is not a date-time: show it rather than hide it behind None.
            fields[0] = ("created", self._created_text)
        return fields


def _annotations(value: Union[OciAnnotations, Mapping[str, str], None]) -> Optional[OciAnnotations]:
    if value is None or isinstance(value, OciAnnotations):
        return value
    if isinstance(value, Mapping):
        return OciAnnotations.from_json(value)
    raise TypeError(
        f"annotations must be OciAnnotations or a mapping of str, not {type(value).__name__}"
    )


# ---------------------------------------------------------------------------------------------
# Platform and descriptor


class OciPlatform(_Model):
    """The platform an image in an index (or manifest list) runs on.

    :keyword str architecture: the CPU architecture (Go ``GOARCH``), such as ``amd64``.
    :keyword str os: the operating system (Go ``GOOS``), such as ``linux``.
    :keyword str os_version: ``os.version``, such as ``10.0.17763.1040`` for Windows.
    :keyword os_features: ``os.features``, such as ``["win32k"]``.
    :paramtype os_features: list[str] or None
    :keyword str variant: the CPU variant, such as ``v8`` for ``arm64``.
    :keyword features: reserved by the OCI spec; Docker lists CPU features here.
    :paramtype features: list[str] or None
    :keyword additional_properties: fields this model does not know.
    :paramtype additional_properties: dict[str, Any] or None
    :raises TypeError: if a value has the wrong type.
    """

    __slots__ = ("architecture", "os", "os_version", "os_features", "variant", "features")
    _REPR = __slots__

    def __init__(
        self,
        *,
        architecture: str,
        os: str,
        os_version: Optional[str] = None,
        os_features: Optional[list[str]] = None,
        variant: Optional[str] = None,
        features: Optional[list[str]] = None,
        additional_properties: Optional[dict[str, Any]] = None,
    ) -> None:
        if not isinstance(architecture, str):
            raise TypeError(f"architecture must be a str, not {type(architecture).__name__}")
        if not isinstance(os, str):
            raise TypeError(f"os must be a str, not {type(os).__name__}")
        self.architecture = architecture
        self.os = os
        self.os_version = _str_or_none(os_version, "os_version")
        self.os_features = _str_list(os_features, "os_features")
        self.variant = _str_or_none(variant, "variant")
        self.features = _str_list(features, "features")
        self.additional_properties = _extra(additional_properties)

    @classmethod
    def _read(cls, fields: _Fields) -> Self:
        return cls(
            architecture=fields.string("architecture", required=True),
            os=fields.string("os", required=True),
            os_version=fields.string("os.version"),
            os_features=fields.strings("os.features"),
            variant=fields.string("variant"),
            features=fields.strings("features"),
            additional_properties=fields.rest(),
        )

    def _known_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"architecture": self.architecture, "os": self.os}
        _put(out, "os.version", self.os_version)
        _put(out, "os.features", None if self.os_features is None else list(self.os_features))
        _put(out, "variant", self.variant)
        _put(out, "features", None if self.features is None else list(self.features))
        return out


class OciDescriptor(_Model):
    """A reference to content by digest: a config, a layer, a manifest in an index, a subject.

    :keyword str media_type: the media type of the content.
    :keyword digest: the digest of the content (validated).
    :paramtype digest: ~azurecr.Digest or str
    :keyword int size: the size of the content in bytes (>= 0).
    :keyword urls: other locations to fetch the content from.
    :paramtype urls: list[str] or None
    :keyword annotations: annotations (an ``OciAnnotations`` or a mapping of strings).
    :paramtype annotations: ~azurecr.OciAnnotations or ~collections.abc.Mapping[str, str] or None
    :keyword platform: for an entry of an index or manifest list, the platform it runs on.
    :paramtype platform: ~azurecr.OciPlatform or None
    :keyword str artifact_type: ``artifactType``, the artifact type of the manifest pointed at.
    :keyword str data: the content itself, base64-encoded (embedded small content).
    :keyword additional_properties: fields this model does not know.
    :paramtype additional_properties: dict[str, Any] or None
    :raises TypeError: if a value has the wrong type.
    :raises ValueError: if ``digest`` is invalid, ``size`` is negative or ``data`` is not
        base64.
    """

    __slots__ = (
        "media_type",
        "digest",
        "size",
        "urls",
        "annotations",
        "platform",
        "artifact_type",
        "data",
    )
    _REPR = __slots__

    def __init__(
        self,
        *,
        media_type: str,
        digest: str,
        size: int,
        urls: Optional[list[str]] = None,
        annotations: Union[OciAnnotations, Mapping[str, str], None] = None,
        platform: Optional[OciPlatform] = None,
        artifact_type: Optional[str] = None,
        data: Optional[str] = None,
        additional_properties: Optional[dict[str, Any]] = None,
    ) -> None:
        if not isinstance(size, int) or isinstance(size, bool):
            raise TypeError(f"size must be an int, not {type(size).__name__}")
        if size < 0:
            raise ValueError(f"size must not be negative, got {size}")
        if platform is not None and not isinstance(platform, OciPlatform):
            raise TypeError(f"platform must be an OciPlatform, not {type(platform).__name__}")
        if data is not None and not _is_base64(_text(data, "data")):
            raise ValueError("data must be base64 text (RFC 4648 section 4)")
        self.media_type = _text(media_type, "media_type")
        self.digest = Digest(digest)
        self.size = size
        self.urls = _str_list(urls, "urls")
        self.annotations = _annotations(annotations)
        self.platform = platform
        self.artifact_type = _str_or_none(artifact_type, "artifact_type")
        self.data = data
        self.additional_properties = _extra(additional_properties)

    @classmethod
    def _read(cls, fields: _Fields) -> Self:
        media_type = fields.string("mediaType", required=True)
        digest_text = fields.string("digest", required=True)
        try:
            digest = Digest(digest_text)
        except ValueError as exc:
            raise ValueError(f"{fields.at('digest')}: {exc}") from None
        size = fields.integer("size", required=True)
        if size < 0:
            raise ValueError(f"{fields.at('size')}: must not be negative, got {size}")
        data = fields.string("data")
        if data is not None and not _is_base64(data):
            raise ValueError(f"{fields.at('data')}: not base64 text (RFC 4648 section 4)")
        return cls(
            media_type=media_type,
            digest=digest,
            size=size,
            urls=fields.strings("urls"),
            annotations=fields.model("annotations", OciAnnotations._read),
            platform=fields.model("platform", OciPlatform._read),
            artifact_type=fields.string("artifactType"),
            data=data,
            additional_properties=fields.rest(),
        )

    def _known_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "mediaType": _text(self.media_type, "media_type"),
            "digest": str(self.digest),
            "size": self.size,
        }
        _put(out, "urls", None if self.urls is None else list(self.urls))
        _put(out, "annotations", None if self.annotations is None else self.annotations.to_json())
        _put(out, "data", self.data)
        _put(out, "artifactType", self.artifact_type)
        _put(out, "platform", None if self.platform is None else self.platform.to_json())
        return out


def _descriptor(value: object, what: str) -> OciDescriptor:
    if not isinstance(value, OciDescriptor):
        raise TypeError(f"{what} must be an OciDescriptor, not {type(value).__name__}")
    return value


def _descriptors(value: Iterable[OciDescriptor], what: str) -> list[OciDescriptor]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise TypeError(f"{what} must be a list of OciDescriptor, not {type(value).__name__}")
    return [_descriptor(item, f"each of {what}") for item in value]


def _media_type_or_none(value: object) -> Optional[str]:
    return None if value is None else _text(value, "media_type")


def _version(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"schema_version must be an int, not {type(value).__name__}")
    return value


# ---------------------------------------------------------------------------------------------
# Manifests


class OciImageManifest(_Model):
    """An OCI image manifest: a config and layers, or (OCI 1.1) an artifact.

    :keyword config: the config descriptor (for an artifact without config, the empty
        descriptor ``application/vnd.oci.empty.v1+json``).
    :paramtype config: ~azurecr.OciDescriptor
    :keyword layers: the layer descriptors, base first.
    :paramtype layers: list[~azurecr.OciDescriptor]
    :keyword int schema_version: ``schemaVersion``, 2.
    :keyword media_type: ``mediaType``; None leaves it out of the JSON.
    :paramtype media_type: str or None
    :keyword str artifact_type: ``artifactType`` (OCI 1.1), the type of an artifact.
    :keyword subject: ``subject`` (OCI 1.1), the manifest this one refers to.
    :paramtype subject: ~azurecr.OciDescriptor or None
    :keyword annotations: annotations (an ``OciAnnotations`` or a mapping of strings).
    :paramtype annotations: ~azurecr.OciAnnotations or ~collections.abc.Mapping[str, str] or None
    :keyword additional_properties: fields this model does not know.
    :paramtype additional_properties: dict[str, Any] or None
    :raises TypeError: if a value has the wrong type.
    """

    __slots__ = (
        "schema_version",
        "media_type",
        "artifact_type",
        "config",
        "layers",
        "subject",
        "annotations",
    )
    _REPR = __slots__
    _MEDIA_TYPE: ClassVar[str] = KnownManifestMediaType.OCI_IMAGE_MANIFEST.value

    def __init__(
        self,
        *,
        config: OciDescriptor,
        layers: list[OciDescriptor],
        schema_version: int = 2,
        media_type: Optional[str] = KnownManifestMediaType.OCI_IMAGE_MANIFEST.value,
        artifact_type: Optional[str] = None,
        subject: Optional[OciDescriptor] = None,
        annotations: Union[OciAnnotations, Mapping[str, str], None] = None,
        additional_properties: Optional[dict[str, Any]] = None,
    ) -> None:
        self.schema_version = _version(schema_version)
        self.media_type = _media_type_or_none(media_type)
        self.artifact_type = _str_or_none(artifact_type, "artifact_type")
        self.config = _descriptor(config, "config")
        self.layers = _descriptors(layers, "layers")
        self.subject = None if subject is None else _descriptor(subject, "subject")
        self.annotations = _annotations(annotations)
        self.additional_properties = _extra(additional_properties)

    @classmethod
    def _read(cls, fields: _Fields) -> Self:
        return cls(
            schema_version=_schema_version_2(fields),
            media_type=_media_type_matches(fields, cls._MEDIA_TYPE),
            artifact_type=fields.string("artifactType"),
            config=fields.required_model("config", OciDescriptor._read),
            layers=fields.models("layers", OciDescriptor._read),
            subject=fields.model("subject", OciDescriptor._read),
            annotations=fields.model("annotations", OciAnnotations._read),
            additional_properties=fields.rest(),
        )

    def _known_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"schemaVersion": self.schema_version}
        _put(out, "mediaType", _media_type_or_none(self.media_type))
        _put(out, "artifactType", self.artifact_type)
        out["config"] = self.config.to_json()
        out["layers"] = _model_list(self.layers)
        _put(out, "subject", None if self.subject is None else self.subject.to_json())
        _put(out, "annotations", None if self.annotations is None else self.annotations.to_json())
        return out


class OciImageIndex(_Model):
    """An OCI image index: manifests for several platforms (or several artifacts).

    :keyword manifests: descriptors of the manifests, usually each with a ``platform``.
    :paramtype manifests: list[~azurecr.OciDescriptor]
    :keyword int schema_version: ``schemaVersion``, 2.
    :keyword media_type: ``mediaType``; None leaves it out of the JSON.
    :paramtype media_type: str or None
    :keyword str artifact_type: ``artifactType`` (OCI 1.1).
    :keyword subject: ``subject`` (OCI 1.1), the manifest this one refers to.
    :paramtype subject: ~azurecr.OciDescriptor or None
    :keyword annotations: annotations (an ``OciAnnotations`` or a mapping of strings).
    :paramtype annotations: ~azurecr.OciAnnotations or ~collections.abc.Mapping[str, str] or None
    :keyword additional_properties: fields this model does not know.
    :paramtype additional_properties: dict[str, Any] or None
    :raises TypeError: if a value has the wrong type.
    """

    __slots__ = (
        "schema_version",
        "media_type",
        "artifact_type",
        "manifests",
        "subject",
        "annotations",
    )
    _REPR = __slots__
    _MEDIA_TYPE: ClassVar[str] = KnownManifestMediaType.OCI_IMAGE_INDEX.value

    def __init__(
        self,
        *,
        manifests: list[OciDescriptor],
        schema_version: int = 2,
        media_type: Optional[str] = KnownManifestMediaType.OCI_IMAGE_INDEX.value,
        artifact_type: Optional[str] = None,
        subject: Optional[OciDescriptor] = None,
        annotations: Union[OciAnnotations, Mapping[str, str], None] = None,
        additional_properties: Optional[dict[str, Any]] = None,
    ) -> None:
        self.schema_version = _version(schema_version)
        self.media_type = _media_type_or_none(media_type)
        self.artifact_type = _str_or_none(artifact_type, "artifact_type")
        self.manifests = _descriptors(manifests, "manifests")
        self.subject = None if subject is None else _descriptor(subject, "subject")
        self.annotations = _annotations(annotations)
        self.additional_properties = _extra(additional_properties)

    @classmethod
    def _read(cls, fields: _Fields) -> Self:
        return cls(
            schema_version=_schema_version_2(fields),
            media_type=_media_type_matches(fields, cls._MEDIA_TYPE),
            artifact_type=fields.string("artifactType"),
            manifests=fields.models("manifests", OciDescriptor._read),
            subject=fields.model("subject", OciDescriptor._read),
            annotations=fields.model("annotations", OciAnnotations._read),
            additional_properties=fields.rest(),
        )

    def _known_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"schemaVersion": self.schema_version}
        _put(out, "mediaType", _media_type_or_none(self.media_type))
        _put(out, "artifactType", self.artifact_type)
        out["manifests"] = _model_list(self.manifests)
        _put(out, "subject", None if self.subject is None else self.subject.to_json())
        _put(out, "annotations", None if self.annotations is None else self.annotations.to_json())
        return out


class DockerManifest(_Model):
    """A Docker image manifest, version 2 schema 2.

    :keyword config: the image config descriptor.
    :paramtype config: ~azurecr.OciDescriptor
    :keyword layers: the layer descriptors, base first.
    :paramtype layers: list[~azurecr.OciDescriptor]
    :keyword int schema_version: ``schemaVersion``, 2.
    :keyword media_type: ``mediaType``; None leaves it out of the JSON.
    :paramtype media_type: str or None
    :keyword additional_properties: fields this model does not know.
    :paramtype additional_properties: dict[str, Any] or None
    :raises TypeError: if a value has the wrong type.
    """

    __slots__ = ("schema_version", "media_type", "config", "layers")
    _REPR = __slots__
    _MEDIA_TYPE: ClassVar[str] = KnownManifestMediaType.DOCKER_MANIFEST.value

    def __init__(
        self,
        *,
        config: OciDescriptor,
        layers: list[OciDescriptor],
        schema_version: int = 2,
        media_type: Optional[str] = KnownManifestMediaType.DOCKER_MANIFEST.value,
        additional_properties: Optional[dict[str, Any]] = None,
    ) -> None:
        self.schema_version = _version(schema_version)
        self.media_type = _media_type_or_none(media_type)
        self.config = _descriptor(config, "config")
        self.layers = _descriptors(layers, "layers")
        self.additional_properties = _extra(additional_properties)

    @classmethod
    def _read(cls, fields: _Fields) -> Self:
        return cls(
            schema_version=_schema_version_2(fields),
            media_type=_media_type_matches(fields, cls._MEDIA_TYPE),
            config=fields.required_model("config", OciDescriptor._read),
            layers=fields.models("layers", OciDescriptor._read),
            additional_properties=fields.rest(),
        )

    def _known_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"schemaVersion": self.schema_version}
        _put(out, "mediaType", _media_type_or_none(self.media_type))
        out["config"] = self.config.to_json()
        out["layers"] = _model_list(self.layers)
        return out


class DockerManifestList(_Model):
    """A Docker manifest list: image manifests for several platforms.

    :keyword manifests: descriptors of the manifests, each with a ``platform``.
    :paramtype manifests: list[~azurecr.OciDescriptor]
    :keyword int schema_version: ``schemaVersion``, 2.
    :keyword media_type: ``mediaType``; None leaves it out of the JSON.
    :paramtype media_type: str or None
    :keyword additional_properties: fields this model does not know.
    :paramtype additional_properties: dict[str, Any] or None
    :raises TypeError: if a value has the wrong type.
    """

    __slots__ = ("schema_version", "media_type", "manifests")
    _REPR = __slots__
    _MEDIA_TYPE: ClassVar[str] = KnownManifestMediaType.DOCKER_MANIFEST_LIST.value

    def __init__(
        self,
        *,
        manifests: list[OciDescriptor],
        schema_version: int = 2,
        media_type: Optional[str] = KnownManifestMediaType.DOCKER_MANIFEST_LIST.value,
        additional_properties: Optional[dict[str, Any]] = None,
    ) -> None:
        self.schema_version = _version(schema_version)
        self.media_type = _media_type_or_none(media_type)
        self.manifests = _descriptors(manifests, "manifests")
        self.additional_properties = _extra(additional_properties)

    @classmethod
    def _read(cls, fields: _Fields) -> Self:
        return cls(
            schema_version=_schema_version_2(fields),
            media_type=_media_type_matches(fields, cls._MEDIA_TYPE),
            manifests=fields.models("manifests", OciDescriptor._read),
            additional_properties=fields.rest(),
        )

    def _known_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"schemaVersion": self.schema_version}
        _put(out, "mediaType", _media_type_or_none(self.media_type))
        out["manifests"] = _model_list(self.manifests)
        return out


ManifestModel = Union[OciImageManifest, OciImageIndex, DockerManifest, DockerManifestList]
"""Any of the manifest models :func:`parse_manifest` returns."""

_MODELS: dict[str, type[ManifestModel]] = {
    KnownManifestMediaType.OCI_IMAGE_MANIFEST.value: OciImageManifest,
    KnownManifestMediaType.OCI_IMAGE_INDEX.value: OciImageIndex,
    KnownManifestMediaType.DOCKER_MANIFEST.value: DockerManifest,
    KnownManifestMediaType.DOCKER_MANIFEST_LIST.value: DockerManifestList,
}


# ---------------------------------------------------------------------------------------------
# Helpers


def media_type_of(document: Mapping[str, Any]) -> Optional[str]:
    """The media type of a manifest document: its ``mediaType``, or inferred from its shape.

    Without ``mediaType``: ``schemaVersion`` 1 is a Docker schema 1 manifest (None, no model
    reads it); ``manifests`` makes an OCI image index; ``config`` and ``layers`` make an OCI
    image manifest (the spec's defaults when the field is left out); anything else is None.

    :param document: the parsed manifest.
    :type document: ~collections.abc.Mapping[str, Any]
    :return: the media type, or None when it cannot be told.
    :rtype: str or None
    :raises TypeError: if ``document`` is not a Mapping.
    :raises ValueError: if ``mediaType`` is present but not a string.
    """
    if not isinstance(document, Mapping):
        raise TypeError(f"document must be a Mapping, not {type(document).__name__}")
    media_type = document.get("mediaType")
    if media_type is not None:
        if not isinstance(media_type, str):
            raise ValueError(f"mediaType: expected a string, got {_kind(media_type)}")
        return media_type
    version = document.get("schemaVersion")
    if version == 1 and not isinstance(version, bool):
        return None
    if "manifests" in document:
        return KnownManifestMediaType.OCI_IMAGE_INDEX.value
    if "config" in document and "layers" in document:
        return KnownManifestMediaType.OCI_IMAGE_MANIFEST.value
    return None


def parse_manifest(
    content: Union[bytes, bytearray, memoryview], media_type: Optional[str]
) -> Optional[ManifestModel]:
    """The typed model of a manifest body.

    :param content: the manifest body, as received.
    :type content: bytes or bytearray or memoryview
    :param media_type: the manifest's media type (the ``Content-Type`` of the response;
        parameters such as ``charset`` are ignored). None infers it with
        :func:`media_type_of`.
    :type media_type: str or None
    :return: an :class:`OciImageManifest`, :class:`OciImageIndex`, :class:`DockerManifest` or
        :class:`DockerManifestList`, or None for a media type that has no model here.
    :rtype: ~azurecr.OciImageManifest or ~azurecr.OciImageIndex or ~azurecr.DockerManifest or
        ~azurecr.DockerManifestList or None
    :raises TypeError: if ``content`` is not bytes-like.
    :raises ValueError: if ``content`` is not a JSON object, or does not fit the model of its
        media type.
    """
    if isinstance(content, memoryview):
        content = content.tobytes()
    if not isinstance(content, (bytes, bytearray)):
        raise TypeError(f"content must be bytes, not {type(content).__name__}")
    given = _normalise(media_type) if media_type else ""
    if given and given not in _MODELS:
        return None
    document = _decode(content)
    if not isinstance(document, Mapping):
        raise ValueError(f"not a manifest: expected a JSON object, got {_kind(document)}")
    model = _MODELS.get(given or _normalise(media_type_of(document) or ""))
    return None if model is None else model.from_json(document)


def manifest_bytes(
    manifest: Union[ManifestModel, Mapping[str, Any], bytes, bytearray, memoryview],
) -> bytes:
    """The bytes to send for a manifest: compact UTF-8 JSON, or raw bytes unchanged.

    A model is written as :meth:`to_json` orders it; a Mapping in its own order. The digest of
    the manifest is the digest of exactly these bytes.

    :param manifest: a model, a JSON object, or bytes (returned as they are).
    :type manifest: ~azurecr.OciImageManifest or ~azurecr.OciImageIndex or
        ~azurecr.DockerManifest or ~azurecr.DockerManifestList or
        ~collections.abc.Mapping[str, Any] or bytes
    :return: the manifest's bytes.
    :rtype: bytes
    :raises TypeError: if ``manifest`` is none of those.
    :raises ValueError: if a Mapping holds something JSON cannot represent.
    """
    if isinstance(manifest, (bytes, bytearray, memoryview)):
        return bytes(manifest)
    if isinstance(manifest, _Model):
        document: Any = manifest.to_json()
    elif isinstance(manifest, Mapping):
        try:
            document = _json_copy(manifest, "")
        except RecursionError:
            raise ValueError("manifest is nested too deeply") from None
    else:
        raise TypeError(
            f"manifest must be a model, a Mapping or bytes, not {type(manifest).__name__}"
        )
    text = json.dumps(document, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.encode("utf-8")
