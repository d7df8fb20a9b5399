"""Read (and edit) distribution's filesystem storage directly.

Layout (distribution 2.x, filesystem driver):
  docker/registry/v2/blobs/sha256/<xx>/<hex>/data
  docker/registry/v2/repositories/<name>/_manifests/revisions/sha256/<hex>/link
  docker/registry/v2/repositories/<name>/_manifests/tags/<tag>/current/link
  docker/registry/v2/repositories/<name>/_manifests/tags/<tag>/index/sha256/<hex>/link
  docker/registry/v2/repositories/<name>/_layers/sha256/<hex>/link

The registry runs without a blob descriptor cache, so edits here are seen immediately.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

IMAGE_CONFIG_TYPES = {
    "application/vnd.docker.container.image.v1+json",
    "application/vnd.oci.image.config.v1+json",
}
INDEX_TYPES = {
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.index.v1+json",
}
DOCKER_V2 = "application/vnd.docker.distribution.manifest.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


@dataclass
class ManifestInfo:
    digest: str
    media_type: str
    size: int  # bytes of the manifest itself
    image_size: int
    config_media_type: str | None = None
    architecture: str | None = None
    os: str | None = None
    references: list[dict[str, str]] = field(default_factory=list)
    is_index: bool = False


class Storage:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.v2 = self.root / "docker" / "registry" / "v2"
        self.repos_root = self.v2 / "repositories"

    # -- paths ---------------------------------------------------------------------------
    def repo_dir(self, name: str) -> Path:
        if not name or ".." in name.split("/") or name.startswith("/"):
            raise ValueError(f"bad repository name {name!r}")
        return self.repos_root / name

    def blob_path(self, digest: str) -> Path:
        algo, _, hexpart = digest.partition(":")
        return self.v2 / "blobs" / algo / hexpart[:2] / hexpart / "data"

    # -- reading -------------------------------------------------------------------------
    def list_repositories(self) -> list[str]:
        """Repositories holding at least one manifest (what ACR calls a repository)."""
        out: list[str] = []
        if not self.repos_root.is_dir():
            return out
        for dirpath, dirnames, _files in os.walk(self.repos_root):
            if "_manifests" in dirnames:
                name = os.path.relpath(dirpath, self.repos_root).replace(os.sep, "/")
                if self.manifest_digests(name):
                    out.append(name)
            dirnames[:] = [d for d in dirnames if not d.startswith("_")]
        return sorted(out)

    def repository_exists(self, name: str) -> bool:
        try:
            return bool(self.manifest_digests(name))
        except ValueError:
            return False

    def manifest_digests(self, name: str) -> list[str]:
        rev = self.repo_dir(name) / "_manifests" / "revisions"
        out = []
        if rev.is_dir():
            for algo in rev.iterdir():
                for d in algo.iterdir():
                    if (d / "link").is_file():
                        out.append(f"{algo.name}:{d.name}")
        return sorted(out)

    def tags(self, name: str) -> dict[str, str]:
        tdir = self.repo_dir(name) / "_manifests" / "tags"
        out: dict[str, str] = {}
        if tdir.is_dir():
            for t in tdir.iterdir():
                link = t / "current" / "link"
                if link.is_file():
                    out[t.name] = link.read_text().strip()
        return dict(sorted(out.items()))

    def tag_mtime(self, name: str, tag: str) -> float:
        return (
            (self.repo_dir(name) / "_manifests" / "tags" / tag / "current" / "link").stat().st_mtime
        )

    def manifest_mtime(self, name: str, digest: str) -> float:
        algo, _, hexpart = digest.partition(":")
        return (
            (self.repo_dir(name) / "_manifests" / "revisions" / algo / hexpart / "link")
            .stat()
            .st_mtime
        )

    def has_manifest(self, name: str, digest: str) -> bool:
        algo, _, hexpart = digest.partition(":")
        if not hexpart or "/" in hexpart or "/" in algo:
            return False
        return (
            self.repo_dir(name) / "_manifests" / "revisions" / algo / hexpart / "link"
        ).is_file()

    def read_blob(self, digest: str) -> bytes:
        return self.blob_path(digest).read_bytes()

    def blob_size(self, digest: str) -> int | None:
        try:
            return self.blob_path(digest).stat().st_size
        except OSError:
            return None

    def manifest_info(self, name: str, digest: str, _depth: int = 0) -> ManifestInfo:
        raw = self.read_blob(digest)
        try:
            doc: dict[str, Any] = json.loads(raw)
        except ValueError:
            doc = {}
        media_type = doc.get("mediaType") or (OCI_INDEX if "manifests" in doc else OCI_MANIFEST)
        info = ManifestInfo(
            digest=digest, media_type=media_type, size=len(raw), image_size=len(raw)
        )
        if media_type in INDEX_TYPES or "manifests" in doc:
            info.is_index = True
            total = len(raw)
            for m in doc.get("manifests") or []:
                platform = m.get("platform") or {}
                info.references.append(
                    {
                        "digest": m.get("digest", ""),
                        "architecture": platform.get("architecture", "unknown"),
                        "os": platform.get("os", "unknown"),
                    }
                )
                child = m.get("digest", "")
                if _depth < 3 and child and self.has_manifest(name, child):
                    try:
                        total += self.manifest_info(name, child, _depth + 1).image_size
                        continue
                    except OSError:
                        pass
                total += int(m.get("size") or 0)
            info.image_size = total
            return info
        config = doc.get("config") or {}
        total = len(raw) + int(config.get("size") or 0)
        for layer in doc.get("layers") or []:
            total += int(layer.get("size") or 0)
        info.image_size = total
        cmt = config.get("mediaType")
        info.config_media_type = cmt
        if cmt in IMAGE_CONFIG_TYPES and config.get("digest"):
            try:
                cfg = json.loads(self.read_blob(config["digest"]))
            except (OSError, ValueError):
                cfg = {}
            if not isinstance(cfg, dict):
                cfg = {}
            info.architecture = cfg.get("architecture") or "unknown"
            info.os = cfg.get("os") or "unknown"
        return info

    def referrers(self, name: str, subject: str) -> list[dict[str, Any]]:
        """OCI 1.1 referrers of ``subject`` in ``name``: a descriptor (mediaType, digest,
        size, artifactType, annotations) for every manifest revision whose ``subject.digest``
        is ``subject``, in digest order. ``artifactType`` is the manifest's own, else (image
        manifests only) its config's mediaType; it and ``annotations`` are left out when
        empty."""
        out: list[dict[str, Any]] = []
        try:
            digests = self.manifest_digests(name)
        except ValueError:
            return out
        for digest in digests:
            try:
                raw = self.read_blob(digest)
                doc = json.loads(raw)
            except (OSError, ValueError):
                continue
            if not isinstance(doc, dict):
                continue
            sub = doc.get("subject")
            if not isinstance(sub, dict) or sub.get("digest") != subject:
                continue
            is_index = doc.get("mediaType") in INDEX_TYPES or "manifests" in doc
            desc: dict[str, Any] = {
                "mediaType": doc.get("mediaType") or (OCI_INDEX if is_index else OCI_MANIFEST),
                "digest": digest,
                "size": len(raw),
            }
            artifact_type = doc.get("artifactType")
            if not artifact_type and not is_index:
                config = doc.get("config")
                artifact_type = config.get("mediaType") if isinstance(config, dict) else None
            if artifact_type:
                desc["artifactType"] = artifact_type
            annotations = doc.get("annotations")
            if isinstance(annotations, dict) and annotations:
                desc["annotations"] = annotations
            out.append(desc)
        return out

    # -- editing -------------------------------------------------------------------------
    def delete_tag(self, name: str, tag: str) -> bool:
        tdir = self.repo_dir(name) / "_manifests" / "tags" / tag
        if not (tdir / "current" / "link").is_file():
            return False
        shutil.rmtree(tdir)
        return True

    def delete_manifest(self, name: str, digest: str) -> list[str]:
        """Remove a manifest revision and every tag pointing at it; returns the tags removed."""
        removed = [t for t, d in self.tags(name).items() if d == digest]
        for t in removed:
            self.delete_tag(name, t)
        algo, _, hexpart = digest.partition(":")
        base = self.repo_dir(name) / "_manifests"
        shutil.rmtree(base / "revisions" / algo / hexpart, ignore_errors=True)
        tags_dir = base / "tags"
        if tags_dir.is_dir():
            for t in tags_dir.iterdir():
                shutil.rmtree(t / "index" / algo / hexpart, ignore_errors=True)
        return removed

    def delete_repository(self, name: str) -> tuple[list[str], list[str]]:
        manifests = self.manifest_digests(name)
        tags = list(self.tags(name))
        shutil.rmtree(self.repo_dir(name), ignore_errors=True)
        return manifests, tags
