"""The test bed's serve process: PKI + registry subprocess + ACR service, until SIGTERM.

Writes ``<state>/testbed.json`` (atomically) once everything answers; removes it on exit.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import socket
import sys
from pathlib import Path
from typing import Any

from aiohttp import web

from . import pki
from .acr_service import ServiceState, make_app, server_ssl_context
from .registry import RegistryProcess, free_port, storage_root, write_config

INFO_FILE = "testbed.json"
ADMIN_FILE = "admin.json"
ISSUER = "azurecr-testbed"


def _admin(state_dir: Path) -> tuple[str, str]:
    path = state_dir / ADMIN_FILE
    if path.is_file():
        data = json.loads(path.read_text())
        return data["username"], data["password"]
    username, password = "testbedadmin", secrets.token_urlsafe(24)
    path.write_text(json.dumps({"username": username, "password": password}))
    os.chmod(path, 0o600)
    return username, password


def _write_info(state_dir: Path, info: dict[str, Any]) -> None:
    tmp = state_dir / (INFO_FILE + ".tmp")
    tmp.write_text(json.dumps(info, indent=2))
    os.replace(tmp, state_dir / INFO_FILE)


async def serve(
    state_dir: str | os.PathLike[str],
    *,
    anonymous_pull: bool = False,
    port: int = 0,
    registry_port: int = 0,
    watch_pid: int | None = None,
    fresh_pki: bool = False,
) -> None:
    d = Path(state_dir).resolve()  # noqa: ASYNC240 - startup, before serving
    d.mkdir(parents=True, exist_ok=True)
    (d / INFO_FILE).unlink(missing_ok=True)
    if fresh_pki or not (d / pki.TOKEN_BUNDLE).is_file() or not (d / pki.AAD_KEY).is_file():
        pki.create_pki(d)
    admin_user, admin_pw = _admin(d)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    svc_port = sock.getsockname()[1]
    service = f"127.0.0.1:{svc_port}"
    origin = f"https://{service}"
    reg_port = registry_port or free_port()

    config = write_config(
        d, port=reg_port, realm=f"{origin}/oauth2/token", service=service, issuer=ISSUER
    )
    registry = RegistryProcess(d, config, reg_port)
    state = ServiceState(
        state_dir=str(d),
        storage_root=str(storage_root(d)),
        origin=origin,
        service=service,
        issuer=ISSUER,
        registry_url=registry.url,
        admin_username=admin_user,
        admin_password=admin_pw,
        anonymous_pull=anonymous_pull,
    )
    runner = web.AppRunner(make_app(state), access_log=None, handle_signals=False)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)
    try:
        site = web.SockSite(
            runner, sock, ssl_context=server_ssl_context(str(d)), shutdown_timeout=1.0
        )
        await site.start()
        await loop.run_in_executor(None, registry.start)
        _write_info(
            d,
            {
                "endpoint": origin,
                "service": service,
                "issuer": ISSUER,
                "registry_url": registry.url,
                "ca_path": str(d / pki.CA_CERT),
                "state_dir": str(d),
                "storage_dir": str(storage_root(d)),
                "admin_username": admin_user,
                "admin_password": admin_pw,
                "anonymous_pull": anonymous_pull,
                "pid": os.getpid(),
                "registry_pid": registry.pid,
                "registry_log": str(registry.log_path),
            },
        )
        print(f"testbed ready: {origin} (registry {registry.url})", flush=True)
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=0.5)
            except asyncio.TimeoutError:
                pass
            if registry.proc is not None and registry.proc.poll() is not None:
                print("docker-registry exited unexpectedly", file=sys.stderr, flush=True)
                break
            if watch_pid is not None and not _alive(watch_pid):
                break
    finally:
        (d / INFO_FILE).unlink(missing_ok=True)
        registry.stop()
        await runner.cleanup()
        sock.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
