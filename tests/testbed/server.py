"""The test bed's serve process: PKI + registry subprocess + ACR service, until SIGTERM.

Writes ``<state>/testbed.json`` (atomically) once everything answers; removes it on exit.
"""

from __future__ import annotations

import asyncio
import errno
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
from .blob_storage import make_storage_app
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


def _listen(host: str, port: int, family: int = socket.AF_INET) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def _storage_sockets() -> list[socket.socket]:
    """The fake blob storage's listening sockets: 127.0.0.1, and ::1 on the same port when
    the host has IPv6 loopback (so ``localhost`` works whichever address a client tries)."""
    for _ in range(20):
        v4 = _listen("127.0.0.1", 0)
        port = v4.getsockname()[1]
        if not socket.has_ipv6:
            return [v4]
        try:
            return [v4, _listen("::1", port, socket.AF_INET6)]
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                v4.close()  # someone else has ::1:<port>; pick another port
                continue
            return [v4]  # no IPv6 loopback here
    raise RuntimeError("no free port for the blob storage server")


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

    sock = _listen("127.0.0.1", port)
    svc_port = sock.getsockname()[1]
    storage_socks = _storage_sockets()
    # "localhost": another origin than the service's 127.0.0.1 (the certificate covers both)
    storage_origin = f"https://localhost:{storage_socks[0].getsockname()[1]}"
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
        storage_origin=storage_origin,
    )
    runner = web.AppRunner(make_app(state), access_log=None, handle_signals=False)
    await runner.setup()
    storage_runner = web.AppRunner(make_storage_app(state), access_log=None, handle_signals=False)
    await storage_runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)
    try:
        site = web.SockSite(
            runner, sock, ssl_context=server_ssl_context(str(d)), shutdown_timeout=1.0
        )
        await site.start()
        tls = server_ssl_context(str(d))
        for s in storage_socks:
            await web.SockSite(storage_runner, s, ssl_context=tls, shutdown_timeout=1.0).start()
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
                "storage_endpoint": storage_origin,
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
        await storage_runner.cleanup()
        await runner.cleanup()
        sock.close()
        for s in storage_socks:
            s.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
