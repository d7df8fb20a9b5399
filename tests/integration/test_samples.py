"""The samples run, as a user would run them, against the test bed: each as a subprocess
with the registry in its environment, checked by what it prints and by the registry's state
after (read back with a client). Every scenario runs its sync and its async sample."""

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
from urllib.parse import urlsplit

import pytest
from azure.core.exceptions import HttpResponseError

import azurecr
from tests.reference import REPO_ROOT
from tests.testbed import TestBed

from ._clients import TestbedCredential
from ._content import push_image, unique_repository

SAMPLES = REPO_ROOT / "samples"


def run_sample(
    sample: str,
    bed: TestBed,
    *args: str,
    env: dict[str, str] | None = None,
    anonymous: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run ``samples/<sample>`` as a user would, with the test bed in its environment
    (signed in as the admin user, or with no credential at all when ``anonymous``)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CONTAINER_REGISTRY_")}
    environment.update(
        CONTAINER_REGISTRY_ENDPOINT=bed.endpoint, CONTAINER_REGISTRY_CA_BUNDLE=bed.ca_path
    )
    if not anonymous:
        environment.update(
            CONTAINER_REGISTRY_USERNAME=bed.admin_username,
            CONTAINER_REGISTRY_PASSWORD=bed.admin_password,
        )
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, str(SAMPLES / sample), *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def run(
    sample: str,
    bed: TestBed,
    *args: str,
    env: dict[str, str] | None = None,
    anonymous: bool = False,
) -> str:
    """The sample's output; it must succeed and write nothing to stderr."""
    done = run_sample(sample, bed, *args, env=env, anonymous=anonymous)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return done.stdout


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def client(testbed: TestBed) -> Iterator[azurecr.ContainerRegistryClient]:
    with azurecr.ContainerRegistryClient(
        testbed.endpoint, TestbedCredential(testbed), connection_verify=testbed.ca_path
    ) as c:
        yield c


def login_server(bed: TestBed) -> str:
    return urlsplit(bed.endpoint).netloc


BOTH = pytest.mark.parametrize("suffix", ["", "_async"], ids=["sync", "async"])


# -- list repositories ---------------------------------------------------------------


@BOTH
def test_list_repositories(
    testbed: TestBed, client: azurecr.ContainerRegistryClient, suffix: str
) -> None:
    repos = [unique_repository("samples"), unique_repository("samples")]
    for repo in repos:
        push_image(testbed, repo, "v1")
    lines = run(f"list_repositories{suffix}.py", testbed).splitlines()
    assert lines[0] == f"Repositories in {testbed.endpoint}:"
    listed = [line.removeprefix("  ") for line in lines[1:-1]]
    assert all(line.startswith("  ") for line in lines[1:-1])
    assert listed == list(client.list_repository_names())  # every one, in the registry's order
    assert set(repos) <= set(listed)
    assert lines[-1] == (
        "1 repository" if len(listed) == 1 else f"{len(listed)} repositories"
    )


# -- list tags anonymously -----------------------------------------------------------


@BOTH
def test_list_tags_anonymously(anonymous_pull: TestBed, suffix: str) -> None:
    bed, repo = anonymous_pull, unique_repository("samples")
    digest, _ = push_image(bed, repo, "demo", "latest", "v1", layer=b"aliased")
    push_image(bed, repo, "other", layer=b"another image")  # not an alias of demo
    out = run(
        f"list_tags_anonymously{suffix}.py",
        bed,
        env={"CONTAINER_REGISTRY_REPOSITORY": repo},
        anonymous=True,
    )
    host = login_server(bed)
    assert out.splitlines() == [
        f"{host}/{repo}@{digest} has these tags:",
        f"  {host}/{repo}:demo",
        f"  {host}/{repo}:latest",
        f"  {host}/{repo}:v1",
    ]


@BOTH
def test_list_tags_anonymously_needs_anonymous_pull(testbed: TestBed, suffix: str) -> None:
    assert not testbed.anonymous_pull
    repo = unique_repository("samples")
    push_image(testbed, repo, "demo")
    done = run_sample(
        f"list_tags_anonymously{suffix}.py",
        testbed,
        env={"CONTAINER_REGISTRY_REPOSITORY": repo},
        anonymous=True,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert "refused anonymous access; is anonymous pull enabled?" in done.stderr
    assert "Traceback" not in done.stderr


# -- set artifact properties ---------------------------------------------------------


@BOTH
def test_set_artifact_properties(
    testbed: TestBed, client: azurecr.ContainerRegistryClient, suffix: str
) -> None:
    repo = unique_repository("samples")
    digest, _ = push_image(testbed, repo, "demo")
    env = {"CONTAINER_REGISTRY_REPOSITORY": repo, "CONTAINER_REGISTRY_TAG": "demo"}

    out = run(f"set_artifact_properties{suffix}.py", testbed, env=env)
    assert out.splitlines() == [
        f"locking {repo}:demo",
        "  tag       demo  can_write=False can_delete=False",
        f"  manifest  {digest}  can_write=False can_delete=False",
    ]
    tag, manifest = (
        client.get_tag_properties(repo, "demo"),
        client.get_manifest_properties(repo, digest),
    )
    for properties in (tag, manifest):
        assert (properties.can_write, properties.can_delete) == (False, False)
        assert (properties.can_read, properties.can_list) == (True, True)  # untouched
    with pytest.raises(HttpResponseError):
        client.delete_tag(repo, "demo")
    with pytest.raises(HttpResponseError):
        client.delete_manifest(repo, digest)
    assert client.manifest_exists(repo, "demo")

    out = run(f"set_artifact_properties{suffix}.py", testbed, "--unlock", env=env)
    assert out.splitlines() == [
        f"unlocking {repo}:demo",
        "  tag       demo  can_write=True can_delete=True",
        f"  manifest  {digest}  can_write=True can_delete=True",
    ]
    tag, manifest = (
        client.get_tag_properties(repo, "demo"),
        client.get_manifest_properties(repo, digest),
    )
    for properties in (tag, manifest):
        assert (properties.can_write, properties.can_delete) == (True, True)
    client.delete_manifest(repo, digest)
    assert not client.manifest_exists(repo, digest)


# -- delete all but the newest three images ------------------------------------------


def push_five(bed: TestBed, repo: str) -> list[str]:
    """v0 (oldest) .. v4 (newest): five images, pushed one after another."""
    return [push_image(bed, repo, f"v{i}", layer=f"image {i}".encode())[0] for i in range(5)]


def remaining(client: azurecr.ContainerRegistryClient, repo: str) -> dict[str, list[str]]:
    """digest -> tags of the repository's manifests."""
    return {m.digest or "": m.tags for m in client.list_manifest_properties(repo)}


@BOTH
def test_delete_old_images(
    testbed: TestBed, client: azurecr.ContainerRegistryClient, suffix: str
) -> None:
    repo, bystander = unique_repository("samples"), unique_repository("samples")
    digests = push_five(testbed, repo)
    bystander_digests = push_five(testbed, bystander)
    env = {"CONTAINER_REGISTRY_REPOSITORY": repo}

    out = run(f"delete_old_images{suffix}.py", testbed, "--dry-run", env=env)
    assert out.splitlines() == [
        repo,
        f"  keep    {digests[4]}  v4",
        f"  keep    {digests[3]}  v3",
        f"  keep    {digests[2]}  v2",
        f"  delete  {digests[1]}  v1",
        f"  delete  {digests[0]}  v0",
        "dry run: 2 images would be deleted; nothing was deleted",
    ]
    assert len(remaining(client, repo)) == 5

    out = run(f"delete_old_images{suffix}.py", testbed, env=env)
    assert out.splitlines() == [
        repo,
        f"  keep    {digests[4]}  v4",
        f"  keep    {digests[3]}  v3",
        f"  keep    {digests[2]}  v2",
        f"  deleted {digests[1]}  v1",
        f"  deleted {digests[0]}  v0",
        "2 images deleted",
    ]
    assert remaining(client, repo) == {digests[i]: [f"v{i}"] for i in (2, 3, 4)}
    assert set(remaining(client, bystander)) == set(bystander_digests)  # another repository

    out = run(f"delete_old_images{suffix}.py", testbed, env=env)  # nothing left to delete
    assert out.splitlines()[-1] == "0 images deleted"
    assert len(remaining(client, repo)) == 3


@BOTH
def test_delete_old_images_keeps_a_locked_image(
    testbed: TestBed, client: azurecr.ContainerRegistryClient, suffix: str
) -> None:
    repo = unique_repository("samples")
    digests = push_five(testbed, repo)
    env = {"CONTAINER_REGISTRY_REPOSITORY": repo, "CONTAINER_REGISTRY_TAG": "v0"}
    run(f"set_artifact_properties{suffix}.py", testbed, env=env)

    out = run(f"delete_old_images{suffix}.py", testbed, env=env)
    assert f"  locked  {digests[0]}  v0" in out.splitlines()
    assert f"  deleted {digests[1]}  v1" in out.splitlines()
    assert out.splitlines()[-1] == "1 image deleted"
    assert set(remaining(client, repo)) == {digests[i] for i in (0, 2, 3, 4)}


def test_delete_old_images_dry_run_covers_every_repository(
    testbed: TestBed, client: azurecr.ContainerRegistryClient
) -> None:
    """Without CONTAINER_REGISTRY_REPOSITORY every repository is cleaned; the dry run
    (the only mode safe on the shared test bed) shows that and deletes nothing."""
    repo = unique_repository("samples")
    digests = push_five(testbed, repo)
    before = list(client.list_repository_names())
    lines = run("delete_old_images.py", testbed, "--dry-run").splitlines()
    assert [line for line in lines if not line.startswith("  ")][:-1] == before
    assert f"  delete  {digests[0]}  v0" in lines
    assert lines[-1].startswith("dry run: ") and lines[-1].endswith("nothing was deleted")
    assert set(remaining(client, repo)) == set(digests)


# -- the image walk-through: upload, download, delete manifest, delete blobs -------------


@pytest.fixture
def upload_sample(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """samples/upload_image.py as a module: the bytes it uploads, built independently."""
    monkeypatch.syspath_prepend(str(SAMPLES))
    return importlib.import_module("upload_image")


@BOTH
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


@BOTH
def test_delete_blobs_of_an_image_still_in_the_registry(
    testbed: TestBed, client: azurecr.ContainerRegistryClient, tmp_path: Path, suffix: str
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
    out = run(f"delete_blobs{suffix}.py", testbed, env=env)
    assert f"read manifest {digest} from the registry" in out
    assert not any(client.blob_exists(repo, blob) for blob in blobs)
