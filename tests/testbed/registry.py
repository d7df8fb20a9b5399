"""Run CNCF distribution (`docker-registry` 2.8) with token auth, TLS, filesystem storage."""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from . import pki

REGISTRY_BIN = os.environ.get("AZURECR_TESTBED_REGISTRY", "docker-registry")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def storage_root(state_dir: str | os.PathLike[str]) -> Path:
    return Path(state_dir) / "storage"


def write_config(
    state_dir: str | os.PathLike[str],
    *,
    port: int,
    realm: str,
    service: str,
    issuer: str,
) -> Path:
    """Write config.yml (JSON is valid YAML) for the registry; returns its path."""
    d = Path(state_dir)
    storage_root(d).mkdir(parents=True, exist_ok=True)
    config = {
        "version": "0.1",
        "log": {
            "level": "info",
            "formatter": "text",
            "accesslog": {"disabled": False},
            "fields": {"service": "registry"},
        },
        "storage": {
            "filesystem": {"rootdirectory": str(storage_root(d))},
            "delete": {"enabled": True},
            # no `cache:` section on purpose: the test service reads and edits the storage
            # directly, so the registry must not hold stale blob descriptors in memory.
            "maintenance": {
                "uploadpurging": {"enabled": False},
                "readonly": {"enabled": False},
            },
            "redirect": {"disable": True},
        },
        "http": {
            "addr": f"127.0.0.1:{port}",
            "relativeurls": True,  # ACR answers with relative Location headers too
            "tls": {
                "certificate": str(d / pki.SERVER_CERT),
                "key": str(d / pki.SERVER_KEY),
            },
            "headers": {"X-Content-Type-Options": ["nosniff"]},
            "draintimeout": "1s",
        },
        "auth": {
            "token": {
                "realm": realm,
                "service": service,
                "issuer": issuer,
                "rootcertbundle": str(d / pki.TOKEN_BUNDLE),
            }
        },
    }
    path = d / "config.yml"
    path.write_text(json.dumps(config, indent=2))
    return path


def _pdeathsig() -> None:  # pragma: no cover - runs in the child
    """Die with the parent (Linux): never leave an orphan registry behind."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class RegistryProcess:
    def __init__(self, state_dir: str | os.PathLike[str], config_path: Path, port: int) -> None:
        self.state_dir = Path(state_dir)
        self.config_path = config_path
        self.port = port
        self.url = f"https://127.0.0.1:{port}"
        self.log_path = self.state_dir / "registry.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 20.0) -> None:
        exe = shutil.which(REGISTRY_BIN) or REGISTRY_BIN
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self._log = log
        self.proc = subprocess.Popen(
            [exe, "serve", str(self.config_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_pdeathsig,
        )
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float) -> None:
        ctx = ssl.create_default_context(cafile=str(self.state_dir / pki.CA_CERT))
        deadline = time.monotonic() + timeout
        last_err: Exception | None = None
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(
                    f"docker-registry exited with {self.proc.returncode}; see {self.log_path}:\n"
                    + self.log_path.read_text(errors="replace")[-3000:]
                )
            try:
                urllib.request.urlopen(self.url + "/v2/", context=ctx, timeout=2)
            except urllib.error.HTTPError as e:
                if e.code == 401:
                    return
                last_err = e
            except OSError as e:
                last_err = e
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"docker-registry did not become ready: {last_err}")

    def stop(self, timeout: float = 5.0) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        log = getattr(self, "_log", None)
        if log is not None:
            log.close()
            self._log = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None
