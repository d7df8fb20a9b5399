"""One sync client shared by many threads keeps its connections: the pool holds as many as
the client runs transfers at once, so urllib3 never discards one ("Connection pool is full")."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import pytest

import azurecr
from tests.testbed import TestBed

from ._clients import TestbedCredential
from ._content import unique_repository


def test_sixteen_threads_share_the_pool_without_discarding_connections(
    testbed: TestBed, caplog: pytest.LogCaptureFixture
) -> None:
    repo = unique_repository("pool")
    with azurecr.ContainerRegistryClient(
        testbed.endpoint, TestbedCredential(testbed), connection_verify=testbed.ca_path
    ) as client:
        digests = [client.upload_blob(repo, bytes([i]) * 200_000)[0] for i in range(16)]
        caplog.set_level(logging.WARNING, logger="urllib3.connectionpool")
        with ThreadPoolExecutor(16) as pool:
            for _ in range(3):
                data = list(pool.map(lambda d: client.download_blob(repo, d).readall(), digests))
                assert [len(x) for x in data] == [200_000] * 16
    full = [r for r in caplog.records if "Connection pool is full" in r.getMessage()]
    assert full == []
