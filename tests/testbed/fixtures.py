"""pytest fixtures for the real test bed; ``from tests.testbed.fixtures import *`` in conftest.

Fixtures:
  testbed          session-scoped TestBed (registry + ACR service), stopped at session end.
                   Set AZURECR_TESTBED_STATE=<dir> to attach to one started by
                   scripts/testbed.sh instead (not stopped by the tests).
  anonymous_pull   enables anonymous pull on the session test bed for one test, then disables.
  testbed_ssl      ssl.SSLContext trusting the test bed's CA.
  blob_redirect    blob GETs answered 307 to the fake blob storage for one test, then off.
  tamper           a setter ``tamper("blobs" | "manifests" | None)`` for one test; off after.
  plain_registry   the session test bed without the OCI referrers API / OCI-Subject header
                   (like plain distribution 2.8) for one test; back on after.
  testbed2         a second, independent session-scoped TestBed (own state dir, CA, keys,
                   ports) for cross-registry tests. AZURECR_TESTBED2_STATE=<dir> attaches.
"""

from __future__ import annotations

import os
import shutil
import ssl
from collections.abc import Callable, Iterator

import pytest

from . import TestBed, start_testbed
from .registry import REGISTRY_BIN

__all__ = [
    "testbed",
    "testbed2",
    "anonymous_pull",
    "testbed_ssl",
    "blob_redirect",
    "tamper",
    "plain_registry",
]


def _session_bed(
    tmp_path_factory: pytest.TempPathFactory, attach_env: str, basename: str
) -> Iterator[TestBed]:
    attach = os.environ.get(attach_env)
    if attach:
        yield TestBed.attach(attach)
        return
    if shutil.which(REGISTRY_BIN) is None:
        # Not a skip: a missing registry would hide every real test. scripts/test.sh
        # installs it (Debian package docker-registry).
        pytest.fail(f"{REGISTRY_BIN} (CNCF distribution) is not installed; run scripts/test.sh")
    bed = start_testbed(tmp_path_factory.mktemp(basename))
    try:
        yield bed
    finally:
        bed.stop()


@pytest.fixture(scope="session")
def testbed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestBed]:
    yield from _session_bed(tmp_path_factory, "AZURECR_TESTBED_STATE", "testbed")


@pytest.fixture(scope="session")
def testbed2(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestBed]:
    """A second registry, for copies across registries: nothing shared with ``testbed``."""
    yield from _session_bed(tmp_path_factory, "AZURECR_TESTBED2_STATE", "testbed2")


@pytest.fixture
def anonymous_pull(testbed: TestBed) -> Iterator[TestBed]:
    testbed.set_anonymous_pull(True)
    try:
        yield testbed
    finally:
        testbed.set_anonymous_pull(False)


@pytest.fixture(scope="session")
def testbed_ssl(testbed: TestBed) -> ssl.SSLContext:
    return testbed.ssl_context()


@pytest.fixture
def blob_redirect(testbed: TestBed) -> Iterator[TestBed]:
    testbed.set_blob_redirect(True)
    try:
        yield testbed
    finally:
        testbed.set_blob_redirect(False)


@pytest.fixture
def tamper(testbed: TestBed) -> Iterator[Callable[[str | None], None]]:
    try:
        yield testbed.set_tamper
    finally:
        testbed.set_tamper(None)


@pytest.fixture
def plain_registry(testbed: TestBed) -> Iterator[TestBed]:
    testbed.set_referrers_api(False)
    try:
        yield testbed
    finally:
        testbed.set_referrers_api(True)
