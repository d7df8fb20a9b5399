"""The README's demo (scripts/demo.sh -> scripts/demo.py) runs to completion against the
embedded test bed, and a failing step makes it exit non-zero with one line, no traceback.

demo.py is run directly (demo.sh only adds the install steps, already done here).
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "scripts" / "demo.py"

HEADINGS = [
    "== Step 1/9: Connect to the registry",
    "== Step 2/9: Push an artifact",
    "== Step 3/9: Push a multi-platform image",
    "== Step 4/9: List repositories, tags and manifests",
    "== Step 5/9: Lock tag v1",
    "== Step 6/9: Pull back with verified digests",
    "== Step 7/9: Attach a signature",
    "== Step 8/9: Clean up",
    "== Step 9/9: Stop the test bed",
]


def run_demo(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(DEMO), *args],
        cwd=str(ROOT),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
    )


def test_demo_runs_to_completion_against_the_embedded_test_bed() -> None:
    proc = run_demo()
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    out = proc.stdout
    positions = [out.find(h) for h in HEADINGS]
    assert all(p >= 0 for p in positions), [h for h, p in zip(HEADINGS, positions) if p < 0]
    assert positions == sorted(positions), "steps out of order"
    # the key facts each step shows
    assert re.search(r"pushed demo/hello-artifact:v1 -> sha256:[0-9a-f]{12}…", out)
    assert "index platforms: linux/amd64, linux/arm64" in out
    assert re.search(r"manifest .* linux/arm64 ", out)
    assert "delete=NO write=NO" in out
    assert re.search(r"delete_tag refused: HTTP 405 ", out)
    assert len(re.findall(r"verified \S+ .*sha256:[0-9a-f]{12}…", out)) == 3
    assert "(same bytes as pushed)" in out
    assert "its hello.txt says: hello from linux/arm64" in out
    assert "application/vnd.azurecr.demo.signature.v1" in out
    assert "no repository under demo/ is left" in out
    assert re.search(r"test bed stopped \(processes \d+, \d+ gone\)", out)
    assert "demo finished: all 9 steps passed" in out
    assert proc.stderr == ""


def test_an_unreachable_registry_fails_in_step_1_with_one_line() -> None:
    proc = run_demo(
        "https://127.0.0.1:1", "--username", "u", "--password", "p", "--retries", "0", timeout=60
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("demo FAILED in step 1/9 (Connect to the registry): ")
    assert "ServiceRequestError" in lines[0]
    assert "== Step 2/9" not in proc.stdout


def load_demo() -> ModuleType:
    spec = importlib.util.spec_from_file_location("azurecr_demo_script", DEMO)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_delete_that_is_not_refused_fails_the_demo(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The demo is a check: if the registry let a locked tag be deleted, step 5 fails,
    what was created is cleaned up and the test bed still stops."""
    import azurecr
    from tests.testbed import TestBed

    stopped: list[TestBed] = []
    real_stop = TestBed.stop

    def stop(self: TestBed, timeout: float = 10.0) -> None:
        real_stop(self, timeout)
        stopped.append(self)

    demo = load_demo()
    monkeypatch.setattr(azurecr.ContainerRegistryClient, "delete_tag", lambda *a, **k: None)
    monkeypatch.setattr(TestBed, "stop", stop)
    assert demo.main([]) == 1
    assert len(stopped) == 1
    captured = capsys.readouterr()
    assert captured.err.strip() == (
        "demo FAILED in step 5/9 (Lock tag v1 and watch its delete be refused): "
        "the registry deleted a locked tag (delete_tag was not refused)"
    )
    assert "(cleanup) deleted repository demo/hello-artifact" in captured.out
    assert "(cleanup) deleted repository demo/hello-image" in captured.out
    assert "== Step 6/9" not in captured.out
