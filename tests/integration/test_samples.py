"""The samples run, as a user would run them, against the test bed."""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

import azurecr
from tests.reference import REPO_ROOT
from tests.testbed import TestBed

from ._clients import TestbedCredential
from ._content import push_image, unique_repository

SAMPLES = REPO_ROOT / "samples"


def run(sample: str, bed: TestBed, *args: str, env: dict[str, str] | None = None) -> str:
    environment = dict(
        os.environ,
        CONTAINER_REGISTRY_ENDPOINT=bed.endpoint,
        CONTAINER_REGISTRY_USERNAME=bed.admin_username,
        CONTAINER_REGISTRY_PASSWORD=bed.admin_password,
        CONTAINER_REGISTRY_CA_BUNDLE=bed.ca_path,
        **(env or {}),
    )
    done = subprocess.run(
        [sys.executable, str(SAMPLES / sample), *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_list_images(testbed: TestBed) -> None:
    repo = unique_repository("samples")
    digest, _ = push_image(testbed, repo, "v1")
    out = run("list_images.py", testbed)
    assert f"{repo}\n  v1  {digest}" in out
    out = run("list_images_async.py", testbed)
    assert f"{repo}: 1 tags, 1 manifests" in out


def test_lock_and_clean_up(testbed: TestBed) -> None:
    repo = unique_repository("samples")
    digests = [push_image(testbed, repo, f"v{i}", layer=bytes([i]))[0] for i in range(5)]
    out = run("lock_and_clean_up.py", testbed, repo, "v0")
    assert f"keep    {digests[0]}" in out
    deleted = [line.split()[1] for line in out.splitlines() if line.startswith("delete")]
    assert len(deleted) == 1 and deleted[0] in digests[1:]


# -- the image walk-through: upload, download, delete manifest, delete blobs -------------


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def client(testbed: TestBed) -> Iterator[azurecr.ContainerRegistryClient]:
    with azurecr.ContainerRegistryClient(
        testbed.endpoint, TestbedCredential(testbed), connection_verify=testbed.ca_path
    ) as c:
        yield c


@pytest.fixture
def upload_sample(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """samples/upload_image.py as a module: the bytes it uploads, built independently."""
    monkeypatch.syspath_prepend(str(SAMPLES))
    return importlib.import_module("upload_image")


@pytest.mark.parametrize("suffix", ["", "_async"], ids=["sync", "async"])
def test_image_walk_through(
    testbed: TestBed,
    client: azurecr.ContainerRegistryClient,
    upload_sample: ModuleType,
    tmp_path: Path,
    suffix: str,
) -> None:
    repo, tag, out_dir = unique_repository("samples"), "demo", tmp_path / "image"
    env = {
        "CONTAINER_REGISTRY_REPOSITORY": repo,
        "CONTAINER_REGISTRY_TAG": tag,
        "CONTAINER_REGISTRY_OUTPUT_DIR": str(out_dir),
    }
    config, layer = upload_sample.image_content()

    out = run(f"upload_image{suffix}.py", testbed, env=env)
    assert f"uploaded config  {sha256(config)}  {len(config)} bytes" in out
    assert f"uploaded layer   {sha256(layer)}  {len(layer)} bytes" in out
    pushed = out.split(f"pushed {repo}:{tag}  ", 1)[1].split()[0]
    assert client.get_manifest_properties(repo, tag).digest == pushed

    out = run(f"download_image{suffix}.py", testbed, env=env)
    layer_file = out_dir / sha256(layer).split(":")[1]
    files = {p.name for p in out_dir.iterdir()}
    assert files == {"manifest.json", "config.json", layer_file.name}  # no temporary files
    for path in (out_dir / "manifest.json", out_dir / "config.json", layer_file):
        assert f"wrote {path}  " in out
    manifest_bytes = (out_dir / "manifest.json").read_bytes()
    assert sha256(manifest_bytes) == pushed
    manifest = json.loads(manifest_bytes)
    assert manifest["mediaType"] == azurecr.KnownManifestMediaType.OCI_IMAGE_MANIFEST
    (layer_descriptor,) = manifest["layers"]
    for descriptor, path, uploaded in [
        (manifest["config"], out_dir / "config.json", config),
        (layer_descriptor, layer_file, layer),
    ]:
        data = path.read_bytes()
        assert data == uploaded
        assert (sha256(data), len(data)) == (descriptor["digest"], descriptor["size"])

    out = run(f"delete_manifest{suffix}.py", testbed, env=env)
    assert f"deleting {repo}@{pushed}  ({tag} and any other tag on it)\ndeleted\n" in out
    assert not client.manifest_exists(repo, tag)
    assert not client.manifest_exists(repo, pushed)
    assert client.blob_exists(repo, sha256(layer))  # the blobs outlive the manifest

    out = run(f"delete_blobs{suffix}.py", testbed, env=env)
    assert f"read its manifest from {out_dir / 'manifest.json'}" in out
    for blob in (config, layer):
        assert f"deleted blob {sha256(blob)}" in out
        assert not client.blob_exists(repo, sha256(blob))


def test_delete_blobs_of_an_image_still_in_the_registry(
    testbed: TestBed, client: azurecr.ContainerRegistryClient, tmp_path: Path
) -> None:
    repo = unique_repository("samples")
    digest, _ = push_image(testbed, repo, "v1", layer=b"still tagged")
    manifest = client.get_manifest(repo, "v1").model
    blobs = [manifest.config.digest, *(layer.digest for layer in manifest.layers)]
    env = {
        "CONTAINER_REGISTRY_REPOSITORY": repo,
        "CONTAINER_REGISTRY_TAG": "v1",
        "CONTAINER_REGISTRY_OUTPUT_DIR": str(tmp_path / "nothing-here"),
    }
    out = run("delete_blobs.py", testbed, env=env)
    assert f"read manifest {digest} from the registry" in out
    assert not any(client.blob_exists(repo, blob) for blob in blobs)
