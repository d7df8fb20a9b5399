"""The request-count benchmark runs against the session's test bed, so it cannot rot."""

from __future__ import annotations

import os

from benchmarks.request_counts import BLOB, measure
from tests.testbed import TestBed

from ._content import push_image, unique_repository


def test_request_count_benchmark_smoke(testbed: TestBed) -> None:
    repo = unique_repository("bench")
    push_image(testbed, repo, "v1")
    data = os.urandom(BLOB)
    ours = measure(testbed, "azurecr", 3, repo, data)
    theirs = measure(testbed, "azure-containerregistry", 3, repo, data)
    assert ours["warm_requests_per_call"] == 1
    assert ours["upload_20MiB"]["patch_bytes"] == BLOB
    # The official SDK pays a challenge and two token round trips on every call.
    assert theirs["warm_requests_per_call"] > ours["warm_requests_per_call"]
