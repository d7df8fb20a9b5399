"""Whole artifacts with the async client against the real test bed: the async twins of
``test_artifacts`` (round trip with bounded concurrency, copies, referrers)."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import pytest

import azurecr.aio
from azurecr import ArtifactFile, OciImageIndex
from tests.testbed import TestBed

from ._clients import AsyncTestbedCredential
from ._content import push_image, push_index, unique_repository

MiB = 1024 * 1024
SIZES = {"empty.bin": 0, "small.bin": MiB, "large.bin": 30 * MiB}


def make_client(bed: TestBed) -> azurecr.aio.ContainerRegistryClient:
    return azurecr.aio.ContainerRegistryClient(
        bed.endpoint, AsyncTestbedCredential(bed), connection_verify=bed.ca_path
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("artifact-async")
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


async def test_push_pull_round_trip(
    testbed: TestBed, files: dict[str, Path], tmp_path: Path
) -> None:
    repo = unique_repository("artifacts-async")
    progress: list[tuple[int, int | None]] = []
    async with make_client(testbed) as client:
        testbed.upload_stats(clear=True)
        digest = await client.push_artifact(
            repo,
            list(files.values()),
            tag="v1",
            max_concurrency=3,
            progress_hook=lambda done, total: progress.append((done, total)),
        )
        stats = testbed.upload_stats(clear=True)
        assert 1 < stats["max_open_sessions"] <= 3
        total = sum(SIZES.values()) + 2
        assert progress[-1] == (total, total)

        pulled = await client.pull_artifact(repo, "v1", tmp_path, max_concurrency=3)
        assert pulled.digest == digest
        for f in pulled.files:
            assert f.path.read_bytes() == files[f.path.name].read_bytes()
        assert sorted(os.listdir(tmp_path)) == sorted(SIZES)

        testbed.traffic(clear=True)
        assert await client.push_artifact(repo, list(files.values()), tag="v2") == digest
        assert blob_bytes_sent(testbed.traffic(clear=True)) == 0


async def test_pull_chooses_the_platform_of_an_index(testbed: TestBed, tmp_path: Path) -> None:
    repo = unique_repository("artifacts-async")
    amd = push_image(testbed, repo, layer=b"amd64 layer", arch="amd64")
    arm = push_image(testbed, repo, layer=b"arm64 layer", arch="arm64")
    push_index(testbed, repo, "multi", [(*amd, "amd64", "linux"), (*arm, "arm64", "linux")])
    async with make_client(testbed) as client:
        pulled = await client.pull_artifact(repo, "multi", tmp_path, platform="linux/amd64")
    assert pulled.digest == amd[0]
    assert [f.path.read_bytes() for f in pulled.files] == [b"amd64 layer"]


async def test_copy_within_one_registry_mounts_blobs(
    testbed: TestBed, files: dict[str, Path]
) -> None:
    src, dst = unique_repository("copy-src"), unique_repository("copy-dst")
    async with make_client(testbed) as client:
        digest = await client.push_artifact(src, list(files.values()), tag="v1")
        testbed.traffic(clear=True)
        assert await azurecr.aio.copy_artifact((client, src), "v1", (client, dst)) == digest
        sent = testbed.traffic(clear=True)
        assert blob_bytes_sent(sent) == 0
        mounts = [t for t in sent if t["method"] == "POST" and "mount=" in t.get("query", "")]
        assert len([t for t in mounts if t["status"] == 201]) == len(SIZES) + 1
        assert (await client.get_manifest(dst, "v1")).digest == digest


async def test_copy_between_registries_in_bounded_memory(
    testbed: TestBed, testbed2: TestBed, files: dict[str, Path]
) -> None:
    repo = unique_repository("copy-async")
    async with make_client(testbed) as source, make_client(testbed2) as destination:
        digest = await source.push_artifact(repo, list(files.values()), tag="v1")
        testbed2.traffic(clear=True)
        tracemalloc.start()
        try:
            copied = await azurecr.aio.copy_artifact(
                (source, repo), "v1", (destination, repo), max_concurrency=1
            )
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert copied == digest
        # streamed in 1 MiB pieces: 7-9 MiB measured (sync: 4-5), never the 30 MiB blob
        assert peak < SIZES["large.bin"] // 3, peak
        assert blob_bytes_sent(testbed2.traffic(clear=True)) == sum(SIZES.values()) + 2
        assert (await destination.get_manifest(repo, "v1")).digest == digest


async def test_copy_an_index_with_children_and_referrers(
    testbed: TestBed, testbed2: TestBed
) -> None:
    repo = unique_repository("copy-index-async")
    amd = push_image(testbed, repo, layer=b"amd64 layer", arch="amd64")
    arm = push_image(testbed, repo, layer=b"arm64 layer", arch="arm64")
    index = push_index(testbed, repo, "multi", [(*amd, "amd64", "linux"), (*arm, "arm64", "linux")])
    async with make_client(testbed) as source, make_client(testbed2) as destination:
        signature = await source.push_artifact(
            repo,
            [ArtifactFile(b"signed", title="sig")],
            artifact_type="application/vnd.example.signature",
            subject="multi",
        )
        copied = await azurecr.aio.copy_artifact(
            (source, repo), "multi", (destination, repo), include_referrers=True
        )
        assert copied == index
        for child in (amd[0], arm[0]):
            assert await destination.manifest_exists(repo, child)
        found = [d.digest async for d in destination.list_referrers(repo, index)]
        assert found == [signature]


async def test_referrers_through_the_api_and_the_tag_schema(
    testbed: TestBed, plain_registry: TestBed
) -> None:
    # plain_registry: distribution answers the referrers URL with 404, so set_manifest
    # keeps the fallback index and list_referrers reads it
    repo = unique_repository("referrers-async")
    async with make_client(testbed) as client:
        image = await client.push_artifact(repo, [ArtifactFile(b"image", title="app")], tag="v1")
        signature = await client.push_artifact(
            repo,
            [ArtifactFile(b"signed", title="sig")],
            artifact_type="application/vnd.example.signature",
            subject=image,
        )
        sbom = await client.push_artifact(
            repo,
            [ArtifactFile(b"{}", title="sbom.json")],
            artifact_type="application/spdx+json",
            subject="v1",
        )
        fallback = await client.get_manifest(repo, "sha256-" + image.split(":")[1])
        assert isinstance(fallback.model, OciImageIndex)
        listed = [
            d.digest
            async for d in client.list_referrers(repo, image, artifact_type="application/spdx+json")
        ]
        assert listed == [sbom]
        # the same registry with the API (the front service) gives the same answer
        testbed.set_referrers_api(True)
    async with make_client(testbed) as client:
        assert {d.digest async for d in client.list_referrers(repo, image)} == {signature, sbom}
