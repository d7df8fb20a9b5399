"""CLI: ``python -m tests.testbed serve|info|env|aad-token --state DIR``."""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import sys
from pathlib import Path

from . import pki
from .server import INFO_FILE, serve


def _info(state: str) -> dict[str, object]:
    path = Path(state) / INFO_FILE
    if not path.is_file():
        sys.exit(f"no running test bed in {state} ({path} missing)")
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m tests.testbed")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve", help="run registry + ACR service until SIGTERM")
    s.add_argument("--state", required=True)
    s.add_argument("--anonymous-pull", action="store_true")
    s.add_argument("--port", type=int, default=0)
    s.add_argument("--registry-port", type=int, default=0)
    s.add_argument("--watch-pid", type=int, default=None, help="exit when this process is gone")
    s.add_argument("--fresh-pki", action="store_true")
    for name in ("info", "env"):
        x = sub.add_parser(name)
        x.add_argument("--state", required=True)
    a = sub.add_parser("aad-token", help="print a fake AAD access token the bed trusts")
    a.add_argument("--state", required=True)
    a.add_argument("--audience", default="https://containerregistry.azure.net")
    a.add_argument("--expires-in", type=int, default=3600)
    args = p.parse_args(argv)

    if args.cmd == "serve":
        asyncio.run(
            serve(
                args.state,
                anonymous_pull=args.anonymous_pull,
                port=args.port,
                registry_port=args.registry_port,
                watch_pid=args.watch_pid,
                fresh_pki=args.fresh_pki,
            )
        )
    elif args.cmd == "info":
        info = _info(args.state)
        for k in (
            "endpoint",
            "service",
            "registry_url",
            "storage_endpoint",
            "ca_path",
            "admin_username",
            "admin_password",
            "anonymous_pull",
            "pid",
            "registry_pid",
        ):
            print(f"{k}: {info.get(k)}")
    elif args.cmd == "env":
        info = _info(args.state)
        env = {
            "AZURECR_TESTBED_ENDPOINT": info["endpoint"],
            "AZURECR_TESTBED_SERVICE": info["service"],
            "AZURECR_TESTBED_CA": info["ca_path"],
            "AZURECR_TESTBED_REGISTRY_URL": info["registry_url"],
            "AZURECR_TESTBED_STORAGE_ENDPOINT": info.get("storage_endpoint", ""),
            "AZURECR_TESTBED_USERNAME": info["admin_username"],
            "AZURECR_TESTBED_PASSWORD": info["admin_password"],
            "AZURECR_TESTBED_STATE": info["state_dir"],
        }
        print("export " + " ".join(f"{k}={shlex.quote(str(v))}" for k, v in env.items()))
    elif args.cmd == "aad-token":
        print(pki.mint_aad_token(args.state, audience=args.audience, expires_in=args.expires_in))


if __name__ == "__main__":
    main()
