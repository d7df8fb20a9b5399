"""The samples run, as a user would run them, against the test bed."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.reference import REPO_ROOT
from tests.testbed import TestBed

from ._content import push_image, unique_repository

SAMPLES = REPO_ROOT / "samples"


def run(sample: str, bed: TestBed, *args: str) -> str:
    env = dict(
        os.environ,
        CONTAINER_REGISTRY_ENDPOINT=bed.endpoint,
        CONTAINER_REGISTRY_USERNAME=bed.admin_username,
        CONTAINER_REGISTRY_PASSWORD=bed.admin_password,
        CONTAINER_REGISTRY_CA_BUNDLE=bed.ca_path,
    )
    done = subprocess.run(
        [sys.executable, str(SAMPLES / sample), *args],
        env=env,
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
