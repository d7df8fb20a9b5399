"""The real test bed: CNCF distribution + an ACR-compatible front service on 127.0.0.1.

    bed = start_testbed(state_dir)          # or TestBed.start(state_dir)
    bed.endpoint        # "https://127.0.0.1:<port>"   (what clients use, like myreg.azurecr.io)
    bed.service         # "127.0.0.1:<port>"           (the token `service`/`aud`)
    bed.ca_path         # PEM of the throwaway CA (server cert is for 127.0.0.1 and localhost)
    bed.registry_url    # direct URL of docker-registry (no ACR extras)
    bed.admin_username, bed.admin_password
    bed.mint_aad_token(audience=..., expires_in=...)  -> fake AAD token the bed trusts
    bed.mint_access_token(["repository:x:pull"])      -> registry access token
    bed.mint_refresh_token()                          -> ACR refresh token
    bed.set_anonymous_pull(True)
    bed.storage_endpoint                      # "https://localhost:<port>": fake blob storage
    bed.set_blob_redirect(True)               # blob GETs -> 307 to signed storage URLs
    bed.set_tamper("blobs" | "manifests" | None)   # one byte of each such GET body changed
    bed.set_referrers_api(False)              # behave like plain distribution (no referrers)
    bed.traffic(clear=...), bed.storage_traffic(clear=...), bed.clear_traffic()
    bed.upload_stats(clear=...)               # blob upload sessions / requests in flight
    bed.stop()

The service runs in a child process (``python -m tests.testbed serve``) which itself runs
docker-registry; stop() terminates both and leaves nothing running.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from . import pki

REPO_ROOT = Path(__file__).resolve().parents[2]
INFO_FILE = "testbed.json"

__all__ = ["TestBed", "start_testbed", "REPO_ROOT"]


class TestBed:
    __test__ = False  # not a pytest test class

    def __init__(self, info: dict[str, Any], proc: subprocess.Popen[bytes] | None = None) -> None:
        self.info = info
        self.proc = proc
        self.endpoint: str = info["endpoint"]
        self.service: str = info["service"]
        self.issuer: str = info["issuer"]
        self.registry_url: str = info["registry_url"]
        self.ca_path: str = info["ca_path"]
        self.state_dir: str = info["state_dir"]
        self.storage_dir: str = info["storage_dir"]
        self.storage_endpoint: str = info.get("storage_endpoint", "")
        self.admin_username: str = info["admin_username"]
        self.admin_password: str = info["admin_password"]
        self.pid: int = info["pid"]
        self.registry_pid: int | None = info.get("registry_pid")
        self._signer = pki.token_signer(self.state_dir)

    # -- lifecycle -----------------------------------------------------------------------
    @classmethod
    def start(
        cls,
        state_dir: str | os.PathLike[str],
        *,
        anonymous_pull: bool = False,
        timeout: float = 30.0,
        watch_parent: bool = True,
        log_path: str | os.PathLike[str] | None = None,
    ) -> TestBed:
        d = Path(state_dir).resolve()
        d.mkdir(parents=True, exist_ok=True)
        info_path = d / INFO_FILE
        info_path.unlink(missing_ok=True)
        cmd = [sys.executable, "-m", "tests.testbed", "serve", "--state", str(d)]
        if anonymous_pull:
            cmd.append("--anonymous-pull")
        if watch_parent:
            cmd += ["--watch-pid", str(os.getpid())]
        env = dict(os.environ)
        env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        log = open(log_path or d / "serve.log", "ab")  # noqa: SIM115
        try:
            proc = subprocess.Popen(
                cmd,
                cwd=str(REPO_ROOT),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group: stop() can reap it all
            )
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"test bed exited with {proc.returncode}:\n"
                    + (d / "serve.log").read_text(errors="replace")[-4000:]
                )
            if info_path.is_file():
                info = json.loads(info_path.read_text())
                if info.get("pid") == proc.pid:
                    return cls(info, proc)
            time.sleep(0.05)
        _stop_process(proc.pid, proc)
        raise RuntimeError("test bed did not start in time; see " + str(d / "serve.log"))

    @classmethod
    def attach(cls, state_dir: str | os.PathLike[str]) -> TestBed:
        """Use a test bed started elsewhere (scripts/testbed.sh)."""
        info = json.loads((Path(state_dir) / INFO_FILE).read_text())
        return cls(info, None)

    def stop(self, timeout: float = 10.0) -> None:
        _stop_process(self.pid, self.proc, timeout)
        if self.registry_pid:
            # the serve process stops the registry; this is only a safety net
            _wait_gone(self.registry_pid, 2.0, kill=True)

    def __enter__(self) -> TestBed:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- helpers -------------------------------------------------------------------------
    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_path)

    def mint_aad_token(
        self,
        audience: str = "https://containerregistry.azure.net",
        expires_in: int = 3600,
        **kw: Any,
    ) -> str:
        return pki.mint_aad_token(self.state_dir, audience=audience, expires_in=expires_in, **kw)

    def mint_access_token(
        self, scopes: list[str] | str, *, expires_in: int = 3600, subject: str = "testbed-test"
    ) -> str:
        """An access token granting exactly ``scopes`` (e.g. ``repository:a:pull,push``)."""
        from .acr_service import parse_scope

        if isinstance(scopes, str):
            scopes = [scopes]
        access = []
        for s in scopes:
            parsed = parse_scope(s)
            if parsed is None:
                raise ValueError(f"bad scope {s!r}")
            typ, name, actions = parsed
            access.append({"type": typ, "name": name, "actions": actions})
        now = int(time.time())
        return self._signer.sign(
            {
                "jti": os.urandom(8).hex(),
                "sub": subject,
                "nbf": now - 5,
                "exp": now + expires_in,
                "iat": now,
                "iss": self.issuer,
                "aud": self.service,
                "access": access,
            }
        )

    def mint_refresh_token(
        self, *, expires_in: int = 3 * 3600, subject: str = "testbed-test"
    ) -> str:
        now = int(time.time())
        return self._signer.sign(
            {
                "jti": os.urandom(8).hex(),
                "sub": subject,
                "nbf": now - 5,
                "exp": now + expires_in,
                "iat": now,
                "iss": self.issuer,
                "aud": self.service,
                "grant_type": "refresh_token",
            }
        )

    def _admin_request(self, path: str, body: dict[str, Any] | None = None) -> Any:
        auth = base64.b64encode(f"{self.admin_username}:{self.admin_password}".encode()).decode()
        req = urllib.request.Request(
            self.endpoint + path,
            data=json.dumps(body).encode() if body is not None else None,
            method="POST" if body is not None else "GET",
            headers={"Authorization": "Basic " + auth, "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, context=self.ssl_context(), timeout=10) as r:
            return json.loads(r.read())

    def set_anonymous_pull(self, enabled: bool) -> None:
        self._admin_request("/_testbed/config", {"anonymous_pull": enabled})

    def set_token_lifetimes(
        self, access: int | None = None, refresh: int | None = None
    ) -> dict[str, Any]:
        """Set the lifetimes (seconds) of the access / refresh tokens the service issues
        from now on; without arguments, restore the defaults (1 h / 3 h, like ACR)."""
        if access is None and refresh is None:
            body = {"access_token_ttl": 3600, "refresh_token_ttl": 3 * 3600}
        else:
            body = {
                k: v
                for k, v in (("access_token_ttl", access), ("refresh_token_ttl", refresh))
                if v is not None
            }
        result: dict[str, Any] = self._admin_request("/_testbed/config", body)
        return result

    def set_blob_redirect(
        self,
        enabled: bool,
        *,
        origin: str | None = None,
        sas_ttl: int | None = None,
    ) -> dict[str, Any]:
        """ACR's blob download: ``GET /v2/<name>/blobs/<digest>`` that the registry
        authorizes is answered ``307`` with ``Location: <storage origin>/<container>/docker/
        registry/v2/blobs/sha256/<xx>/<hex>/data?sv=..&se=..&sr=b&sp=r&sig=..``; a request the
        registry refuses gets the registry's own answer (401 challenge, 404). ``origin``
        replaces the storage origin in those URLs (e.g. a fault proxy in front of
        :attr:`storage_endpoint`); ``sas_ttl`` (seconds) the URLs' lifetime (negative:
        already expired). ``set_blob_redirect(False)`` also restores both defaults."""
        body: dict[str, Any] = {"blob_redirect": enabled}
        if origin is not None:
            body["redirect_origin"] = origin
        if sas_ttl is not None:
            body["sas_ttl"] = sas_ttl
        result: dict[str, Any] = self._admin_request("/_testbed/config", body)
        return result

    def set_tamper(self, what: str | None) -> None:
        """``"blobs"``: every blob GET body (200 or 206, from the registry or the storage
        server) goes out with the byte at ``len // 2`` XOR-ed with 0xFF; ``"manifests"``:
        every manifest GET body with one hex digit of its middle-most ``sha256:`` digest
        changed (still valid JSON). Same length and headers (Docker-Content-Digest too).
        ``None``: off."""
        self._admin_request("/_testbed/config", {"tamper": what})

    def set_referrers_api(self, enabled: bool) -> None:
        """On (the default): the service answers the OCI 1.1 referrers API
        ``GET /v2/<name>/referrers/<digest>`` itself (from the registry's storage) and adds
        ``OCI-Subject`` to a successful manifest PUT whose body has a ``subject``. Off: like
        plain distribution 2.8, the referrers URL goes to the registry (``404 page not
        found``, text/plain, no auth challenge) and no ``OCI-Subject`` is added."""
        self._admin_request("/_testbed/config", {"referrers_api": enabled})

    def config(self) -> dict[str, Any]:
        """The service's current test settings (anonymous_pull, token TTLs, blob_redirect,
        redirect_origin, sas_ttl, tamper, referrers_api)."""
        result: dict[str, Any] = self._admin_request("/_testbed/config")
        return result

    def traffic(self, *, clear: bool = False) -> list[dict[str, Any]]:
        """Requests the service received since the last clear: dicts with ``method``,
        ``path`` (decoded), ``query`` (raw query string, e.g. ``mount=sha256%3A..&from=a``),
        ``status``, ``body_bytes`` (request body bytes received, e.g. blob bytes of a
        PATCH/PUT) and ``authorization`` (the scheme only).
        ``clear`` empties this log only (not :meth:`storage_traffic`)."""
        if clear:
            result = self._admin_request("/_testbed/traffic", {"clear": "traffic"})
        else:
            result = self._admin_request("/_testbed/traffic")
        log: list[dict[str, Any]] = result["traffic"]
        return log

    def storage_traffic(self, *, clear: bool = False) -> list[dict[str, Any]]:
        """Requests the fake blob storage received since the last clear: dicts with
        ``method``, ``path``, ``query`` (raw), ``host``, ``range`` (the Range / x-ms-range
        header or None), ``authorization`` (bool: an Authorization header was sent),
        ``status``, ``bytes_sent`` (blob bytes written) and ``complete`` (whole body sent).
        ``clear`` empties this log only."""
        if clear:
            result = self._admin_request("/_testbed/traffic", {"clear": "storage"})
        else:
            result = self._admin_request("/_testbed/traffic")
        log: list[dict[str, Any]] = result["storage_traffic"]
        return log

    def clear_traffic(self) -> None:
        """Empty both traffic logs and reset :meth:`upload_stats`."""
        self._admin_request("/_testbed/traffic", {"clear": "all"})

    def upload_stats(self, clear: bool = False) -> dict[str, int]:
        """Blob upload sessions seen since the last reset. A session opens when
        ``POST /v2/<name>/blobs/uploads/`` gets 202 (id: last path segment of its Location)
        and closes when its ``PUT`` gets 201 (completed), a ``DELETE`` of it, or any 4xx/5xx
        on it. Keys: ``max_open_sessions``, ``max_requests_in_flight`` (PATCH/PUT on
        sessions at once), ``sessions_opened``, ``sessions_completed``, and the current
        ``open_sessions`` / ``requests_in_flight``. A reset (``clear``, or
        :meth:`clear_traffic`) forgets the sessions open until then: they are not counted
        afterwards. ``clear`` returns the stats from before the reset."""
        if clear:
            result = self._admin_request("/_testbed/traffic", {"clear": "uploads"})
        else:
            result = self._admin_request("/_testbed/traffic")
        stats: dict[str, int] = result["upload_stats"]
        return stats

    @property
    def anonymous_pull(self) -> bool:
        return bool(self._admin_request("/_testbed/config")["anonymous_pull"])

    def __repr__(self) -> str:
        return f"TestBed(endpoint={self.endpoint!r}, registry_url={self.registry_url!r})"


def start_testbed(
    state_dir: str | os.PathLike[str], anonymous_pull: bool = False, **kw: Any
) -> TestBed:
    return TestBed.start(state_dir, anonymous_pull=anonymous_pull, **kw)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child of ours counts as gone once reaped
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass
    return True


def _wait_gone(pid: int, timeout: float, *, kill: bool) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    if kill and _alive(pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return True
        return _wait_gone(pid, 2.0, kill=False)
    return not _alive(pid)


def _stop_process(pid: int, proc: subprocess.Popen[bytes] | None, timeout: float = 10.0) -> None:
    """SIGTERM the serve process (it stops its registry), then SIGKILL its group if needed."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    if proc is not None:
        try:
            proc.wait(timeout)
            return
        except subprocess.TimeoutExpired:
            pass
    elif _wait_gone(pid, timeout, kill=False):
        return
    try:
        os.killpg(pid, signal.SIGKILL)  # the group created with start_new_session
    except (ProcessLookupError, PermissionError):
        pass
    if proc is not None:
        proc.wait(5)
