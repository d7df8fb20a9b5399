#!/usr/bin/env python3
"""A walk through azurecr's main job, with readable output; also a check (exit 1 on failure).

    scripts/demo.sh                          # embedded default: the local test bed
    scripts/demo.sh myregistry.azurecr.io    # the same walk against a real registry

Without an endpoint it starts the local test bed (CNCF distribution + the ACR-compatible
service on 127.0.0.1, TLS from a throwaway CA) and signs in as its admin user. With one,
it signs in with --username/--password (or CONTAINER_REGISTRY_USERNAME / _PASSWORD), else
DefaultAzureCredential, works only in new repositories under ``azurecr-demo/<random>/`` and
deletes only those.

Steps: connect; push an artifact (config, two layers, annotations, tag); push two images
and a multi-platform index; list repositories, tags and manifests; lock a tag and see its
delete refused; pull back with verified digests; attach and list a referrer; clean up;
stop the test bed. Every step checks what it shows.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import secrets
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

REPO_ROOT = Path(__file__).resolve().parents[1]
STEPS = 9

CONFIG_MEDIA_TYPE = "application/vnd.azurecr.demo.config.v1+json"
TEXT_MEDIA_TYPE = "text/plain"
DATA_MEDIA_TYPE = "application/octet-stream"
SIGNATURE_TYPE = "application/vnd.azurecr.demo.signature.v1"
LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
PLATFORMS = (("linux", "amd64", None), ("linux", "arm64", "v8"))


class DemoError(Exception):
    """A step did not see what it expected."""


def check(condition: object, message: str) -> None:
    if not condition:
        raise DemoError(message)


class Steps:
    """The numbered headings; remembers the current step for the failure message."""

    def __init__(self) -> None:
        self.number = 0
        self.title = ""

    def begin(self, title: str) -> None:
        self.number += 1
        self.title = title
        out()
        out(f"== Step {self.number}/{STEPS}: {title}")


# ----------------------------------------------------------------------------- output
def out(text: str = "") -> None:
    print(text, flush=True)


def short(digest: object) -> str:
    text = str(digest)
    algorithm, _, encoded = text.partition(":")
    return f"{algorithm}:{encoded[:12]}…" if encoded else text


def size(n: Optional[int]) -> str:
    if n is None:
        return "?"
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n / 1024 / 1024:.1f} MiB"


def when(value: Optional[datetime]) -> str:
    if value is None:
        return "-"
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def platform_of(props: Any) -> str:
    """``os/architecture`` of manifest properties (enum members or plain strings)."""
    if props.architecture is None:
        return "(no platform)"
    parts = (props.operating_system, props.architecture)
    return "/".join(str(getattr(p, "value", p)) for p in parts)


def flags(props: Any) -> str:
    return (
        f"delete={'yes' if props.can_delete else 'NO'} "
        f"write={'yes' if props.can_write else 'NO'} "
        f"read={'yes' if props.can_read else 'NO'} list={'yes' if props.can_list else 'NO'}"
    )


# ----------------------------------------------------------------------------- content
def layer_tar(platform: str) -> bytes:
    """A tiny, reproducible root file system: /hello.txt."""
    text = f"hello from {platform}\n".encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size = len(text)
        info.mtime = 0
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(text))
    return buffer.getvalue()


# ----------------------------------------------------------------------------- the walk
class Demo:
    def __init__(self, client: Any, prefix: str, workdir: Path, embedded: bool) -> None:
        self.client = client
        self.prefix = prefix
        self.workdir = workdir
        self.embedded = embedded
        self.artifact_repo = f"{prefix}/hello-artifact"
        self.image_repo = f"{prefix}/hello-image"
        self.created: list[str] = []
        self.locked = False
        # filled in as the walk goes
        self.originals: dict[str, bytes] = {}
        self.artifact_digest = ""
        self.image_digests: dict[str, str] = {}
        self.image_layers: dict[str, bytes] = {}
        self.index_digest = ""

    # 1 ------------------------------------------------------------------------------
    def connect(self, how: str) -> None:
        started = time.monotonic()
        self.client.ping()
        out(f"   GET /v2/ answered ({how}) in {time.monotonic() - started:.2f} s")
        out(f"   working in new repositories under {self.prefix}/")

    # 2 ------------------------------------------------------------------------------
    def push_artifact(self) -> None:
        from azurecr import ArtifactFile

        src = self.workdir / "src"
        src.mkdir()
        readme = src / "readme.txt"
        readme.write_text("azurecr demo: this file travels as a layer of an OCI artifact\n")
        data = src / "data.bin"
        data.write_bytes(secrets.token_bytes(300 * 1024))
        self.originals = {p.name: p.read_bytes() for p in (readme, data)}
        config = {"demo": "azurecr", "created": datetime.now(timezone.utc).isoformat()}
        annotations = {
            "org.opencontainers.image.description": "azurecr demo artifact",
            "org.opencontainers.image.source": "https://github.com/azurecr/demo",
        }
        digest = self.client.push_artifact(
            self.artifact_repo,
            [ArtifactFile(readme, media_type=TEXT_MEDIA_TYPE), ArtifactFile(data)],
            config=config,
            config_media_type=CONFIG_MEDIA_TYPE,
            annotations=annotations,
            tag="v1",
        )
        self.created.append(self.artifact_repo)
        self.artifact_digest = str(digest)
        out(f"   pushed {self.artifact_repo}:v1 -> {short(digest)}")

        result = self.client.get_manifest(self.artifact_repo, "v1")
        check(result.digest == digest, f"v1 resolves to {result.digest}, not {digest}")
        manifest = result.model
        out(f"   manifest  {result.media_type}  {size(len(result.content))}")
        out(f"   config    {manifest.config.media_type:<40} {short(manifest.config.digest)}")
        check(manifest.config.media_type == CONFIG_MEDIA_TYPE, "config media type lost")
        check(
            manifest.config.digest == sha256(json.dumps(config, separators=(",", ":")).encode()),
            "the config blob is not the JSON that was given",
        )
        for layer in manifest.layers:
            title = layer.annotations.title if layer.annotations else None
            out(
                f"   layer     {layer.media_type:<40} {short(layer.digest)}  "
                f"{size(layer.size):>9}  {title}"
            )
            check(title in self.originals, f"layer {layer.digest} has no known title")
            check(
                layer.digest == sha256(self.originals[title]),
                f"layer {title} has digest {layer.digest}, not the file's",
            )
        check(len(manifest.layers) == 2, f"expected 2 layers, got {len(manifest.layers)}")
        got = dict(manifest.annotations.to_json()) if manifest.annotations else {}
        for key, value in annotations.items():
            check(got.get(key) == value, f"annotation {key} lost")
            out(f"   annotation {key} = {value}")

    # 3 ------------------------------------------------------------------------------
    def push_multi_platform(self) -> None:
        from azurecr import ArtifactFile, OciDescriptor, OciImageIndex, OciPlatform

        entries = []
        for os_name, arch, variant in PLATFORMS:
            platform = f"{os_name}/{arch}"
            layer = layer_tar(platform)
            config = {
                "architecture": arch,
                "os": os_name,
                **({"variant": variant} if variant else {}),
                "config": {"Cmd": ["cat", "/hello.txt"]},
                "rootfs": {"type": "layers", "diff_ids": [sha256(layer)]},
            }
            digest = self.client.push_artifact(
                self.image_repo,
                [ArtifactFile(layer, title="rootfs.tar", media_type=LAYER_TAR)],
                config=config,
            )
            if self.image_repo not in self.created:
                self.created.append(self.image_repo)
            content = self.client.get_manifest(self.image_repo, digest).content
            self.image_digests[platform] = str(digest)
            self.image_layers[platform] = layer
            out(f"   image {platform:<12} {short(digest)}  (config + 1 layer, {size(len(layer))})")
            entries.append(
                OciDescriptor(
                    media_type=OCI_MANIFEST,
                    digest=digest,
                    size=len(content),
                    platform=OciPlatform(os=os_name, architecture=arch, variant=variant),
                )
            )
        index = OciImageIndex(
            manifests=entries,
            annotations={"org.opencontainers.image.description": "azurecr demo image"},
        )
        self.index_digest = str(self.client.set_manifest(self.image_repo, index, tag="multi"))
        out(f"   index {self.image_repo}:multi -> {short(self.index_digest)}")
        got = self.client.get_manifest(self.image_repo, "multi")
        check(got.digest == self.index_digest, "the tag multi does not point at the index")
        platforms = [
            f"{d.platform.os}/{d.platform.architecture}" for d in got.model.manifests if d.platform
        ]
        check(platforms == ["linux/amd64", "linux/arm64"], f"index platforms: {platforms}")
        out(f"   index platforms: {', '.join(platforms)}")

    # 4 ------------------------------------------------------------------------------
    def list_everything(self) -> None:
        names = list(self.client.list_repository_names())
        ours = sorted(n for n in names if n.startswith(self.prefix + "/"))
        others = len(names) - len(ours)
        out(
            f"   repositories ({len(ours)} of ours" + (f", {others} others" if others else "") + ")"
        )
        check(ours == sorted(self.created), f"repositories {ours}, expected {self.created}")
        for name in ours:
            props = self.client.get_repository_properties(name)
            out(
                f"     {name}: {plural(props.manifest_count, 'manifest')}, "
                f"{plural(props.tag_count, 'tag')}, "
                f"created {when(props.created_on)}"
            )

        for name in ours:
            out(f"   tags of {name}")
            tags = list(self.client.list_tag_properties(name))
            for tag in tags:
                out(
                    f"     {tag.name:<6} -> {short(tag.digest)}  updated "
                    f"{when(tag.last_updated_on)}  {flags(tag)}"
                )
            expected = ["v1"] if name == self.artifact_repo else ["multi"]
            check([t.name for t in tags] == expected, f"tags of {name}: {[t.name for t in tags]}")

        for name in ours:
            out(f"   manifests of {name}")
            manifests = list(self.client.list_manifest_properties(name))
            for m in manifests:
                platform = platform_of(m)
                kind = (m.media_type or "?").rsplit(".", 2)[-2]
                out(
                    f"     {short(m.digest)}  {kind:<8} {size(m.size_in_bytes):>9}  "
                    f"{platform:<13}  tags={','.join(m.tags) or '-'}  "
                    f"created {when(m.created_on)}"
                )
            digests = {m.digest for m in manifests}
            if name == self.artifact_repo:
                check(self.artifact_digest in digests, "the artifact is not listed")
            else:
                want = {self.index_digest, *self.image_digests.values()}
                check(want <= digests, f"missing manifests in {name}: {want - digests}")
                archs = {
                    platform_of(m) for m in manifests if m.digest in self.image_digests.values()
                }
                check(
                    archs == {"linux/amd64", "linux/arm64"},
                    f"the registry reports the platforms {sorted(archs)}",
                )
                index = next(m for m in manifests if m.digest == self.index_digest)
                check(index.tags == ["multi"], f"the index is tagged {index.tags}")
                related = {r.digest for r in index.related_artifacts}
                if related:  # ACR lists an index's references; a plain registry may not
                    check(related == set(self.image_digests.values()), "wrong index references")
                    out(f"     the index references {plural(len(related), 'manifest')}")

    # 5 ------------------------------------------------------------------------------
    def lock_and_refuse(self) -> None:
        from azure.core.exceptions import HttpResponseError

        repo = self.artifact_repo
        props = self.client.update_tag_properties(repo, "v1", can_delete=False, can_write=False)
        self.locked = True
        out(f"   locked {repo}:v1: {flags(props)}")
        check(not props.can_delete and not props.can_write, "the lock did not take")
        try:
            self.client.delete_tag(repo, "v1")
        except HttpResponseError as exc:
            out(f"   delete_tag refused: HTTP {exc.status_code} {first_line(exc)}")
        else:
            raise DemoError("the registry deleted a locked tag (delete_tag was not refused)")
        check(
            self.client.get_tag_properties(repo, "v1").digest == self.artifact_digest,
            "the locked tag moved or vanished",
        )
        out("   v1 is still there, pointing at the same manifest")
        props = self.client.update_tag_properties(repo, "v1", can_delete=True, can_write=True)
        self.locked = False
        check(props.can_delete and props.can_write, "the unlock did not take")
        out(f"   unlocked {repo}:v1: {flags(props)}")

    # 6 ------------------------------------------------------------------------------
    def pull_back(self) -> None:
        target = self.workdir / "pulled"
        pulled = self.client.pull_artifact(self.artifact_repo, "v1", target)
        check(pulled.digest == self.artifact_digest, f"pulled {pulled.digest}")
        out(f"   pulled {self.artifact_repo}:v1 ({short(pulled.digest)}) into {target}")
        check(len(pulled.files) == len(self.originals), "not every layer was written")
        for f in pulled.files:
            data = f.path.read_bytes()
            original = self.originals.get(f.path.name)
            check(data == original, f"{f.path.name} differs from the file pushed")
            check(sha256(data) == f.descriptor.digest, f"{f.path.name}: digest mismatch")
            out(
                f"   verified {f.path.name:<10} {size(len(data)):>9}  {short(f.descriptor.digest)}"
                "  (same bytes as pushed)"
            )

        target = self.workdir / "arm64"
        pulled = self.client.pull_artifact(self.image_repo, "multi", target, platform="linux/arm64")
        want = self.image_digests["linux/arm64"]
        check(pulled.digest == want, f"the index resolved to {pulled.digest}, not {want}")
        out(f"   pulled {self.image_repo}:multi for linux/arm64 -> {short(pulled.digest)}")
        for f in pulled.files:
            data = f.path.read_bytes()
            check(data == self.image_layers["linux/arm64"], "the arm64 layer differs")
            with tarfile.open(f.path) as tar:
                member = tar.extractfile("hello.txt")
                hello = member.read().decode().strip() if member else ""
            check(hello == "hello from linux/arm64", f"hello.txt says {hello!r}")
            out(f"   verified {f.path.name:<10} {size(len(data)):>9}  {short(f.descriptor.digest)}")
            out(f"   its hello.txt says: {hello}")

    # 7 ------------------------------------------------------------------------------
    def referrers(self) -> None:
        from azurecr import ArtifactFile

        signature = json.dumps({"signed": self.artifact_digest, "by": "azurecr demo"}).encode()
        digest = self.client.push_artifact(
            self.artifact_repo,
            [ArtifactFile(signature, title="signature.json", media_type="application/json")],
            artifact_type=SIGNATURE_TYPE,
            subject="v1",
        )
        out(f"   pushed a signature {short(digest)} with subject {self.artifact_repo}:v1")
        found = list(self.client.list_referrers(self.artifact_repo, self.artifact_digest))
        for d in found:
            out(f"   referrer {short(d.digest)}  {d.artifact_type}  {size(d.size)}")
        check(
            any(d.digest == digest and d.artifact_type == SIGNATURE_TYPE for d in found),
            f"list_referrers does not show the signature: {[str(d.digest) for d in found]}",
        )

    # 8 ------------------------------------------------------------------------------
    def clean_up(self) -> None:
        from azure.core.exceptions import ResourceNotFoundError

        for name in list(self.created):
            self.client.delete_repository(name)
            self.created.remove(name)
            out(f"   deleted repository {name}")
        names = set(self.client.list_repository_names())
        for name in (self.artifact_repo, self.image_repo):
            check(name not in names, f"{name} is still listed")
            try:
                self.client.get_repository_properties(name)
            except ResourceNotFoundError:
                pass
            else:
                raise DemoError(f"{name} still exists")
        out(f"   no repository under {self.prefix}/ is left")

    def best_effort_cleanup(self) -> None:
        """After a failure: unlock and delete what this run created (errors ignored)."""
        for name in list(self.created):
            try:
                if self.locked and name == self.artifact_repo:
                    self.client.update_tag_properties(name, "v1", can_delete=True, can_write=True)
                self.client.delete_repository(name)
                out(f"   (cleanup) deleted repository {name}")
            except Exception as exc:  # noqa: BLE001 - reported, the original error matters
                out(f"   (cleanup) could not delete {name}: {first_line(exc)}")


# ----------------------------------------------------------------------------- main
def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/demo.sh",
        description="Walk through azurecr against the local test bed (default) or a registry.",
    )
    parser.add_argument(
        "endpoint_arg", nargs="?", metavar="ENDPOINT", help="a registry, e.g. myreg.azurecr.io"
    )
    parser.add_argument("--endpoint", help="same as ENDPOINT")
    parser.add_argument(
        "--username",
        default=os.environ.get("CONTAINER_REGISTRY_USERNAME"),
        help="admin user or token name (default $CONTAINER_REGISTRY_USERNAME); "
        "without it, DefaultAzureCredential",
    )
    parser.add_argument(
        "--password",
        default=os.environ.get("CONTAINER_REGISTRY_PASSWORD"),
        help="its password (default $CONTAINER_REGISTRY_PASSWORD)",
    )
    parser.add_argument(
        "--ca-bundle",
        default=os.environ.get("CONTAINER_REGISTRY_CA_BUNDLE"),
        help="a CA bundle to trust (private registries)",
    )
    parser.add_argument(
        "--retries", type=int, default=None, help="retries per request (default: azure-core's)"
    )
    args = parser.parse_args(argv)
    if args.endpoint and args.endpoint_arg and args.endpoint != args.endpoint_arg:
        parser.error("give the endpoint once")
    args.endpoint = args.endpoint or args.endpoint_arg
    if args.username and not args.password:
        parser.error("--username needs --password (or $CONTAINER_REGISTRY_PASSWORD)")
    return args


@contextmanager
def registry(args: argparse.Namespace, workdir: Path) -> Iterator[tuple[Any, str, str]]:
    """(client, description of the sign-in, repository prefix); the test bed, if started,
    is stopped on the way out (step 9 reports it)."""
    from azure.core.credentials import AzureNamedKeyCredential

    from azurecr import ContainerRegistryClient

    options: dict[str, Any] = {}
    if args.retries is not None:
        options["retry_total"] = args.retries
    if args.endpoint is None:
        sys.path.insert(0, str(REPO_ROOT))
        from tests.testbed import TestBed

        out("   starting the local test bed (docker-registry + ACR-compatible service)…")
        bed = TestBed.start(workdir / "testbed")
        try:
            out(f"   test bed up: {bed.endpoint}  (registry {bed.registry_url}, CA {bed.ca_path})")
            credential = AzureNamedKeyCredential(bed.admin_username, bed.admin_password)
            with ContainerRegistryClient(
                bed.endpoint, credential, connection_verify=bed.ca_path, **options
            ) as client:
                yield client, f"admin user {bed.admin_username}, token exchange", "demo"
        finally:
            bed.stop()
        return
    if args.ca_bundle:
        options["connection_verify"] = args.ca_bundle
    if args.username:
        credential: Any = AzureNamedKeyCredential(args.username, args.password)
        how = f"user {args.username}"
    else:
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential()
        how = "DefaultAzureCredential (AAD)"
    prefix = f"azurecr-demo/{secrets.token_hex(4)}"
    with ContainerRegistryClient(args.endpoint, credential, **options) as client:
        yield client, how, prefix


def run(args: argparse.Namespace, steps: Steps) -> None:
    started = time.monotonic()
    out(f"azurecr demo against {args.endpoint or 'the embedded test bed'}")
    with tempfile.TemporaryDirectory(prefix="azurecr-demo-") as tmp:
        workdir = Path(tmp)
        steps.begin("Connect to the registry")
        with registry(args, workdir) as (client, how, prefix):
            bed_pids = _bed_pids(workdir)
            demo = Demo(client, prefix, workdir, embedded=args.endpoint is None)
            try:
                out(f"   endpoint {client.endpoint}")
                demo.connect(how)
                steps.begin("Push an artifact: JSON config, two layers, annotations, tag v1")
                demo.push_artifact()
                steps.begin("Push a multi-platform image: linux/amd64 + linux/arm64 in an index")
                demo.push_multi_platform()
                steps.begin("List repositories, tags and manifests with their properties")
                demo.list_everything()
                steps.begin("Lock tag v1 and watch its delete be refused")
                demo.lock_and_refuse()
                steps.begin("Pull back with verified digests")
                demo.pull_back()
                steps.begin("Attach a signature (subject) and list the referrers")
                demo.referrers()
                steps.begin("Clean up")
                demo.clean_up()
            finally:
                if demo.created:  # a step failed: remove what this run made
                    demo.best_effort_cleanup()
            steps.begin("Stop the test bed" if demo.embedded else "Close the client")
        # leaving registry() closed the client and stopped the test bed, if any
        if demo.embedded:
            alive = [pid for pid in bed_pids if _alive(pid)]
            check(bed_pids and not alive, f"test bed processes still running: {alive}")
            out(f"   test bed stopped (processes {', '.join(map(str, bed_pids))} gone)")
        else:
            out("   client closed (the registry keeps running; nothing of this run is left)")
    out()
    out(f"demo finished: all {STEPS} steps passed in {time.monotonic() - started:.1f} s")


def _bed_pids(workdir: Path) -> tuple[int, ...]:
    try:
        info = json.loads((workdir / "testbed" / "testbed.json").read_text())
    except (OSError, ValueError):
        return ()
    return tuple(p for p in (info.get("pid"), info.get("registry_pid")) if isinstance(p, int))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main(argv: Optional[list[str]] = None) -> int:
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="replace")
    args = parse_args(argv)
    steps = Steps()
    try:
        run(args, steps)
    except KeyboardInterrupt:
        print(f"demo interrupted in step {steps.number}", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - one readable line, not a traceback
        what = (
            str(exc) if isinstance(exc, DemoError) else f"{type(exc).__name__}: {first_line(exc)}"
        )
        print(
            f"demo FAILED in step {steps.number}/{STEPS} ({steps.title}): {what}", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
