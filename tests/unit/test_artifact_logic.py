"""The pure decisions behind whole artifacts (``azurecr._artifact_logic``): titles and file
names, platforms, push plans, progress over many blobs, referrers and their fallback index."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path

import pytest

from azurecr import ArtifactFile, Digest, OciDescriptor, OciImageIndex, OciPlatform
from azurecr import _artifact_logic as alogic
from azurecr._oci_models import OciImageManifest

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64


def descriptor(digest: str = D1, **kw: object) -> OciDescriptor:
    return OciDescriptor(media_type="application/octet-stream", digest=digest, size=3, **kw)


@pytest.mark.parametrize("title", ["a", "a.txt", "dir/file", "a b", "ünï"])
def test_safe_titles(title: str) -> None:
    assert alogic.check_title(title) == title


@pytest.mark.parametrize(
    "title", ["", "/etc/passwd", "../x", "a/../../x", "a/./b", "a/", "a\\b", "a\x00b", "."]
)
def test_unsafe_titles_are_refused(title: str) -> None:
    with pytest.raises(ValueError):
        alogic.check_title(title)


def test_pull_targets_use_titles_or_digests_and_refuse_collisions() -> None:
    manifest = OciImageManifest(
        config=descriptor(),
        layers=[
            descriptor(D1, annotations={"org.opencontainers.image.title": "x.bin"}),
            descriptor(D2),
        ],
    )
    names = [name for _, name in alogic.pull_targets(manifest)]
    assert names == ["x.bin", "sha256-" + "2" * 64]
    twice = OciImageManifest(
        config=descriptor(),
        layers=[
            descriptor(D1, annotations={"org.opencontainers.image.title": "x"}),
            descriptor(D2, annotations={"org.opencontainers.image.title": "x"}),
        ],
    )
    with pytest.raises(ValueError, match="'x'"):
        alogic.pull_targets(twice)
    evil = OciImageManifest(
        config=descriptor(),
        layers=[descriptor(D1, annotations={"org.opencontainers.image.title": "../../.bashrc"})],
    )
    with pytest.raises(ValueError):
        alogic.pull_targets(evil)


def test_parse_platform() -> None:
    p = alogic.parse_platform("linux/arm64/v8")
    assert (p.os, p.architecture, p.variant) == ("linux", "arm64", "v8")
    assert alogic.parse_platform(None).os  # this machine
    for bad in ("linux", "linux/", "a/b/c/d", "/amd64"):
        with pytest.raises(ValueError):
            alogic.parse_platform(bad)
    with pytest.raises(TypeError):
        alogic.parse_platform(5)  # type: ignore[arg-type]


def _index(*platforms: tuple[str, str, str | None]) -> OciImageIndex:
    return OciImageIndex(
        manifests=[
            descriptor(
                "sha256:" + f"{i:064x}",
                platform=OciPlatform(os=o, architecture=a, variant=v),
            )
            for i, (o, a, v) in enumerate(platforms)
        ]
    )


def test_select_manifest_matches_os_architecture_and_variant() -> None:
    index = _index(
        ("linux", "amd64", None),
        ("linux", "arm", "v6"),
        ("linux", "arm", "v7"),
        ("linux", "arm64", None),
    )
    pick = lambda text: alogic.select_manifest(index, alogic.parse_platform(text)).digest  # noqa: E731
    assert pick("linux/amd64") == index.manifests[0].digest
    assert pick("linux/arm/v7") == index.manifests[2].digest
    assert pick("linux/arm") == index.manifests[1].digest  # first of the architecture
    assert pick("linux/arm64/v8") == index.manifests[3].digest  # arm64 means v8
    with pytest.raises(LookupError, match="linux/amd64, linux/arm/v6"):
        pick("windows/amd64")


def test_plan_push_defaults_to_the_empty_config_and_an_artifact_type(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"abc")
    plan = alogic.plan_push(
        [tmp_path / "a.txt", ArtifactFile(b"xy", title="b")],
        config=None,
        config_media_type=None,
        artifact_type=None,
        annotations=None,
    )
    assert plan.config.data == b"{}" and plan.config.media_type == alogic.EMPTY_MEDIA_TYPE
    assert plan.artifact_type == alogic.UNKNOWN_ARTIFACT_TYPE
    assert [job.annotations for job in plan.layers] == [
        {"org.opencontainers.image.title": "a.txt"},
        {"org.opencontainers.image.title": "b"},
    ]
    assert plan.total == 2 + 3 + 2


def test_plan_push_with_a_config_mapping() -> None:
    plan = alogic.plan_push(
        [], config={"b": 1, "a": "é"}, config_media_type=None, artifact_type=None, annotations=None
    )
    assert json.loads(plan.config.data or b"") == {"b": 1, "a": "é"}
    assert plan.config.media_type == alogic.DEFAULT_CONFIG_MEDIA_TYPE
    assert plan.artifact_type is None


def test_plan_push_refuses_bad_files(tmp_path: Path) -> None:
    kw = dict(config=None, config_media_type=None, artifact_type=None, annotations=None)
    with pytest.raises(FileNotFoundError):
        alogic.plan_push([tmp_path / "nope"], **kw)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="regular file"):
        alogic.plan_push([tmp_path], **kw)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        alogic.plan_push(str(tmp_path), **kw)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="config_media_type needs a config"):
        alogic.plan_push(
            [], config=None, config_media_type="a/b", artifact_type=None, annotations=None
        )


def test_progress_sums_parts_from_many_threads_and_never_counts_a_restart_twice() -> None:
    seen: list[tuple[int, int | None]] = []
    progress = alogic.Progress(4000, lambda done, total: seen.append((done, total)))

    def blob() -> None:
        part = progress.part()
        for done in range(0, 1001, 10):
            part(done, 1000)
        part(500, 1000)  # a restart reports less: nothing is subtracted or added
        part(1000, 1000)

    threads = [threading.Thread(target=blob) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert progress.done == 4000
    assert max(done for done, _ in seen) == 4000
    assert all(total == 4000 for _, total in seen)


def test_referrers_tag_and_filters() -> None:
    assert alogic.referrers_tag(D1) == "sha256-" + "1" * 64
    items = [descriptor(D1, artifact_type="a/sig"), descriptor(D2, artifact_type="a/sbom")]
    assert [d.digest for d in alogic.filter_referrers(items, "a/sbom")] == [D2]
    assert alogic.filter_referrers(items, None) == items
    assert alogic.filters_applied("artifactType")
    assert alogic.filters_applied("foo, ARTIFACTTYPE")
    assert not alogic.filters_applied(None) and not alogic.filters_applied("annotation")


def test_with_referrer_adds_once() -> None:
    first = alogic.with_referrer(None, descriptor(D1))
    assert first is not None and [d.digest for d in first.manifests] == [D1]
    assert alogic.with_referrer(first, descriptor(D1)) is None
    second = alogic.with_referrer(first, descriptor(D2))
    assert second is not None and [d.digest for d in second.manifests] == [D1, D2]


def test_unacknowledged_subject() -> None:
    subject = descriptor(D1)
    manifest = OciImageManifest(
        config=descriptor(D2), layers=[], artifact_type="a/sig", subject=subject
    )
    content = json.dumps(manifest.to_json()).encode()
    media_type = "application/vnd.oci.image.manifest.v1+json"
    found = alogic.unacknowledged_subject(content, media_type, None)
    assert found is not None
    got_subject, referrer = found
    assert got_subject.digest == D1
    assert referrer.digest == Digest.of(content) and referrer.artifact_type == "a/sig"
    # the registry said OCI-Subject: it indexes referrers itself
    assert alogic.unacknowledged_subject(content, media_type, D1) is None
    plain = json.dumps(OciImageManifest(config=descriptor(D2), layers=[]).to_json()).encode()
    assert alogic.unacknowledged_subject(plain, media_type, None) is None


def test_default_tags() -> None:
    assert alogic.default_tags("v1", None) == ["v1"]
    assert alogic.default_tags(D1, None) == []
    assert alogic.default_tags("v1", ["a", "b"]) == ["a", "b"]
    with pytest.raises(TypeError):
        alogic.default_tags("v1", "a")
    with pytest.raises(ValueError):
        alogic.default_tags("v1", ["bad tag"])


class _BytesRemote(alogic.RemotePosition):
    """RemotePosition over in-memory 'streams', counting how often one was opened."""

    def __init__(self, data: bytes) -> None:
        super().__init__(len(data))
        self.data = data
        self.opened = 0
        self.stream: io.BytesIO | None = None

    def read(self, n: int = -1) -> bytes:
        if self.must_reopen(self.stream is not None):
            self.opened += 1
            self.stream = io.BytesIO(self.data)
        assert self.stream is not None
        while (want := self.to_skip()) > 0 and self.skipped(len(self.stream.read(want))):
            pass
        chunk = self.stream.read(n)
        self.delivered(len(chunk))
        return chunk


def test_remote_position_resumes_forward_by_skipping_and_backward_by_reopening() -> None:
    data = bytes(range(256)) * 20_000  # 5 MB: the skip goes in 1 MiB pieces
    remote = _BytesRemote(data)
    assert remote.seekable() and remote.seek(0, io.SEEK_END) == len(data)
    remote.seek(0)
    assert remote.read(10) == data[:10] and remote.opened == 1
    remote.seek(3_000_000)  # the registry holds more than we sent: skip ahead
    assert remote.read(7) == data[3_000_000:3_000_007] and remote.opened == 1
    assert remote.tell() == 3_000_007
    remote.seek(100)  # the session restarted lower: a new stream from the start
    assert remote.read(5) == data[100:105] and remote.opened == 2
    remote.seek(len(data) + 10)  # past the end: nothing, not an endless loop
    assert remote.read(5) == b""
