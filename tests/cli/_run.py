"""Run the ``azurecr`` CLI as a user would: a subprocess (pipes, or a pseudo-terminal)."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.testbed import REPO_ROOT, TestBed

SCRIPT = Path(sys.executable).with_name("azurecr")


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def cli_env(bed: TestBed | None, *, auth: bool = True, **extra: str) -> dict[str, str]:
    """The environment: the test bed's registry and CA, admin credentials unless not auth."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURECR_", "AZURE_"))}
    env.pop("REQUESTS_CA_BUNDLE", None)
    env.pop("CURL_CA_BUNDLE", None)
    env["PYTHONPATH"] = str(REPO_ROOT / "src")
    if bed is not None:
        env["AZURECR_REGISTRY"] = bed.endpoint
        env["AZURECR_CA_BUNDLE"] = bed.ca_path
        if auth:
            env["AZURECR_USERNAME"] = bed.admin_username
            env["AZURECR_PASSWORD"] = bed.admin_password
    env.update(extra)
    return env


def run(
    bed: TestBed | None,
    *args: str,
    auth: bool = True,
    input: str | None = None,
    cwd: str | os.PathLike[str] | None = None,
    script: bool = False,
    **env: str,
) -> Result:
    cmd = [str(SCRIPT)] if script else [sys.executable, "-m", "azurecr.cli"]
    proc = subprocess.run(
        [*cmd, *args],
        input=input if input is not None else "",
        capture_output=True,
        text=True,
        env=cli_env(bed, auth=auth, **env),
        cwd=cwd,
        timeout=120,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def run_in_pty(bed: TestBed, *args: str, cwd: Any = None, timeout: float = 120) -> tuple[int, str]:
    """Run with stdin, stdout and stderr on a pseudo-terminal; (status, all it printed)."""
    master, slave = os.openpty()
    env = cli_env(bed, TERM="xterm", COLUMNS="100", LINES="30")
    env.pop("NO_COLOR", None)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "azurecr.cli", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            cwd=cwd,
            close_fds=True,
            start_new_session=True,
        )
    finally:
        os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        status = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return status, b"".join(chunks).decode("utf-8", "replace")
