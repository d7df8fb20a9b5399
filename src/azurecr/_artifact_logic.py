"""Whole artifacts, the decisions without I/O: what to push, which manifest of an index to
pull and where its files go, what a copy must transfer, and the OCI 1.1 referrers fallback.

Shared by the sync (``_artifacts``) and async (``aio/_artifacts_async``) operations, which
only carry out the requests.
"""

from __future__ import annotations

import io
import json
import os
import platform as _platform
import shutil
import sys
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Optional, TypeVar, Union

from ._digest import Digest
from ._oci_models import (
    DockerManifest,
    DockerManifestList,
    KnownManifestMediaType,
    OciDescriptor,
    OciImageIndex,
    OciImageManifest,
    OciPlatform,
    parse_manifest,
)
from ._paging import next_link
from ._reference import validate_repository, validate_tag, validate_tag_or_digest
from ._transfer import MAX_CONCURRENCY, ProgressHook, check_progress_hook

__all__ = [
    "ArtifactFile",
    "PulledArtifact",
    "PulledFile",
]

EMPTY_MEDIA_TYPE = "application/vnd.oci.empty.v1+json"
"""OCI 1.1: the media type of the empty JSON object ``{}`` (config of a config-less artifact)."""
EMPTY_JSON = b"{}"
UNKNOWN_ARTIFACT_TYPE = "application/vnd.unknown.artifact.v1"
"""The artifact type ORAS and the OCI guidance use when a config-less artifact names none."""
DEFAULT_LAYER_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar"
DEFAULT_CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json"
TITLE = "org.opencontainers.image.title"
"""The annotation that names a layer's file (ORAS, OCI image spec)."""

PathLike = Union[str, "os.PathLike[str]"]
_C = TypeVar("_C")
_READ_PIECE = 1024 * 1024


# ----------------------------------------------------------------------------- push
class ArtifactFile:
    """One blob of an artifact to push: a file, or bytes, with its media type and annotations.

    :param source: a path to a regular file, or the bytes themselves.
    :type source: str or os.PathLike or bytes
    :keyword str title: the ``org.opencontainers.image.title`` annotation, the name the file
        gets when the artifact is pulled (default: the file's base name; none for bytes).
        A relative POSIX path without ``..``.
    :keyword str media_type: the layer's media type (default
        ``application/vnd.oci.image.layer.v1.tar``).
    :keyword annotations: more annotations of the layer.
    :paramtype annotations: dict[str, str] or None
    :raises TypeError: for a source, title, media type or annotations of the wrong type.
    :raises ValueError: for an unsafe title.
    """

    __slots__ = ("annotations", "data", "media_type", "path", "title")

    def __init__(
        self,
        source: Union[PathLike, bytes],
        *,
        title: Optional[str] = None,
        media_type: Optional[str] = None,
        annotations: Optional[Mapping[str, str]] = None,
    ) -> None:
        self.path: Optional[str] = None
        self.data: Optional[bytes] = None
        if isinstance(source, (bytes, bytearray, memoryview)):
            self.data = bytes(source)
        elif isinstance(source, (str, os.PathLike)):
            self.path = os.fspath(source)
            if not isinstance(self.path, str):
                raise TypeError("an ArtifactFile path must be text, not bytes")
            if title is None:
                title = os.path.basename(os.path.normpath(self.path))
        else:
            raise TypeError(
                f"an ArtifactFile source must be a path or bytes, not {type(source).__name__}"
            )
        self.title = None if title is None else check_title(title)
        if media_type is not None and (not isinstance(media_type, str) or not media_type):
            raise TypeError("media_type must be a non-empty str")
        self.media_type = media_type
        self.annotations = check_annotations(annotations, "annotations")

    def __repr__(self) -> str:
        what = repr(self.path) if self.path is not None else f"<{len(self.data or b'')} bytes>"
        return f"ArtifactFile({what}, title={self.title!r}, media_type={self.media_type!r})"


def check_title(title: object) -> str:
    """A layer title must be a safe relative POSIX path: it becomes a file name on pull."""
    if not isinstance(title, str):
        raise TypeError(f"a title must be a str, not {type(title).__name__}")
    if not title or "\x00" in title or "\\" in title:
        raise ValueError(f"invalid title {title!r}: empty, or contains NUL or a backslash")
    # split by hand: PurePosixPath would drop "." parts and "//" before we saw them
    if title.startswith("/") or any(part in ("", ".", "..") for part in title.split("/")):
        raise ValueError(
            f"invalid title {title!r}: it must be a relative path without empty, '.' or '..' parts"
        )
    if len(title) > 4096:
        raise ValueError("invalid title: longer than 4096 characters")
    return title


def check_annotations(annotations: object, what: str) -> Optional[dict[str, str]]:
    if annotations is None:
        return None
    if not isinstance(annotations, Mapping):
        raise TypeError(f"{what} must be a mapping of str to str, not {type(annotations).__name__}")
    out: dict[str, str] = {}
    for key, value in annotations.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"{what} must map str to str; got {key!r}: {value!r}")
        out[key] = value
    return out


def check_max_concurrency(max_concurrency: object) -> int:
    if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int):
        raise TypeError(f"max_concurrency must be an int, not {type(max_concurrency).__name__}")
    if not 1 <= max_concurrency <= MAX_CONCURRENCY:
        raise ValueError(f"max_concurrency must be between 1 and {MAX_CONCURRENCY}")
    return max_concurrency


@dataclass
class BlobJob:
    """One blob to push: from a file (hashed first, so a blob the registry has is skipped) or
    from bytes."""

    media_type: str
    path: Optional[str] = None
    data: Optional[bytes] = None
    size: int = 0
    annotations: Optional[dict[str, str]] = None

    def descriptor(self, digest: str, size: int) -> OciDescriptor:
        return OciDescriptor(
            media_type=self.media_type, digest=digest, size=size, annotations=self.annotations
        )


@dataclass
class PushPlan:
    config: BlobJob
    layers: list[BlobJob]
    artifact_type: Optional[str]
    annotations: Optional[dict[str, str]]

    @property
    def jobs(self) -> list[BlobJob]:
        return [self.config, *self.layers]

    @property
    def total(self) -> int:
        return sum(job.size for job in self.jobs)


def _file_job(
    item: ArtifactFile, media_type: str, annotations: Optional[dict[str, str]]
) -> BlobJob:
    if item.data is not None:
        return BlobJob(media_type, data=item.data, size=len(item.data), annotations=annotations)
    assert item.path is not None
    try:
        stat = os.stat(item.path)
    except FileNotFoundError:
        raise FileNotFoundError(f"no such file: {item.path!r}") from None
    if not os.path.isfile(item.path):
        raise ValueError(f"not a regular file: {item.path!r}")
    if not os.access(item.path, os.R_OK):
        raise PermissionError(f"cannot read {item.path!r}")
    return BlobJob(media_type, path=item.path, size=stat.st_size, annotations=annotations)


def plan_push(
    files: Iterable[Union[PathLike, ArtifactFile]],
    *,
    config: Union[ArtifactFile, bytes, Mapping[str, Any], None],
    config_media_type: Optional[str],
    artifact_type: Optional[str],
    annotations: Optional[Mapping[str, str]],
) -> PushPlan:
    """Check everything a push needs before any request; the plan of its blobs.

    :raises TypeError: for arguments of the wrong type.
    :raises ValueError: for duplicate or unsafe titles, or a directory given as a file.
    :raises FileNotFoundError: for a file that does not exist.
    """
    if isinstance(files, (str, bytes, bytearray, os.PathLike)) or not isinstance(files, Iterable):
        raise TypeError("files must be an iterable of paths or ArtifactFile objects")
    for name, value in (("config_media_type", config_media_type), ("artifact_type", artifact_type)):
        if value is not None and (not isinstance(value, str) or not value):
            raise TypeError(f"{name} must be a non-empty str")
    layers: list[BlobJob] = []
    titles: set[str] = set()
    for item in files:
        if not isinstance(item, ArtifactFile):
            if isinstance(item, (str, os.PathLike)):
                item = ArtifactFile(item)
            else:
                raise TypeError(
                    f"each file must be a path or an ArtifactFile, not {type(item).__name__}"
                )
        layer_annotations = dict(item.annotations or {})
        if item.title is not None:
            if item.title in titles:
                raise ValueError(f"two files have the title {item.title!r}")
            titles.add(item.title)
            layer_annotations[TITLE] = item.title
        media_type = item.media_type or DEFAULT_LAYER_MEDIA_TYPE
        layers.append(_file_job(item, media_type, layer_annotations or None))

    if config is None:
        if config_media_type is not None:
            raise ValueError("config_media_type needs a config")
        config_job = BlobJob(EMPTY_MEDIA_TYPE, data=EMPTY_JSON, size=len(EMPTY_JSON))
        artifact_type = artifact_type or UNKNOWN_ARTIFACT_TYPE
    elif isinstance(config, ArtifactFile):
        media_type = config_media_type or config.media_type or DEFAULT_CONFIG_MEDIA_TYPE
        config_job = _file_job(config, media_type, config.annotations)
    elif isinstance(config, (bytes, bytearray, memoryview)):
        data = bytes(config)
        config_job = BlobJob(
            config_media_type or DEFAULT_CONFIG_MEDIA_TYPE, data=data, size=len(data)
        )
    elif isinstance(config, Mapping):
        data = json.dumps(config, separators=(",", ":"), ensure_ascii=False).encode()
        config_job = BlobJob(
            config_media_type or DEFAULT_CONFIG_MEDIA_TYPE, data=data, size=len(data)
        )
    else:
        raise TypeError(
            f"config must be an ArtifactFile, bytes or a mapping, not {type(config).__name__}"
        )
    return PushPlan(
        config_job, layers, artifact_type, check_annotations(annotations, "annotations")
    )


def build_manifest(
    plan: PushPlan,
    descriptors: list[OciDescriptor],
    subject: Optional[OciDescriptor],
) -> OciImageManifest:
    """The OCI image manifest of a push, from the descriptors of its uploaded blobs (config
    first, then the layers in the caller's order)."""
    return OciImageManifest(
        config=descriptors[0],
        layers=descriptors[1:],
        artifact_type=plan.artifact_type,
        subject=subject,
        annotations=plan.annotations,
    )


def descriptor_of(content: bytes, media_type: str, model: Any = None) -> OciDescriptor:
    """The descriptor of a manifest (as a subject, or a referrer with its ``artifactType``
    and annotations)."""
    artifact_type = None
    annotations = None
    if isinstance(model, (OciImageManifest, OciImageIndex)):
        artifact_type = model.artifact_type
        if artifact_type is None and isinstance(model, OciImageManifest):
            artifact_type = model.config.media_type
        annotations = model.annotations
    return OciDescriptor(
        media_type=media_type,
        digest=Digest.of(content),
        size=len(content),
        artifact_type=artifact_type,
        annotations=annotations,
    )


def file_digest(path: str, algorithm: str = "sha256") -> tuple[Digest, int]:
    """Hash a file in 1 MiB pieces (hashlib releases the GIL, so files hash in parallel)."""
    hasher = Digest.hasher(algorithm)
    size = 0
    with open(path, "rb", buffering=0) as f:
        buffer = bytearray(_READ_PIECE)
        view = memoryview(buffer)
        while True:
            n = f.readinto(buffer)
            if not n:
                break
            hasher.update(view[:n])
            size += n
    return Digest.from_hasher(hasher), size


class Progress:
    """One ``progress_hook(done, total)`` over many blobs transferred at once (threads or
    tasks); each blob reports through its own :meth:`part` hook."""

    def __init__(self, total: Optional[int], hook: Optional[ProgressHook]) -> None:
        self.total = total
        self.done = 0
        self._hook = hook
        self._lock = threading.Lock()

    def add(self, n: int) -> None:
        if n <= 0:
            return
        with self._lock:
            self.done += n
            done = self.done
        if self._hook is not None:
            self._hook(done, self.total)

    def part(self) -> ProgressHook:
        """A hook for one blob: its ``(bytes_done, size)`` reports become increments. A blob
        that restarts reports less than before; that is not counted twice."""
        seen = 0

        def hook(done: int, _size: Optional[int]) -> None:
            nonlocal seen
            if done > seen:
                self.add(done - seen)
                seen = done

        return hook

    def finish(self, size: int, reported: ProgressHook) -> None:
        """Count what a blob's hook did not report (a skipped or mounted blob)."""
        reported(size, size)


# ----------------------------------------------------------------------------- pull
_ARCHITECTURES = {
    "x86_64": ("amd64", None),
    "amd64": ("amd64", None),
    "aarch64": ("arm64", "v8"),
    "arm64": ("arm64", "v8"),
    "armv7l": ("arm", "v7"),
    "armv6l": ("arm", "v6"),
    "i386": ("386", None),
    "i686": ("386", None),
    "x86": ("386", None),
    "ppc64le": ("ppc64le", None),
    "s390x": ("s390x", None),
    "riscv64": ("riscv64", None),
}


def host_platform() -> OciPlatform:
    """The platform of the running machine, in OCI terms (``linux/amd64``, ``linux/arm64/v8``)."""
    os_name = {"win32": "windows", "darwin": "darwin", "cygwin": "windows"}.get(
        sys.platform, sys.platform.rstrip("0123456789") or "linux"
    )
    machine = _platform.machine().lower()
    architecture, variant = _ARCHITECTURES.get(machine, (machine, None))
    return OciPlatform(os=os_name, architecture=architecture, variant=variant)


def parse_platform(value: Union[str, OciPlatform, None]) -> OciPlatform:
    """``os/arch[/variant]`` (``linux/arm64/v8``), an ``OciPlatform``, or None for this machine.

    :raises TypeError: for another type.
    :raises ValueError: for text that is not ``os/arch[/variant]``.
    """
    if value is None:
        return host_platform()
    if isinstance(value, OciPlatform):
        return value
    if not isinstance(value, str):
        raise TypeError(f"platform must be a str or OciPlatform, not {type(value).__name__}")
    parts = value.split("/")
    if not 2 <= len(parts) <= 3 or not all(parts):
        raise ValueError(f"invalid platform {value!r}: expected 'os/architecture[/variant]'")
    return OciPlatform(
        os=parts[0], architecture=parts[1], variant=parts[2] if len(parts) == 3 else None
    )


def _platform_text(p: Optional[OciPlatform]) -> str:
    if p is None:
        return "(no platform)"
    return "/".join(x for x in (p.os, p.architecture, p.variant) if x)


def _variant(p: OciPlatform) -> Optional[str]:
    # arm64 without a variant means v8 (containerd's normalisation)
    if p.architecture == "arm64" and p.variant in (None, "v8"):
        return "v8"
    return p.variant


def select_manifest(
    index: Union[OciImageIndex, DockerManifestList], wanted: OciPlatform
) -> OciDescriptor:
    """The index entry for ``wanted``: same os and architecture, and the same variant when
    ``wanted`` names one (else the first entry, in index order).

    :raises LookupError: when the index has no manifest for that platform (the message lists
        the platforms it has).
    """
    candidates = [
        d
        for d in index.manifests
        if d.platform is not None
        and d.platform.os == wanted.os
        and d.platform.architecture == wanted.architecture
    ]
    if wanted.variant is not None:
        candidates = [
            d for d in candidates if d.platform and _variant(d.platform) == _variant(wanted)
        ]
    if not candidates:
        have = ", ".join(sorted({_platform_text(d.platform) for d in index.manifests})) or "none"
        raise LookupError(
            f"the index has no manifest for {_platform_text(wanted)} (it has: {have})"
        )
    return candidates[0]


class PulledFile(NamedTuple):
    """A file :meth:`~azurecr.ContainerRegistryClient.pull_artifact` wrote."""

    path: Path
    """Where the blob was written."""
    descriptor: OciDescriptor
    """The layer's descriptor (digest, size, media type, annotations)."""


@dataclass
class PulledArtifact:
    """What :meth:`~azurecr.ContainerRegistryClient.pull_artifact` pulled and wrote."""

    digest: Digest
    """The digest of the image manifest that was pulled (after choosing a platform)."""
    manifest: Union[OciImageManifest, DockerManifest]
    """That manifest."""
    files: list[PulledFile] = field(default_factory=list)
    """The files written, one per layer, in the manifest's order."""


def pull_targets(
    manifest: Union[OciImageManifest, DockerManifest],
) -> list[tuple[OciDescriptor, str]]:
    """Each layer and the relative file name it is written to: its title annotation, or
    ``<algorithm>-<hex>`` of its digest.

    :raises ValueError: for an unsafe title (absolute, ``..``), or two layers with the same name.
    """
    targets: list[tuple[OciDescriptor, str]] = []
    names: set[str] = set()
    for layer in manifest.layers:
        title = None
        if layer.annotations is not None:
            title = layer.annotations.title
        name = (
            check_title(title)
            if title is not None
            else f"{layer.digest.algorithm}-{layer.digest.encoded}"
        )
        key = os.path.normcase(name)
        if key in names:
            raise ValueError(f"two layers of the manifest would be written to {name!r}")
        names.add(key)
        targets.append((layer, name))
    return targets


def manifest_kind(model: Any) -> str:
    """``"index"``, ``"image"``, or ``"other"`` for a parsed manifest model."""
    if isinstance(model, (OciImageIndex, DockerManifestList)):
        return "index"
    if isinstance(model, (OciImageManifest, DockerManifest)):
        return "image"
    return "other"


# ----------------------------------------------------------------------------- copy
_FOREIGN = (
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    "application/vnd.oci.image.layer.nondistributable.",
)


def blobs_of(model: Union[OciImageManifest, DockerManifest]) -> list[OciDescriptor]:
    """The blobs an image manifest needs in its repository: its config and its layers,
    except foreign layers that live at their ``urls`` (Windows base layers)."""
    out = [model.config]
    for layer in model.layers:
        if layer.urls and layer.media_type.startswith(_FOREIGN):
            continue
        out.append(layer)
    return out


@dataclass
class CopyNode:
    """A manifest to copy, in the order it must be stored (children before their index,
    subjects before their referrers)."""

    digest: Digest
    media_type: str
    content: bytes


@dataclass
class CopyPlan:
    manifests: list[CopyNode] = field(default_factory=list)
    blobs: dict[str, OciDescriptor] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(d.size for d in self.blobs.values())


def default_tags(reference: str, tags: Optional[Iterable[str]]) -> list[str]:
    """The tags a copy sets: ``tags``, else the source tag when the reference is a tag."""
    if tags is None:
        return [] if ":" in reference else [reference]
    if isinstance(tags, str):
        raise TypeError("tags must be an iterable of tags, not a str")
    return [validate_tag(t) for t in tags]


def same_registry(a: str, b: str) -> bool:
    return a.rstrip("/").lower() == b.rstrip("/").lower()


class RemotePosition(io.RawIOBase):
    """The positions of a source blob read as a seekable file for a streamed copy: where
    the caller is (``tell``/``seek``, which the upload uses to resume or restart) and where
    the open download stream is. The sync and async readers do only the reads."""

    SKIP_PIECE = 1024 * 1024

    def __init__(self, size: int) -> None:
        super().__init__()
        self._size = size
        self._offset = 0  # the position the caller sees
        self._streamed = 0  # the position of the open stream

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._offset

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._offset, io.SEEK_END: self._size}[whence]
        self._offset = base + offset
        return self._offset

    def must_reopen(self, is_open: bool) -> bool:
        """A stream is needed from the start: none is open, or it is past the position."""
        if is_open and self._streamed <= self._offset:
            return False
        self._streamed = 0
        return True

    def to_skip(self) -> int:
        """How many bytes to read and drop next to reach the position (0: there)."""
        return min(self._offset - self._streamed, self.SKIP_PIECE)

    def skipped(self, n: int) -> bool:
        """Count dropped bytes; False when the stream ended before the position."""
        self._streamed += n
        return n > 0

    def delivered(self, n: int) -> None:
        self._streamed += n
        self._offset = self._streamed


# ----------------------------------------------------------------------------- referrers
def referrers_tag(digest: str) -> str:
    """The OCI 1.1 referrers tag schema: ``<algorithm>-<hex>`` names the fallback index of
    the manifests that refer to ``digest``."""
    d = Digest(digest)
    return f"{d.algorithm}-{d.encoded}"[:128]


def filter_referrers(
    descriptors: Iterable[OciDescriptor], artifact_type: Optional[str]
) -> list[OciDescriptor]:
    if artifact_type is None:
        return list(descriptors)
    return [d for d in descriptors if d.artifact_type == artifact_type]


def filters_applied(header: Optional[str]) -> bool:
    """Whether ``OCI-Filters-Applied`` says the registry filtered by ``artifactType``."""
    return bool(header) and "artifacttype" in {
        part.strip().lower() for part in str(header).split(",")
    }


def referrers_from_index(content: bytes) -> list[OciDescriptor]:
    """The descriptors of a referrers answer or fallback index.

    :raises ValueError: when it is not an OCI image index.
    """
    try:
        document = json.loads(content)
    except ValueError as exc:
        raise ValueError(f"the referrers index is not JSON: {exc}") from None
    return OciImageIndex.from_json(document).manifests


def with_referrer(
    existing: Optional[OciImageIndex], descriptor: OciDescriptor
) -> Optional[OciImageIndex]:
    """The fallback index with ``descriptor`` added, or None when it is already listed."""
    manifests = list(existing.manifests) if existing is not None else []
    if any(d.digest == descriptor.digest for d in manifests):
        return None
    manifests.append(descriptor)
    if existing is None:
        return OciImageIndex(manifests=manifests)
    existing.manifests = manifests
    return existing


def unacknowledged_subject(
    content: bytes, media_type: str, oci_subject: Optional[str]
) -> Optional[tuple[OciDescriptor, OciDescriptor]]:
    """After storing a manifest: its subject and its own descriptor as a referrer, when it
    has a subject and the registry did not answer ``OCI-Subject`` (so it may lack the
    referrers API, and the tag schema fallback may need updating); else None."""
    if oci_subject or b'"subject"' not in content:
        return None
    try:
        model = parse_manifest(content, media_type)
    except ValueError:
        return None
    subject = subject_of(model)
    if subject is None:
        return None
    return subject, descriptor_of(content, media_type, model)


def subject_descriptor(result: Any) -> OciDescriptor:
    """The ``subject`` descriptor of a manifest read with ``get_manifest``."""
    return OciDescriptor(
        media_type=result.media_type, digest=result.digest, size=len(result.content)
    )


def fallback_index(result: Any, tag: str) -> OciImageIndex:
    """The existing referrers fallback index read from tag ``tag``.

    :raises ValueError: when that tag holds something else (it is not overwritten).
    """
    if not isinstance(result.model, OciImageIndex):
        raise ValueError(
            f"the tag {tag!r} (a referrers fallback tag) holds a {result.media_type} manifest, "
            "not an OCI image index; refusing to overwrite it"
        )
    return result.model


def subject_of(model: Any) -> Optional[OciDescriptor]:
    if isinstance(model, (OciImageManifest, OciImageIndex)):
        return model.subject
    return None


KNOWN_INDEX_TYPES = (
    KnownManifestMediaType.OCI_IMAGE_INDEX.value,
    KnownManifestMediaType.DOCKER_MANIFEST_LIST.value,
)


# ----------------------------------------------------------------------------- checks
def check_subject(subject: object) -> None:
    if subject is None or isinstance(subject, OciDescriptor):
        return
    if not isinstance(subject, str):
        raise TypeError(
            f"subject must be a tag, a digest or an OciDescriptor, not {type(subject).__name__}"
        )
    validate_tag_or_digest(subject)


def check_directory(directory: Union[str, os.PathLike[str]]) -> Path:
    if not isinstance(directory, (str, os.PathLike)):
        raise TypeError(f"directory must be a path, not {type(directory).__name__}")
    path = Path(os.fspath(directory))
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"not a directory: {str(path)!r}")
    return path


def check_destinations(directory: Path, targets: list[tuple[OciDescriptor, str]]) -> None:
    """Before any blob is fetched: every file can be written where its name says (no
    directory in the way of a file, no file in the way of a directory it needs).

    :raises IsADirectoryError: when a directory has a layer's name.
    :raises NotADirectoryError: when a file stands where a layer needs a directory.
    """
    for _, name in targets:
        parts = name.split("/")
        destination = directory.joinpath(*parts)
        if destination.is_dir():
            raise IsADirectoryError(f"cannot write layer {name!r}: {destination} is a directory")
        for depth in range(1, len(parts)):
            parent = directory.joinpath(*parts[:depth])
            if parent.exists() and not parent.is_dir():
                raise NotADirectoryError(
                    f"cannot write layer {name!r}: {parent} is a file, not a directory"
                )


def place_files(
    directory: Path,
    targets: list[tuple[OciDescriptor, str]],
    staged: dict[str, Path],
) -> list[PulledFile]:
    """Move the verified, staged blobs to their names (a blob used twice is copied)."""
    placed: dict[str, Path] = {}
    files: list[PulledFile] = []
    for descriptor, name in targets:
        destination = directory.joinpath(*name.split("/"))
        destination.parent.mkdir(parents=True, exist_ok=True)
        if descriptor.digest in placed:
            shutil.copyfile(placed[descriptor.digest], destination)
        else:
            os.replace(staged[descriptor.digest], destination)
            placed[descriptor.digest] = destination
        files.append(PulledFile(destination, descriptor))
    return files


def check_artifact_type(artifact_type: object) -> None:
    if artifact_type is not None and (not isinstance(artifact_type, str) or not artifact_type):
        raise TypeError("artifact_type must be a non-empty str or None")


def referrers_page(
    body: bytes, headers: Mapping[str, str], artifact_type: Optional[str], endpoint: str
) -> tuple[list[OciDescriptor], Optional[str]]:
    items = referrers_from_index(body)
    if not filters_applied(headers.get("OCI-Filters-Applied")):
        items = filter_referrers(items, artifact_type)
    return items, next_link(headers.get("Link"), endpoint)


def check_pair(value: Any, what: str, client_type: type[_C]) -> tuple[_C, str]:
    """A ``(client, repository)`` pair of :func:`~azurecr.copy_artifact`."""
    if not isinstance(value, tuple) or len(value) != 2:
        raise TypeError(f"{what} must be a (ContainerRegistryClient, repository) pair")
    client, repository = value
    if not isinstance(client, client_type):
        raise TypeError(
            f"{what}[0] must be a {client_type.__module__.split('.')[0]}"
            f"{'.aio' if '.aio' in client_type.__module__ else ''}.ContainerRegistryClient, "
            f"not {type(client).__name__}"
        )
    validate_repository(repository)
    return client, repository


def check_push(
    repository: str,
    files: Iterable[Union[PathLike, ArtifactFile]],
    *,
    config: Union[ArtifactFile, bytes, Mapping[str, Any], None],
    config_media_type: Optional[str],
    artifact_type: Optional[str],
    annotations: Optional[Mapping[str, str]],
    tag: Optional[str],
    subject: Any,
    max_concurrency: Any,
    progress_hook: Any,
) -> tuple[int, PushPlan]:
    """Every check of ``push_artifact`` (before any request); its concurrency and plan."""
    validate_repository(repository)
    if tag is not None:
        validate_tag(tag)
    concurrency = check_max_concurrency(max_concurrency)
    check_progress_hook(progress_hook)
    check_subject(subject)
    plan = plan_push(
        files,
        config=config,
        config_media_type=config_media_type,
        artifact_type=artifact_type,
        annotations=annotations,
    )
    return concurrency, plan


def check_pull(
    repository: str,
    reference: str,
    directory: Any,
    platform: Any,
    max_concurrency: Any,
    progress_hook: Any,
) -> tuple[int, OciPlatform, Path]:
    """Every check of ``pull_artifact`` (before any request)."""
    validate_repository(repository)
    validate_tag_or_digest(reference)
    concurrency = check_max_concurrency(max_concurrency)
    check_progress_hook(progress_hook)
    return concurrency, parse_platform(platform), check_directory(directory)


def check_copy(
    repository: str,
    reference: str,
    tags: Optional[Iterable[str]],
    include_referrers: Any,
    max_concurrency: Any,
    progress_hook: Any,
) -> tuple[list[str], int]:
    """Every check of ``copy_artifact`` (before any request); the tags to set."""
    validate_repository(repository)
    validate_tag_or_digest(reference)
    tag_list = default_tags(reference, tags)
    concurrency = check_max_concurrency(max_concurrency)
    check_progress_hook(progress_hook)
    if not isinstance(include_referrers, bool):
        raise TypeError("include_referrers must be a bool")
    return tag_list, concurrency


def platform_entry(result: Any, wanted: OciPlatform) -> Optional[OciDescriptor]:
    """For a pulled index, the entry of the wanted platform; None for anything else."""
    if manifest_kind(result.model) == "index":
        return select_manifest(result.model, wanted)
    return None


def image_model(result: Any, what: str) -> Union[OciImageManifest, DockerManifest]:
    """The image (or artifact) manifest to pull files from.

    :raises ValueError: for any other kind of manifest.
    """
    model = result.model
    if not isinstance(model, (OciImageManifest, DockerManifest)):
        raise ValueError(
            f"{what} is not an image or artifact manifest (media type {result.media_type})"
        )
    return model


def copy_children(result: Any, plan: CopyPlan) -> list[OciDescriptor]:
    """Record a fetched manifest's blobs in ``plan``; the child manifests to fetch first.

    :raises ValueError: for a manifest of a media type that cannot be copied.
    """
    kind = manifest_kind(result.model)
    if kind == "index":
        return list(result.model.manifests)
    if kind == "image":
        for blob in blobs_of(result.model):
            plan.blobs.setdefault(blob.digest, blob)
        return []
    raise ValueError(f"cannot copy a manifest of media type {result.media_type!r}")
