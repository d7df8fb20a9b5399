"""``python -m benchmarks --quick`` runs against the session's test bed, so the side-by-side
benchmark cannot rot. Only that every row, ratio and target is reported (and numeric) is
checked; no speed, memory or ratio target is asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from numbers import Real
from pathlib import Path

from benchmarks.side_by_side import QUICK_MIB, ROWS
from tests.testbed import REPO_ROOT, TestBed


def _number(v: object) -> bool:
    return isinstance(v, Real) and not isinstance(v, bool)


def test_side_by_side_quick_smoke(testbed: TestBed, tmp_path: Path) -> None:
    report_path = tmp_path / "side_by_side.json"
    env = dict(os.environ, AZURECR_TESTBED_STATE=testbed.state_dir)
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--json", str(report_path)],
        cwd=str(REPO_ROOT),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr

    # stdout: one table line per row, with MiB/s, CPU s and peak MiB as numbers
    for label, _kind, _direction in ROWS.values():
        (line,) = [x for x in proc.stdout.splitlines() if x.startswith(label + " ")]
        mib_per_s, cpu_s, peak = (float(v) for v in line[len(label) :].split()[:3])
        assert mib_per_s > 0 and cpu_s >= 0 and peak >= 0
    assert "requests per warm metadata call" in proc.stdout
    assert "targets (issue 6):" in proc.stdout

    report = json.loads(report_path.read_text())
    (size,) = report["sizes"]
    assert size["size_mib"] == QUICK_MIB and size["runs"] == 1
    assert _number(size["verified_download_limit_mib_per_s"])
    rows = {r["key"]: r for r in size["rows"]}
    assert list(rows) == list(ROWS)
    for key, r in rows.items():
        for field in ("mib_per_s", "wall_s", "cpu_s", "peak_rss_mib"):
            assert _number(r[field]), (key, field, r[field])
        assert len(r["runs"]) == 1
        if r["kind"] == "azurecr":
            assert _number(r["x_sdk"]), key
        if r["kind"] != "limit":
            assert _number(r["x_curl"]), key
        if r["direction"] == "down" and r["kind"] != "limit":
            assert _number(r["x_limit"]), key

    requests = report["requests"]
    for field in ("azurecr", "azure-containerregistry", "x_sdk"):
        assert _number(requests[field]), field
    assert len(report["targets"]) == 5
    for t in report["targets"]:
        assert _number(t["value"]) and _number(t["goal"]) and isinstance(t["met"], bool)
