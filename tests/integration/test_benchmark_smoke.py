"""The benchmarks run against the session's test bed, so they cannot rot. Only that they
run and report is checked here; their speed and memory targets are not asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from benchmarks.memory import MODES
from benchmarks.request_counts import BLOB, CHUNK, measure
from tests.testbed import REPO_ROOT, TestBed

from ._content import push_image, unique_repository


def test_request_count_benchmark_smoke(testbed: TestBed) -> None:
    repo = unique_repository("bench")
    push_image(testbed, repo, "v1")
    data = os.urandom(BLOB)
    ours = measure(testbed, "azurecr", 3, repo, data)
    theirs = measure(testbed, "azure-containerregistry", 3, repo, data)
    assert ours["warm_requests_per_call"] == 1
    # upload_blob: POST, 4 PATCHes, the PUT with the last chunk; each chunk sent once
    assert ours["upload_20MiB"]["upload_bytes"] == BLOB
    assert ours["upload_20MiB"]["patches"] == BLOB // CHUNK - 1
    assert ours["upload_20MiB"]["401s"] == 0
    # The official SDK pays a challenge and two token round trips on every call.
    assert theirs["warm_requests_per_call"] > ours["warm_requests_per_call"]


def test_memory_benchmark_quick_smoke(testbed: TestBed, tmp_path: Path) -> None:
    report = tmp_path / "memory.json"
    env = dict(os.environ, AZURECR_TESTBED_STATE=testbed.state_dir)
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory", "--quick", "--json", str(report)],
        cwd=str(REPO_ROOT),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    table = {}
    for label in MODES.values():
        (line,) = [x for x in proc.stdout.splitlines() if x.startswith(label)]
        mib_per_s, cpu_s, peak_mib = (float(v) for v in line[len(label) :].split())
        table[label] = peak_mib
        assert mib_per_s > 0 and cpu_s >= 0
    assert all(peak > 0 for peak in table.values()), proc.stdout
    rows = json.loads(report.read_text())
    assert [r["transfer"] for r in rows] == list(MODES.values())
    for r in rows:
        assert r["bytes"] == 32 * 1024 * 1024
        assert isinstance(r["peak_over_baseline_mib"], float) and r["peak_over_baseline_mib"] > 0
