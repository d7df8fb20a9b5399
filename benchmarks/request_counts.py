"""HTTP requests per call, observed at the test bed's service: azurecr beside
azure-containerregistry 1.2.0, on the same registry, in one run.

    python -m benchmarks.request_counts [--calls 50] [--json FILE]

Starts its own test bed (or attaches to ``$AZURECR_TESTBED_STATE`` from
``scripts/testbed.sh start``), pushes one tagged image, then for each client counts the
requests the service received for: the first metadata call (the handshake), N warm
``get_tag_properties`` calls, and ``upload_blob`` of 20 MiB from a stream in 4 MiB chunks
(requests, PATCHes, and PATCH + PUT body bytes: each chunk should travel once).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from azure.core.credentials import AccessToken

from tests.integration._content import push_image, unique_repository
from tests.testbed import TestBed, start_testbed

BLOB = 20 * 1024 * 1024
CHUNK = 4 * 1024 * 1024


class BedCredential:
    """A TokenCredential minting the test bed's fake AAD tokens."""

    def __init__(self, bed: TestBed) -> None:
        self.bed = bed

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        audience = scopes[0].removesuffix("/.default")
        return AccessToken(self.bed.mint_aad_token(audience=audience), int(time.time()) + 3600)


@contextmanager
def testbed() -> Iterator[TestBed]:
    state = os.environ.get("AZURECR_TESTBED_STATE")
    if state:
        yield TestBed.attach(state)
        return
    with tempfile.TemporaryDirectory() as tmp:
        bed = start_testbed(tmp)
        try:
            yield bed
        finally:
            bed.stop()


def summarize(traffic: list[dict[str, Any]]) -> dict[str, int]:
    return {
        "requests": len(traffic),
        "401s": sum(1 for t in traffic if t["status"] == 401),
        "token_requests": sum(1 for t in traffic if t["path"].startswith("/oauth2/")),
        "patches": sum(1 for t in traffic if t["method"] == "PATCH"),
        "upload_bytes": sum(t["body_bytes"] for t in traffic if t["method"] in ("PATCH", "PUT")),
    }


def measure(bed: TestBed, name: str, calls: int, repo: str, data: bytes) -> dict[str, Any]:
    row: dict[str, Any] = {"client": name}
    credential = BedCredential(bed)
    if name == "azurecr":
        import azurecr

        client: Any = azurecr.ContainerRegistryClient(
            bed.endpoint, credential, connection_verify=bed.ca_path
        )
    else:
        import azure.containerregistry as official

        client = official.ContainerRegistryClient(
            bed.endpoint, credential, connection_verify=bed.ca_path
        )
    with client:
        bed.traffic(clear=True)
        client.get_tag_properties(repo, "v1")
        row["first_call"] = summarize(bed.traffic(clear=True))
        for _ in range(calls):
            client.get_tag_properties(repo, "v1")
        row["warm_calls"] = summarize(bed.traffic(clear=True))
        row["warm_requests_per_call"] = row["warm_calls"]["requests"] / calls
        upload_repo = repo + "-upload-" + name.replace(".", "-").replace("_", "-")
        if name == "azurecr":
            client.upload_blob(upload_repo, io.BytesIO(data), chunk_size=CHUNK)
        else:
            # 1.2.0 has no chunk size: 4 MiB PATCHes, each after a 401, then an empty PUT.
            client.upload_blob(upload_repo, io.BytesIO(data))
        row["upload_20MiB"] = summarize(bed.traffic(clear=True))
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--json", dest="json_path")
    args = parser.parse_args(argv)
    data = os.urandom(BLOB)
    with testbed() as bed:
        repo = unique_repository("bench")
        push_image(bed, repo, "v1")
        rows = [
            measure(bed, n, args.calls, repo, data) for n in ("azurecr", "azure-containerregistry")
        ]
    print(
        f"{'client':<26}{'1st call':>10}{'warm reqs/call':>16}{'warm 401s':>11}"
        f"{'upload reqs':>13}{'PATCHes':>9}{'PATCH+PUT MiB':>15}"
    )
    for r in rows:
        print(
            f"{r['client']:<26}{r['first_call']['requests']:>10}"
            f"{r['warm_requests_per_call']:>16.2f}{r['warm_calls']['401s']:>11}"
            f"{r['upload_20MiB']['requests']:>13}"
            f"{r['upload_20MiB']['patches']:>9}"
            f"{r['upload_20MiB']['upload_bytes'] / 2**20:>15.1f}"
        )
    if args.json_path:
        with open(args.json_path, "w") as f:
            json.dump(rows, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
