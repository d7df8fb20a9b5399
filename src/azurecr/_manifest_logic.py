"""Manifests in and out, without I/O: what ``set_manifest`` sends and how ``get_manifest``
checks what it received. Shared by the sync and async clients."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, Optional

from ._errors import DigestValidationError, ManifestTooLargeError
from ._oci_models import MANIFEST_ACCEPT, manifest_bytes, media_type_of, parse_manifest
from ._reference import is_digest, validate_repository, validate_tag
from ._transfer import MAX_MANIFEST_SIZE

__all__ = [
    "MANIFEST_ACCEPT",
    "GetManifestResult",
    "manifest_payload",
    "manifest_result",
]


class GetManifestResult:
    """A manifest as the registry sent it, verified against its digest.

    :ivar manifest: the manifest document (parsed JSON), as in azure-containerregistry.
    :vartype manifest: dict[str, Any]
    :ivar str media_type: the manifest's media type (the response's ``Content-Type``).
    :ivar str digest: the manifest's digest (checked over ``content``).
    :ivar bytes content: the exact bytes received; their digest is ``digest``.
    :ivar model: the typed model for the media type (``OciImageManifest``, ``OciImageIndex``,
        ``DockerManifest``, ``DockerManifestList``), or None for another media type.
    """

    __slots__ = ("manifest", "media_type", "digest", "content", "model")

    def __init__(
        self,
        *,
        manifest: dict[str, Any],
        media_type: str,
        digest: str,
        content: bytes,
        model: Any = None,
    ) -> None:
        self.manifest = manifest
        self.media_type = media_type
        self.digest = digest
        self.content = content
        self.model = model

    def __repr__(self) -> str:
        return (
            f"GetManifestResult(media_type={self.media_type!r}, digest={self.digest!r}, "
            f"size={len(self.content)})"
        )


def sha256_digest(content: bytes) -> str:
    return "sha256:" + hashlib.sha256(content).hexdigest()


def _read_limited(stream: Any) -> bytes:
    data = stream.read(MAX_MANIFEST_SIZE + 1)
    if isinstance(data, str):
        raise TypeError("the manifest stream is in text mode; open it in binary mode")
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError("the manifest stream's read() must return bytes")
    return bytes(data)


def manifest_payload(manifest: Any, media_type: Optional[str]) -> tuple[bytes, str]:
    """The bytes to send for ``manifest`` (a typed model, a dict, raw bytes or a readable)
    and its media type.

    Raw bytes and streams are sent verbatim, so the digest is of exactly those bytes. The
    media type is the one given, else the model's or the document's ``mediaType``, else
    inferred from the document's shape.

    :raises TypeError: for an unsupported manifest type.
    :raises ValueError: when no media type can be determined or the JSON is invalid.
    :raises ManifestTooLargeError: for a manifest over 4 MiB.
    """
    if media_type is not None and not isinstance(media_type, str):
        raise TypeError(f"media_type must be a str, not {type(media_type).__name__}")
    if media_type is not None and not media_type:
        raise ValueError("media_type must be a non-empty string")
    document: Optional[Mapping[str, Any]] = None
    if isinstance(manifest, (bytes, bytearray, memoryview)):
        content = bytes(manifest)
    elif callable(getattr(manifest, "read", None)):
        content = _read_limited(manifest)
    elif isinstance(manifest, Mapping):
        document = manifest
        content = manifest_bytes(dict(manifest))
    elif callable(getattr(manifest, "to_json", None)):
        document = manifest.to_json()
        content = manifest_bytes(manifest)
    else:
        raise TypeError(
            "manifest must be an OCI/Docker manifest model, a dict, bytes or a binary stream, "
            f"not {type(manifest).__name__}"
        )
    if len(content) > MAX_MANIFEST_SIZE:
        raise ManifestTooLargeError(
            f"the manifest is over {MAX_MANIFEST_SIZE} bytes; registries refuse such manifests"
        )
    if media_type is None:
        if document is None:
            try:
                parsed = json.loads(content)
            except (ValueError, RecursionError) as exc:
                raise ValueError(f"the manifest is not valid JSON: {exc}") from exc
            document = parsed if isinstance(parsed, dict) else None
        found = media_type_of(document) if document is not None else None
        if not found:
            raise ValueError(
                "cannot tell the manifest's media type: it has no mediaType field; pass media_type="
            )
        media_type = found
    return content, media_type


def check_set_manifest(repository: str, tag: Optional[str]) -> None:
    validate_repository(repository)
    if tag is not None:
        validate_tag(tag)


def check_pushed_digest(computed: str, registry_digest: Optional[str]) -> str:
    """The registry must have stored the manifest under the digest of the bytes sent."""
    if registry_digest and registry_digest != computed:
        raise DigestValidationError(
            "the registry stored the manifest under another digest than that of the bytes sent",
            expected=computed,
            actual=registry_digest,
        )
    return computed


def manifest_result(
    content: bytes,
    requested: str,
    header_digest: Optional[str],
    content_type: Optional[str],
) -> GetManifestResult:
    """Verify a received manifest and build the result.

    By digest, the bytes must have the requested digest; by tag, they must have the digest
    the registry announced in ``Docker-Content-Digest`` (when it announced one).
    """
    if is_digest(requested):
        expected: Optional[str] = requested
    else:
        expected = header_digest or None
    algorithm = (expected or "sha256:").partition(":")[0]
    if algorithm not in ("sha256", "sha512"):
        raise DigestValidationError(
            f"cannot verify a manifest digest of algorithm {algorithm!r}", expected=expected
        )
    actual = f"{algorithm}:{hashlib.new(algorithm, content).hexdigest()}"
    if expected is not None and actual != expected:
        raise DigestValidationError(
            "the manifest the registry sent does not match its digest",
            expected=expected,
            actual=actual,
        )
    try:
        document = json.loads(content)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"the registry sent a manifest that is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise ValueError("the registry sent a manifest that is not a JSON object")
    media_type = (content_type or "").split(";")[0].strip() or media_type_of(document) or ""
    try:
        model = parse_manifest(content, media_type)
    except ValueError:
        model = None  # verified bytes that do not fit the typed model: keep the dict
    return GetManifestResult(
        manifest=document, media_type=media_type, digest=actual, content=content, model=model
    )


def announced_length(value: Any) -> Optional[int]:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def too_large(size: int) -> ManifestTooLargeError:
    return ManifestTooLargeError(
        f"the registry sent a manifest over {MAX_MANIFEST_SIZE} bytes ({size} bytes or more); "
        "refused without reading the rest"
    )
