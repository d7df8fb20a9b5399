"""The subcommands. Each takes the parsed arguments, a Session and an Output; returns 0.

Failures raise: ``UsageError`` (exit 2), or the library's / azure-core's exceptions, which
``_app`` turns into one line and an exit status.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Callable, Optional

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from .._models import ArtifactManifestProperties, ArtifactTagProperties, RepositoryProperties
from .._reference import Reference
from ._output import Output, format_size, format_time
from ._session import Failure, Session, UsageError, display, parse_reference

__all__ = ["COMMANDS"]

Command = Callable[[Any, Session, Output], int]

TITLE = "org.opencontainers.image.title"


# ------------------------------------------------------------------------------ to JSON
def _flags(p: Any) -> dict[str, Optional[bool]]:
    return {
        "can_delete": p.can_delete,
        "can_list": p.can_list,
        "can_read": p.can_read,
        "can_write": p.can_write,
    }


def repository_json(p: RepositoryProperties) -> dict[str, Any]:
    return {
        "name": p.name,
        "created_on": p.created_on,
        "last_updated_on": p.last_updated_on,
        "manifest_count": p.manifest_count,
        "tag_count": p.tag_count,
        **_flags(p),
    }


def tag_json(p: ArtifactTagProperties) -> dict[str, Any]:
    return {
        "name": p.name,
        "repository": p.repository_name,
        "digest": p.digest,
        "created_on": p.created_on,
        "last_updated_on": p.last_updated_on,
        **_flags(p),
    }


def _enum_text(value: Any) -> Optional[str]:
    return None if value is None else str(getattr(value, "value", value))


def manifest_json(p: ArtifactManifestProperties) -> dict[str, Any]:
    return {
        "digest": p.digest,
        "repository": p.repository_name,
        "tags": list(p.tags),
        "media_type": p.media_type,
        "config_media_type": p.config_media_type,
        "architecture": _enum_text(p.architecture),
        "operating_system": _enum_text(p.operating_system),
        "size_in_bytes": p.size_in_bytes,
        "created_on": p.created_on,
        "last_updated_on": p.last_updated_on,
        "related_artifacts": [
            {
                "digest": r.digest,
                "architecture": _enum_text(r.architecture),
                "operating_system": _enum_text(r.operating_system),
            }
            for r in p.related_artifacts
        ],
        "fully_qualified_reference": p.fully_qualified_reference,
        **_flags(p),
    }


def _locks(p: Any) -> str:
    """What a lock forbids, for the tables: ``write,delete``, or ``-`` when nothing."""
    denied = [
        name for name in ("read", "write", "delete", "list") if getattr(p, f"can_{name}") is False
    ]
    return ",".join(denied) or "-"


def _platform(p: ArtifactManifestProperties) -> str:
    os_, arch = _enum_text(p.operating_system), _enum_text(p.architecture)
    if os_ or arch:
        return f"{os_ or '?'}/{arch or '?'}"
    if p.related_artifacts:
        return f"index ({len(p.related_artifacts)})"
    return "-"


def _flag_pairs(p: Any) -> list[tuple[str, str]]:
    return [(key, _yes_no(value)) for key, value in _flags(p).items()]


def _yes_no(value: Optional[bool]) -> str:
    return "-" if value is None else ("yes" if value else "no")


def _show_repository(out: Output, p: RepositoryProperties) -> None:
    out.fields(
        f"Repository {p.name}",
        [
            ("created", format_time(p.created_on)),
            ("updated", format_time(p.last_updated_on)),
            ("manifests", str(p.manifest_count)),
            ("tags", str(p.tag_count)),
            *_flag_pairs(p),
        ],
    )


def _show_tag(out: Output, p: ArtifactTagProperties) -> None:
    out.fields(
        f"Tag {p.repository_name}:{p.name}",
        [
            ("digest", p.digest or "-"),
            ("created", format_time(p.created_on)),
            ("updated", format_time(p.last_updated_on)),
            *_flag_pairs(p),
        ],
    )


def _show_manifest(out: Output, p: ArtifactManifestProperties) -> None:
    pairs = [
        ("digest", p.digest or "-"),
        ("reference", p.fully_qualified_reference),
        ("tags", ", ".join(p.tags) or "-"),
        ("media type", p.media_type or "-"),
        ("config media type", p.config_media_type or "-"),
        ("platform", _platform(p)),
        (
            "size",
            f"{format_size(p.size_in_bytes)} ({p.size_in_bytes} bytes)"
            if p.size_in_bytes is not None
            else "-",
        ),
        ("created", format_time(p.created_on)),
        ("updated", format_time(p.last_updated_on)),
        *_flag_pairs(p),
    ]
    for r in p.related_artifacts:
        plat = f"{_enum_text(r.operating_system) or '?'}/{_enum_text(r.architecture) or '?'}"
        pairs.append(("manifest", f"{r.digest}  {plat}"))
    out.fields(f"Manifest {p.repository_name}@{p.digest}", pairs)


# ------------------------------------------------------------------------------ listing
def cmd_repos(args: Any, session: Session, out: Output) -> int:
    names = list(session.client().list_repository_names())
    if out.json_mode:
        out.json(names)
    else:
        out.table(["REPOSITORY"], [[n] for n in names])
    return 0


def cmd_tags(args: Any, session: Session, out: Output) -> int:
    ref = parse_reference(args.repository, what="repository", tag_or_digest="forbidden")
    client = session.client(ref)
    tags = list(client.list_tag_properties(ref.repository, order_by=args.order))
    if out.json_mode:
        out.json([tag_json(t) for t in tags])
        return 0
    out.table(
        ["TAG", "DIGEST", "UPDATED", "LOCKED"],
        [[t.name or "-", t.digest or "-", format_time(t.last_updated_on), _locks(t)] for t in tags],
    )
    return 0


def cmd_manifests(args: Any, session: Session, out: Output) -> int:
    ref = parse_reference(args.repository, what="repository", tag_or_digest="forbidden")
    client = session.client(ref)
    manifests = list(client.list_manifest_properties(ref.repository, order_by=args.order))
    if out.json_mode:
        out.json([manifest_json(m) for m in manifests])
        return 0
    out.table(
        ["DIGEST", "TAGS", "PLATFORM", "SIZE", "UPDATED", "LOCKED"],
        [
            [
                m.digest or "-",
                ",".join(m.tags) or "-",
                _platform(m),
                format_size(m.size_in_bytes),
                format_time(m.last_updated_on),
                _locks(m),
            ]
            for m in manifests
        ],
    )
    return 0


def cmd_show(args: Any, session: Session, out: Output) -> int:
    ref = parse_reference(args.reference, both=True)
    client = session.client(ref)
    result: dict[str, Any] = {}
    if ref.digest is not None:
        manifest = client.get_manifest_properties(ref.repository, ref.digest)
        result["manifest"] = manifest_json(manifest)
        if not out.json_mode:
            _show_manifest(out, manifest)
    elif ref.tag is not None:
        tag = client.get_tag_properties(ref.repository, ref.tag)
        manifest = client.get_manifest_properties(ref.repository, tag.digest or ref.tag)
        result["tag"] = tag_json(tag)
        result["manifest"] = manifest_json(manifest)
        if not out.json_mode:
            _show_tag(out, tag)
            out.blank()
            _show_manifest(out, manifest)
    else:
        repo = client.get_repository_properties(ref.repository)
        result["repository"] = repository_json(repo)
        if not out.json_mode:
            _show_repository(out, repo)
    if out.json_mode:
        out.json(result)
    return 0


def cmd_referrers(args: Any, session: Session, out: Output) -> int:
    ref = parse_reference(args.reference, tag_or_digest="required", both=True)
    client = session.client(ref)
    digest = ref.digest or client.get_manifest(ref.repository, ref.tag or "").digest
    found = list(client.list_referrers(ref.repository, digest, artifact_type=args.artifact_type))
    if out.json_mode:
        out.json([d.to_json() for d in found])
        return 0
    rows = []
    for d in found:
        annotations = d.annotations.to_json() if d.annotations is not None else {}
        created = annotations.get("org.opencontainers.image.created", "-")
        rows.append([str(d.digest), d.artifact_type or "-", format_size(d.size), str(created)])
    out.table(["DIGEST", "ARTIFACT TYPE", "SIZE", "CREATED"], rows)
    return 0


# ------------------------------------------------------------------------------ lock/unlock
def _set_locked(args: Any, session: Session, out: Output, locked: bool) -> int:
    ref = parse_reference(args.reference)
    client = session.client(ref)
    allowed = not locked
    verb = "locked" if locked else "unlocked"
    result: dict[str, Any] = {}
    if ref.tag is not None:
        # A tag's lock covers the image: the tag (not moved, not deleted) and its manifest
        # (not overwritten, not deleted by digest). Tag first: its answer names the digest.
        tag = client.update_tag_properties(
            ref.repository, ref.tag, can_write=allowed, can_delete=allowed
        )
        manifest = client.update_manifest_properties(
            ref.repository, tag.digest or ref.tag, can_write=allowed, can_delete=allowed
        )
        result = {"tag": tag_json(tag), "manifest": manifest_json(manifest)}
        what = f"tag {display(ref)} and manifest {manifest.digest}"
    elif ref.digest is not None:
        manifest = client.update_manifest_properties(
            ref.repository, ref.digest, can_write=allowed, can_delete=allowed
        )
        result = {"manifest": manifest_json(manifest)}
        what = f"manifest {display(ref)}"
    else:
        repo = client.update_repository_properties(
            ref.repository, can_write=allowed, can_delete=allowed
        )
        result = {"repository": repository_json(repo)}
        what = f"repository {ref.repository}"
    if out.json_mode:
        out.json(result)
    out.note(f"{verb} {what} ({'no write, no delete' if locked else 'write and delete allowed'})")
    return 0


def cmd_lock(args: Any, session: Session, out: Output) -> int:
    return _set_locked(args, session, out, True)


def cmd_unlock(args: Any, session: Session, out: Output) -> int:
    return _set_locked(args, session, out, False)


# ------------------------------------------------------------------------------ delete
def cmd_delete(args: Any, session: Session, out: Output) -> int:
    ref = parse_reference(args.reference)
    client = session.client(ref)
    try:
        return _delete(args, client, ref, out)
    except ResourceNotFoundError:
        if args.if_exists:
            out.note(f"{display(ref)}: not found, nothing deleted")
            return 0
        raise
    except HttpResponseError as exc:
        code = getattr(exc.error, "code", None) if exc.error is not None else None
        if code != "DENIED":
            raise
        text = getattr(exc.error, "message", None) or "denied"
        raise Failure(
            f"{display(ref)}: the registry refused the delete: {text} "
            f"(HTTP {exc.status_code} DENIED; locked? see `azurecr show {display(ref)}`, "
            f"`azurecr unlock {display(ref)}`)"
        ) from exc


def _count(n: Optional[int], noun: str) -> str:
    if n is None:
        return f"all its {noun}s"
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _delete(args: Any, client: Any, ref: Reference, out: Output) -> int:
    # The library's deletes succeed when the target is absent (idempotent, like the Azure
    # SDK); the CLI looks first so a mistyped name is an error (or a no-op with --if-exists).
    result: dict[str, Any]
    if ref.tag is not None and not args.manifest:
        tag = client.get_tag_properties(ref.repository, ref.tag)
        client.delete_tag(ref.repository, ref.tag)
        result = {"deleted": "tag", "tag": tag_json(tag)}
        message = f"deleted tag {display(ref)} (manifest {tag.digest} stays)"
    elif ref.tag is not None or ref.digest is not None:
        manifest = client.get_manifest_properties(ref.repository, ref.digest or ref.tag)
        client.delete_manifest(ref.repository, manifest.digest)
        result = {"deleted": "manifest", "manifest": manifest_json(manifest)}
        tags = f" and its tags {', '.join(manifest.tags)}" if manifest.tags else ""
        message = f"deleted manifest {ref.repository}@{manifest.digest}{tags}"
    else:
        repo = client.get_repository_properties(ref.repository)
        if not args.yes:
            raise UsageError(
                f"deleting repository {ref.repository} removes "
                f"{_count(repo.manifest_count, 'manifest')} and {_count(repo.tag_count, 'tag')}; "
                "add --yes to confirm"
            )
        client.delete_repository(ref.repository)
        result = {"deleted": "repository", "repository": repository_json(repo)}
        message = (
            f"deleted repository {ref.repository} "
            f"({_count(repo.manifest_count, 'manifest')}, {_count(repo.tag_count, 'tag')})"
        )
    if out.json_mode:
        out.json(result)
    out.note(message)
    return 0


# ------------------------------------------------------------------------------ transfers
def _annotations(pairs: Optional[Sequence[str]]) -> Optional[dict[str, str]]:
    if not pairs:
        return None
    result: dict[str, str] = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        if not eq or not key:
            raise UsageError(f"--annotation {pair!r}: expected KEY=VALUE")
        result[key] = value
    return result


def _at(ref: Reference, digest: str) -> str:
    """``repo:tag@digest`` with the digest that was actually pushed or pulled."""
    return display(Reference(ref.repository, tag=ref.tag, digest=digest))


def cmd_push(args: Any, session: Session, out: Output) -> int:
    from .. import ArtifactFile

    ref = parse_reference(args.reference, what="destination")
    if ref.digest is not None:
        raise UsageError(f"push {args.reference!r}: a digest is computed, give REPOSITORY[:TAG]")
    annotations = _annotations(args.annotation)
    paths = [Path(f) for f in args.files]
    seen: dict[str, Path] = {}
    total = 0
    for path in paths:
        if not path.exists():
            raise FileNotFoundError(2, "No such file", str(path))
        if not path.is_file():
            raise UsageError(f"{path}: not a regular file (push files; archive a directory first)")
        if path.name in seen:
            raise UsageError(f"{seen[path.name]} and {path}: two files named {path.name!r}")
        seen[path.name] = path
        total += path.stat().st_size
    files = [ArtifactFile(path, media_type=args.media_type) for path in paths]
    client = session.client(ref)
    with out.transfer(f"push {display(ref)}") as transfer:
        digest = client.push_artifact(
            ref.repository,
            files,
            artifact_type=args.artifact_type,
            annotations=annotations,
            tag=ref.tag,
            subject=args.subject,
            max_concurrency=args.concurrency,
            progress_hook=transfer.hook,
        )
    if out.json_mode:
        out.json(
            {
                "digest": str(digest),
                "repository": ref.repository,
                "tag": ref.tag,
                "files": [{"path": str(p), "size": p.stat().st_size} for p in paths],
                "size": total,
            }
        )
    else:
        out.line(str(digest))
    out.note(f"pushed {_at(ref, digest)}: {_count(len(paths), 'file')}, {transfer.summary(total)}")
    return 0


def cmd_pull(args: Any, session: Session, out: Output) -> int:
    ref = parse_reference(args.reference, tag_or_digest="required", both=True)
    directory = Path(args.output)
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"--output {str(directory)!r}: not a directory")
    directory.mkdir(parents=True, exist_ok=True)
    client = session.client(ref)
    with out.transfer(f"pull {display(ref)}") as transfer:
        pulled = client.pull_artifact(
            ref.repository,
            ref.tag_or_digest or "",
            directory,
            platform=args.platform,
            max_concurrency=args.concurrency,
            progress_hook=transfer.hook,
        )
    size = sum(f.descriptor.size for f in pulled.files)
    if out.json_mode:
        out.json(
            {
                "digest": str(pulled.digest),
                "directory": str(directory),
                "files": [
                    {
                        "path": str(f.path),
                        "digest": str(f.descriptor.digest),
                        "size": f.descriptor.size,
                        "media_type": f.descriptor.media_type,
                    }
                    for f in pulled.files
                ],
            }
        )
    else:
        for f in pulled.files:
            out.line(str(f.path))
    out.note(
        f"pulled {_at(ref, pulled.digest)} into {directory}{os.sep}: "
        f"{_count(len(pulled.files), 'file')}, {transfer.summary(size)}"
    )
    return 0


def cmd_copy(args: Any, session: Session, out: Output) -> int:
    from .. import copy_artifact

    source = parse_reference(args.source, what="source", tag_or_digest="required", both=True)
    target = parse_reference(args.destination, what="destination")
    if target.digest is not None:
        raise UsageError(
            f"destination {args.destination!r}: the digest is the source's; give REPOSITORY[:TAG]"
        )
    if args.to_registry is not None:
        if target.registry is not None:
            raise UsageError("--to-registry and a registry in the destination: give one")
        target = Reference(target.repository, registry=None, tag=target.tag)
        dst_client = session.client_for_endpoint(args.to_registry)
    else:
        dst_client = session.client(target)
    src_client = session.client(source)
    if (
        session.same_registry(src_client, dst_client)
        and source.repository == target.repository
        and (target.tag is None or target.tag == source.tag)
    ):
        raise UsageError("source and destination are the same")
    tags = [target.tag] if target.tag is not None else None
    with out.transfer(f"copy {display(source)}") as transfer:
        digest = copy_artifact(
            (src_client, source.repository),
            source.tag_or_digest or "",
            (dst_client, target.repository),
            tags=tags,
            include_referrers=args.include_referrers,
            max_concurrency=args.concurrency,
            progress_hook=transfer.hook,
        )
    shown_tag = target.tag or (source.tag if source.digest is None else None)
    where = target.repository + (f":{shown_tag}" if shown_tag else "")
    if not session.same_registry(src_client, dst_client):
        where = f"{dst_client.endpoint}/{where}"
    if out.json_mode:
        out.json(
            {
                "digest": str(digest),
                "source": display(source),
                "destination": where,
                "size": transfer.done,
            }
        )
    else:
        out.line(str(digest))
    how = (
        "blobs mounted where possible"
        if session.same_registry(src_client, dst_client)
        else ("blobs streamed")
    )
    out.note(f"copied {display(source)} to {where}@{digest}: {transfer.summary()}, {how}")
    return 0


COMMANDS: dict[str, Command] = {
    "repos": cmd_repos,
    "tags": cmd_tags,
    "manifests": cmd_manifests,
    "show": cmd_show,
    "referrers": cmd_referrers,
    "lock": cmd_lock,
    "unlock": cmd_unlock,
    "delete": cmd_delete,
    "push": cmd_push,
    "pull": cmd_pull,
    "copy": cmd_copy,
}
