"""pytest fixtures for the real test bed; ``from tests.testbed.fixtures import *`` in conftest.

Fixtures:
  testbed          session-scoped TestBed (registry + ACR service), stopped at session end.
                   Set AZURECR_TESTBED_STATE=<dir> to attach to one started by
                   scripts/testbed.sh instead (not stopped by the tests).
  anonymous_pull   enables anonymous pull on the session test bed for one test, then disables.
  testbed_ssl      ssl.SSLContext trusting the test bed's CA.
  blob_redirect    blob GETs answered 307 to the fake blob storage for one test, then off.
  tamper           a setter ``tamper("blobs" | "manifests" | None)`` for one test; off after.
"""

from __future__ import annotations

import os
import shutil
import ssl
from collections.abc import Callable, Iterator

import pytest

from . import TestBed, start_testbed
from .registry import REGISTRY_BIN

__all__ = ["testbed", "anonymous_pull", "testbed_ssl", "blob_redirect", "tamper"]


@pytest.fixture(scope="session")
def testbed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestBed]:
    attach = os.environ.get("AZURECR_TESTBED_STATE")
    if attach:
        yield TestBed.attach(attach)
        return
    if shutil.which(REGISTRY_BIN) is None:
        # Not a skip: a missing registry would hide every real test. scripts/test.sh
        # installs it (Debian package docker-registry).
        pytest.fail(f"{REGISTRY_BIN} (CNCF distribution) is not installed; run scripts/test.sh")
    bed = start_testbed(tmp_path_factory.mktemp("testbed"))
    try:
        yield bed
    finally:
        bed.stop()


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
