"""Whole artifacts against the real test bed (sync client): push and pull round trips,
concurrency the service observes, copies within one registry (mounts) and across two
(streamed, bounded memory), multi-platform indexes, and OCI 1.1 referrers through the API
and through the tag-schema fallback of a plain registry."""

from __future__ import annotations

import os
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

import azurecr
from azurecr import ArtifactFile, DigestValidationError, OciImageIndex, OciImageManifest
from tests.testbed import TestBed

from ._clients import TestbedCredential
from ._content import push_image, push_index, unique_repository

MiB = 1024 * 1024
SIZES = {"empty.bin": 0, "small.bin": MiB, "large.bin": 30 * MiB}


def make_client(bed: TestBed) -> azurecr.ContainerRegistryClient:
    return azurecr.ContainerRegistryClient(
        bed.endpoint, TestbedCredential(bed), connection_verify=bed.ca_path
    )


@pytest.fixture
def client(testbed: TestBed) -> Iterator[azurecr.ContainerRegistryClient]:
    with make_client(testbed) as c:
        yield c


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("artifact")
    out = {}
    for name, size in SIZES.items():
        path = root / name
        path.write_bytes(os.urandom(size))
        out[name] = path
    return out


def blob_bytes_sent(traffic: list[dict]) -> int:
    return sum(
        t["body_bytes"]
        for t in traffic
        if t["method"] in ("PATCH", "PUT") and "/blobs/uploads/" in t["path"]
    )


# ----------------------------------------------------------------------------- push / pull
@pytest.mark.parametrize("max_concurrency", [2, 4])
def test_push_pull_round_trip(
    testbed: TestBed,
    client: azurecr.ContainerRegistryClient,
    files: dict[str, Path],
    tmp_path: Path,
    max_concurrency: int,
) -> None:
    repo = unique_repository("artifacts")
    progress: list[tuple[int, int | None]] = []
    testbed.upload_stats(clear=True)
    digest = client.push_artifact(
        repo,
        list(files.values()),
        artifact_type="application/vnd.example.bundle",
        annotations={"org.opencontainers.image.description": "three files"},
        tag="v1",
        max_concurrency=max_concurrency,
        progress_hook=lambda done, total: progress.append((done, total)),
    )
    stats = testbed.upload_stats(clear=True)
    # the blobs went up concurrently, never more at once than asked
    assert 1 < stats["max_open_sessions"] <= max_concurrency
    total = sum(SIZES.values()) + 2  # the files and the empty config "{}"
    assert progress[-1] == (total, total)
    assert [d for d, _ in progress] == sorted(d for d, _ in progress)

    result = client.get_manifest(repo, "v1")
    assert result.digest == digest
    manifest = result.model
    assert isinstance(manifest, OciImageManifest)
    assert manifest.artifact_type == "application/vnd.example.bundle"
    assert manifest.config.media_type == "application/vnd.oci.empty.v1+json"
    assert [layer.annotations.title for layer in manifest.layers] == list(SIZES)

    pulled_progress: list[tuple[int, int | None]] = []
    pulled = client.pull_artifact(
        repo,
        "v1",
        tmp_path / "out",
        max_concurrency=max_concurrency,
        progress_hook=lambda done, total: pulled_progress.append((done, total)),
    )
    assert pulled.digest == digest
    assert [f.path.name for f in pulled.files] == list(SIZES)
    for f in pulled.files:
        assert f.path.read_bytes() == files[f.path.name].read_bytes()
    # nothing but the files: the staging directory is gone
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(SIZES)
    assert pulled_progress[-1] == (total - 2, total - 2)


def test_push_again_skips_blobs_the_registry_has(
    testbed: TestBed, client: azurecr.ContainerRegistryClient, files: dict[str, Path]
) -> None:
    repo = unique_repository("artifacts")
    first = client.push_artifact(repo, list(files.values()), tag="v1")
    testbed.traffic(clear=True)
    again = client.push_artifact(repo, list(files.values()), tag="v2")
    assert again == first
    sent = testbed.traffic(clear=True)
    assert blob_bytes_sent(sent) == 0
    assert not [t for t in sent if t["method"] == "POST" and "/blobs/uploads/" in t["path"]]


def test_push_bytes_config_and_subdirectory_titles(
    client: azurecr.ContainerRegistryClient, tmp_path: Path
) -> None:
    repo = unique_repository("artifacts")
    digest = client.push_artifact(
        repo,
        [
            ArtifactFile(b"hello", title="docs/readme.txt", media_type="text/plain"),
            ArtifactFile(b"{}", title="conf.json", annotations={"k": "v"}),
        ],
        config={"created": "today"},
        config_media_type="application/vnd.example.config+json",
    )
    manifest = client.get_manifest(repo, digest).model
    assert isinstance(manifest, OciImageManifest)
    assert manifest.artifact_type is None  # a config names the type
    assert manifest.config.media_type == "application/vnd.example.config+json"
    assert manifest.layers[0].media_type == "text/plain"
    assert manifest.layers[1].annotations.additional_properties == {"k": "v"}
    pulled = client.pull_artifact(repo, digest, tmp_path)
    assert (tmp_path / "docs" / "readme.txt").read_bytes() == b"hello"
    assert (tmp_path / "conf.json").read_bytes() == b"{}"
    assert len(pulled.files) == 2


def test_pull_chooses_the_platform_of_an_index(
    testbed: TestBed, client: azurecr.ContainerRegistryClient, tmp_path: Path
) -> None:
    repo = unique_repository("artifacts")
    amd = push_image(testbed, repo, layer=b"amd64 layer", arch="amd64")
    arm = push_image(testbed, repo, layer=b"arm64 layer", arch="arm64")
    push_index(testbed, repo, "multi", [(*amd, "amd64", "linux"), (*arm, "arm64", "linux")])

    pulled = client.pull_artifact(repo, "multi", tmp_path / "arm", platform="linux/arm64")
    assert pulled.digest == arm[0]
    assert [f.path.read_bytes() for f in pulled.files] == [b"arm64 layer"]
    # a layer without a title is named after its digest
    assert pulled.files[0].path.name == "sha256-" + pulled.files[0].descriptor.digest.encoded

    with pytest.raises(LookupError, match="linux/amd64, linux/arm64"):
        client.pull_artifact(repo, "multi", tmp_path / "s390x", platform="linux/s390x")
    assert not (tmp_path / "s390x").exists() or not any((tmp_path / "s390x").iterdir())


def test_a_pull_that_fails_verification_leaves_the_directory_as_it_was(
    testbed: TestBed,
    client: azurecr.ContainerRegistryClient,
    tamper: object,
    tmp_path: Path,
) -> None:
    repo = unique_repository("artifacts")
    client.push_artifact(repo, [ArtifactFile(os.urandom(3 * MiB), title="data.bin")], tag="t")
    out = tmp_path / "out"
    out.mkdir()
    (out / "data.bin").write_bytes(b"previous")
    testbed.set_tamper("blobs")
    with pytest.raises(DigestValidationError):
        client.pull_artifact(repo, "t", out)
    testbed.set_tamper(None)
    assert [p.name for p in out.iterdir()] == ["data.bin"]
    assert (out / "data.bin").read_bytes() == b"previous"


def test_a_pull_that_cannot_place_a_file_fetches_nothing(
    testbed: TestBed, client: azurecr.ContainerRegistryClient, tmp_path: Path
) -> None:
    repo = unique_repository("artifacts")
    client.push_artifact(repo, [ArtifactFile(b"x", title="docs/a.txt")], tag="t")
    (tmp_path / "docs").write_text("a file where a directory is needed")
    testbed.traffic(clear=True)
    with pytest.raises(NotADirectoryError):
        client.pull_artifact(repo, "t", tmp_path)
    assert not [t for t in testbed.traffic(clear=True) if "/blobs/" in t["path"]]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["docs"]


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda c, p: c.push_artifact("r", [p / "missing"]), FileNotFoundError),
        (lambda c, p: c.push_artifact("r", [p]), ValueError),  # a directory
        (lambda c, p: c.push_artifact("r", str(p)), TypeError),
        (lambda c, p: c.push_artifact("r", [ArtifactFile(b"x", title="../x")]), ValueError),
        (
            lambda c, p: c.push_artifact(
                "r", [ArtifactFile(b"x", title="a"), ArtifactFile(b"y", title="a")]
            ),
            ValueError,
        ),
        (lambda c, p: c.push_artifact("r", [], max_concurrency=0), ValueError),
        (lambda c, p: c.push_artifact("r", [], subject=3), TypeError),
        (lambda c, p: c.push_artifact("r", [], tag="bad tag"), ValueError),
        (lambda c, p: c.pull_artifact("r", "v1", p, platform="linux"), ValueError),
        (lambda c, p: c.pull_artifact("r", "v1", p / "f.txt"), NotADirectoryError),
        (lambda c, p: c.pull_artifact("R", "v1", p), ValueError),
        (lambda c, p: c.list_referrers("r", "sha256:12"), ValueError),
        (lambda c, p: azurecr.copy_artifact((c, "r"), "v1", ("x", "r")), TypeError),
        (lambda c, p: azurecr.copy_artifact((c, "r"), "v1", (c, "s"), tags="v2"), TypeError),
    ],
)
def test_bad_input_is_refused_before_any_request(
    testbed: TestBed, client: azurecr.ContainerRegistryClient, tmp_path: Path, call, error
) -> None:
    (tmp_path / "f.txt").write_text("a file")
    testbed.traffic(clear=True)
    with pytest.raises(error):
        result = call(client, tmp_path)
        list(result)  # list_referrers is lazy: the check must still come first
    assert testbed.traffic(clear=True) == []


# ----------------------------------------------------------------------------- copy
def test_copy_within_one_registry_mounts_blobs(
    testbed: TestBed, client: azurecr.ContainerRegistryClient, files: dict[str, Path]
) -> None:
    src, dst = unique_repository("copy-src"), unique_repository("copy-dst")
    digest = client.push_artifact(src, list(files.values()), tag="v1")
    testbed.traffic(clear=True)
    progress: list[tuple[int, int | None]] = []
    copied = azurecr.copy_artifact(
        (client, src), "v1", (client, dst), progress_hook=lambda d, t: progress.append((d, t))
    )
    assert copied == digest
    sent = testbed.traffic(clear=True)
    mounts = [t for t in sent if t["method"] == "POST" and "mount=" in t.get("query", "")]
    # every blob mounted at the first try: the token already covered reading the source
    assert [t["status"] for t in mounts] == [201] * (len(SIZES) + 1)
    assert blob_bytes_sent(sent) == 0
    assert not [t for t in sent if t["method"] == "GET" and "/blobs/" in t["path"]]
    assert client.get_manifest(dst, "v1").digest == digest
    total = sum(SIZES.values()) + 2
    assert progress[-1] == (total, total)


def test_copy_between_registries_streams_in_bounded_memory(
    testbed: TestBed, testbed2: TestBed, files: dict[str, Path]
) -> None:
    repo = unique_repository("copy")
    with make_client(testbed) as source, make_client(testbed2) as destination:
        digest = source.push_artifact(repo, list(files.values()), tag="v1")
        testbed2.traffic(clear=True)
        tracemalloc.start()
        try:
            copied = azurecr.copy_artifact(
                (source, repo), "v1", (destination, "mirror/" + repo), max_concurrency=1
            )
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert copied == digest
        # the 30 MiB blob went through in pieces: never held whole
        assert peak < SIZES["large.bin"] // 4, peak
        assert blob_bytes_sent(testbed2.traffic(clear=True)) == sum(SIZES.values()) + 2
        result = destination.get_manifest("mirror/" + repo, "v1")
        assert result.digest == digest
        for layer in result.model.layers:
            assert destination.blob_exists("mirror/" + repo, layer.digest)
        # a second copy finds everything there and moves no bytes
        azurecr.copy_artifact((source, repo), "v1", (destination, "mirror/" + repo))
        assert blob_bytes_sent(testbed2.traffic(clear=True)) == 0


def test_copy_from_a_registry_that_redirects_blobs_to_storage(
    blob_redirect: TestBed, testbed2: TestBed, files: dict[str, Path], tmp_path: Path
) -> None:
    # ACR sends blob downloads to blob storage: the copy follows without the registry's
    # token, and the destination still gets verified bytes
    repo = unique_repository("copy-redirect")
    with make_client(blob_redirect) as source, make_client(testbed2) as destination:
        digest = source.push_artifact(repo, list(files.values()), tag="v1")
        blob_redirect.storage_traffic(clear=True)
        assert azurecr.copy_artifact((source, repo), "v1", (destination, repo)) == digest
        storage = blob_redirect.storage_traffic(clear=True)
        assert {t["status"] for t in storage} == {200}
        assert sum(t["bytes_sent"] for t in storage) == sum(SIZES.values()) + 2
        assert not any(t["authorization"] for t in storage)
        pulled = destination.pull_artifact(repo, "v1", tmp_path)
        for f in pulled.files:
            assert f.path.read_bytes() == files[f.path.name].read_bytes()


def test_copy_a_multi_platform_index_with_its_children(testbed: TestBed, testbed2: TestBed) -> None:
    repo = unique_repository("copy-index")
    amd = push_image(testbed, repo, layer=b"amd64 layer", arch="amd64")
    arm = push_image(testbed, repo, layer=b"arm64 layer", arch="arm64")
    index = push_index(testbed, repo, "multi", [(*amd, "amd64", "linux"), (*arm, "arm64", "linux")])
    with make_client(testbed) as source, make_client(testbed2) as destination:
        copied = azurecr.copy_artifact(
            (source, repo), "multi", (destination, repo), tags=["multi", "latest"]
        )
        assert copied == index
        for tag in ("multi", "latest"):
            assert destination.get_manifest(repo, tag).digest == index
        for child, layer in ((amd[0], b"amd64 layer"), (arm[0], b"arm64 layer")):
            manifest = destination.get_manifest(repo, child).model
            with destination.download_blob(repo, manifest.layers[0].digest) as stream:
                assert stream.readall() == layer


# ----------------------------------------------------------------------------- referrers
def _attach_signatures(client: azurecr.ContainerRegistryClient, repo: str) -> tuple[str, str, str]:
    image = client.push_artifact(repo, [ArtifactFile(b"image", title="app")], tag="v1")
    signature = client.push_artifact(
        repo,
        [ArtifactFile(b"signed", title="sig")],
        artifact_type="application/vnd.example.signature",
        subject="v1",
    )
    sbom = client.push_artifact(
        repo,
        [ArtifactFile(b"{}", title="sbom.json")],
        artifact_type="application/spdx+json",
        annotations={"org.opencontainers.image.created": "2026-11-27T00:00:00Z"},
        subject=image,
    )
    return image, signature, sbom


def test_referrers_through_the_api(
    testbed: TestBed, client: azurecr.ContainerRegistryClient
) -> None:
    repo = unique_repository("referrers")
    image, signature, sbom = _attach_signatures(client, repo)
    found = {d.digest: d for d in client.list_referrers(repo, image)}
    assert set(found) == {signature, sbom}
    assert found[signature].artifact_type == "application/vnd.example.signature"
    assert found[sbom].annotations.created is not None
    only = list(client.list_referrers(repo, image, artifact_type="application/spdx+json"))
    assert [d.digest for d in only] == [sbom]
    assert list(client.list_referrers(repo, signature)) == []
    # the registry has the API: no fallback tag was written
    assert client.manifest_exists(repo, "sha256-" + image.split(":")[1]) is False


def test_referrers_through_the_tag_schema_on_a_plain_registry(
    testbed: TestBed, plain_registry: TestBed, client: azurecr.ContainerRegistryClient
) -> None:
    repo = unique_repository("referrers")
    image, signature, sbom = _attach_signatures(client, repo)
    fallback = client.get_manifest(repo, "sha256-" + image.split(":")[1])
    assert isinstance(fallback.model, OciImageIndex)
    assert {d.digest for d in fallback.model.manifests} == {signature, sbom}
    testbed.traffic(clear=True)
    only = list(
        client.list_referrers(repo, image, artifact_type="application/vnd.example.signature")
    )
    assert [d.digest for d in only] == [signature]
    paths = [t["path"] for t in testbed.traffic(clear=True)]
    assert f"/v2/{repo}/referrers/{image}" in paths  # asked, got distribution's 404
    assert {d.digest for d in client.list_referrers(repo, image)} == {signature, sbom}
    assert list(client.list_referrers(repo, signature)) == []


def test_copy_with_referrers(testbed: TestBed, testbed2: TestBed) -> None:
    repo = unique_repository("copy-referrers")
    with make_client(testbed) as source, make_client(testbed2) as destination:
        image, signature, sbom = _attach_signatures(source, repo)
        azurecr.copy_artifact((source, repo), "v1", (destination, repo), include_referrers=True)
        found = {d.digest for d in destination.list_referrers(repo, image)}
        assert found == {signature, sbom}
        assert destination.get_manifest(repo, signature).digest == signature
