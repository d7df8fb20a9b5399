"""Peak memory of blob transfers: the client process's peak RSS above its baseline.

    python -m benchmarks.memory [--size-mib 1024] [--quick] [--json FILE]

Starts one test bed (or attaches to ``$AZURECR_TESTBED_STATE`` from
``scripts/testbed.sh start``), writes N MiB of random data to a temporary file, then runs
each transfer in its own fresh child process (``--worker``, a mode of this module):

    sync upload_blob (file)            client.upload_blob(repo, open(file, "rb"))
    sync download_blob_to_file         client.download_blob_to_file(repo, digest, path)
    sync download_blob (stream)        for chunk in client.download_blob(...): f.write(chunk)
    async upload_blob (file)           await aio_client.upload_blob(repo, open(file, "rb"))
    async download_blob_to_file        await aio_client.download_blob_to_file(...)

A child records its baseline RSS after its imports, the client's creation and a warm-up
transfer of a small blob, resets the kernel's peak-RSS mark, runs the transfer, and reports
its peak RSS minus the baseline, its wall time and CPU seconds (all threads).

On Linux the peak is ``VmHWM`` after ``/proc/self/clear_refs`` was reset at the baseline.
``getrusage(RUSAGE_SELF).ru_maxrss`` is reported beside it (``maxrss_over_baseline`` in the
JSON) but is not trusted alone: across ``exec`` Linux carries the parent's peak into the
child's ``ru_maxrss``, so under a large parent (pytest) it reports the parent, not the child.

Target: at most 64 MiB above the baseline for a 1 GiB transfer, whatever the size.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Optional

MiB = 1024 * 1024
TARGET_MIB = 64
QUICK_MIB = 32
WARMUP_BYTES = 256 * 1024
WARMUP_CHUNK = 64 * 1024  # the smallest chunk size: the warm-up goes through PATCH and PUT
WRITE_BLOCK = 4 * MiB

#: mode -> table label, in run order
MODES = {
    "sync-upload": "sync upload_blob (file)",
    "sync-download-file": "sync download_blob_to_file",
    "sync-download-stream": "sync download_blob (stream)",
    "async-upload": "async upload_blob (file)",
    "async-download-file": "async download_blob_to_file",
}

ENV_USERNAME = "AZURECR_BENCH_USERNAME"
ENV_PASSWORD = "AZURECR_BENCH_PASSWORD"  # noqa: S105 - the name of a variable


# ----------------------------------------------------------------------------- measuring
def _status_kib(field: str) -> Optional[int]:
    """A ``kB`` field of /proc/self/status (``VmRSS``, ``VmHWM``); None off Linux."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _maxrss_kib() -> int:
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss // 1024 if sys.platform == "darwin" else maxrss  # bytes on macOS


def _reset_peak() -> bool:
    """Reset the kernel's peak RSS (VmHWM) to the current RSS (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def _cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class Meter:
    """Baseline at construction (after a gc), peak and time when ``stop`` is called."""

    def __init__(self) -> None:
        gc.collect()
        self.baseline_kib = _status_kib("VmRSS") or _maxrss_kib()
        self.maxrss_before_kib = _maxrss_kib()
        self.hwm_reset = _reset_peak()
        self.cpu0 = _cpu_seconds()
        self.t0 = time.perf_counter()

    def stop(self, size: int) -> dict[str, Any]:
        wall = time.perf_counter() - self.t0
        cpu = _cpu_seconds() - self.cpu0
        maxrss = _maxrss_kib()
        hwm = _status_kib("VmHWM") if self.hwm_reset else None
        peak = hwm if hwm is not None else maxrss
        return {
            "bytes": size,
            "wall_s": round(wall, 3),
            "cpu_s": round(cpu, 3),
            "mib_per_s": round(size / MiB / wall, 1) if wall > 0 else None,
            "baseline_rss_mib": round(self.baseline_kib / 1024, 1),
            "peak_over_baseline_mib": round((peak - self.baseline_kib) / 1024, 1),
            "peak_source": "VmHWM" if hwm is not None else "ru_maxrss",
            "maxrss_over_baseline_mib": round((maxrss - self.baseline_kib) / 1024, 1),
            "maxrss_inherited": self.maxrss_before_kib > self.baseline_kib + 1024,
        }


# ----------------------------------------------------------------------------- the worker
def _credential() -> Any:
    from azure.core.credentials import AzureNamedKeyCredential

    return AzureNamedKeyCredential(os.environ[ENV_USERNAME], os.environ[ENV_PASSWORD])


def _sync_worker(job: dict[str, Any]) -> dict[str, Any]:
    import io

    import azurecr

    mode, repo = job["mode"], job["repository"]
    chunk = job.get("chunk_size")
    out = Path(job["out"])
    with azurecr.ContainerRegistryClient(
        job["endpoint"], _credential(), connection_verify=job["ca_path"]
    ) as client:
        client.ping()
        report: dict[str, Any] = {}
        if mode == "sync-upload":
            warm = io.BytesIO(os.urandom(WARMUP_BYTES))
            report["warmup_digest"], _ = client.upload_blob(repo, warm, chunk_size=WARMUP_CHUNK)
            meter = Meter()
            with open(job["file"], "rb") as f:
                digest, size = client.upload_blob(repo, f, chunk_size=chunk)
            report.update(meter.stop(size), digest=digest)
        elif mode == "sync-download-file":
            client.download_blob_to_file(repo, job["warmup_digest"], out)  # replaced below
            meter = Meter()
            size = client.download_blob_to_file(
                repo, job["digest"], out, part_size=chunk, **_concurrency(job)
            )
            report.update(meter.stop(size))
        elif mode == "sync-download-stream":
            with client.download_blob(repo, job["warmup_digest"]) as stream:
                stream.readall()
            meter = Meter()
            size = 0
            with client.download_blob(repo, job["digest"]) as stream, open(out, "wb") as f:
                for piece in stream:
                    f.write(piece)
                    size += len(piece)
            report.update(meter.stop(size))
        else:
            raise ValueError(f"unknown mode {mode}")
    return report


def _concurrency(job: dict[str, Any]) -> dict[str, Any]:
    n = job.get("max_concurrency")
    return {} if n is None else {"max_concurrency": n}


async def _async_worker(job: dict[str, Any], upload_file: Any) -> dict[str, Any]:
    import io

    import azurecr.aio

    mode, repo = job["mode"], job["repository"]
    chunk = job.get("chunk_size")
    out = Path(job["out"])
    async with azurecr.aio.ContainerRegistryClient(
        job["endpoint"], _credential(), connection_verify=job["ca_path"]
    ) as client:
        await client.ping()
        report: dict[str, Any] = {}
        if mode == "async-upload":
            warm = io.BytesIO(os.urandom(WARMUP_BYTES))
            report["warmup_digest"], _ = await client.upload_blob(
                repo, warm, chunk_size=WARMUP_CHUNK
            )
            meter = Meter()
            digest, size = await client.upload_blob(repo, upload_file, chunk_size=chunk)
            report.update(meter.stop(size), digest=digest)
        elif mode == "async-download-file":
            await client.download_blob_to_file(repo, job["warmup_digest"], out)  # replaced below
            meter = Meter()
            size = await client.download_blob_to_file(
                repo, job["digest"], out, part_size=chunk, **_concurrency(job)
            )
            report.update(meter.stop(size))
        else:
            raise ValueError(f"unknown mode {mode}")
    return report


def worker(job: dict[str, Any]) -> dict[str, Any]:
    if job["mode"].startswith("async-"):
        if job["mode"] == "async-upload":
            with open(job["file"], "rb") as f:
                return asyncio.run(_async_worker(job, f))
        return asyncio.run(_async_worker(job, None))
    return _sync_worker(job)


# ----------------------------------------------------------------------------- the driver
@contextmanager
def _testbed(workdir: Path) -> Iterator[Any]:
    from tests.testbed import TestBed, start_testbed

    state = os.environ.get("AZURECR_TESTBED_STATE")
    if state:
        yield TestBed.attach(state)
        return
    bed = start_testbed(workdir / "testbed")
    try:
        yield bed
    finally:
        bed.stop()


def write_random_file(path: Path, size: int) -> None:
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(WRITE_BLOCK, left)
            f.write(os.urandom(n))
            left -= n


def run_worker(bed: Any, job: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; returns its report."""
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ)
    env["PYTHONPATH"] = str(root) + os.pathsep + env.get("PYTHONPATH", "")
    env[ENV_USERNAME] = bed.admin_username
    env[ENV_PASSWORD] = bed.admin_password
    job = dict(job, endpoint=bed.endpoint, ca_path=bed.ca_path)
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory", "--worker", json.dumps(job)],
        cwd=str(root),
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"worker {job['mode']} failed ({proc.returncode}):\n{proc.stderr}")
    report: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return report


def run_all(
    bed: Any,
    size_mib: int,
    workdir: Path,
    *,
    chunk_mib: Optional[int] = None,
    max_concurrency: Optional[int] = None,
    modes: Optional[list[str]] = None,
) -> list[dict[str, Any]]:
    """Measure every mode (in ``MODES`` order) against ``bed`` with an N MiB blob."""
    size = size_mib * MiB
    source = workdir / "blob.bin"
    write_random_file(source, size)
    out = workdir / "download.bin"
    chunk = None if chunk_mib is None else chunk_mib * MiB
    timeout = 120 + size / MiB  # generous: >= 1 MiB/s
    repo = f"bench/memory-{uuid.uuid4().hex[:12]}"
    common: dict[str, Any] = {
        "file": str(source),
        "out": str(out),
        "chunk_size": chunk,
        "max_concurrency": max_concurrency,
    }
    selected = [m for m in MODES if modes is None or m in modes]
    # Downloads need the blob: the sync upload always runs (its row is kept if selected).
    up = run_worker(bed, dict(common, mode="sync-upload", repository=repo), timeout)
    digest, warmup = up["digest"], up["warmup_digest"]
    rows: list[dict[str, Any]] = []
    try:
        for mode in selected:
            if mode == "sync-upload":
                report = up
            else:
                job = dict(common, mode=mode, repository=repo, digest=digest)
                job["warmup_digest"] = warmup
                if mode == "async-upload":
                    job["repository"] = repo + "-async"
                report = run_worker(bed, job, timeout)
                if mode == "async-upload" and report["digest"] != digest:
                    raise RuntimeError("the async upload stored another digest")
                if mode.startswith(("sync-download", "async-download")):
                    if out.stat().st_size != size:
                        raise RuntimeError(f"{mode} wrote {out.stat().st_size} of {size} bytes")
                    out.unlink()
            rows.append({"mode": mode, "transfer": MODES[mode], **report})
    finally:
        source.unlink(missing_ok=True)
        out.unlink(missing_ok=True)
    return rows


def format_table(rows: list[dict[str, Any]], size_mib: int) -> str:
    lines = [
        f"{size_mib} MiB blob; peak RSS of a fresh client process above its baseline "
        f"(target <= {TARGET_MIB} MiB for 1 GiB)",
        f"{'transfer':<32}{'MiB/s':>9}{'CPU s':>9}{'peak RSS MiB':>14}",
    ]
    for r in rows:
        lines.append(
            f"{r['transfer']:<32}{r['mib_per_s']:>9.1f}{r['cpu_s']:>9.2f}"
            f"{r['peak_over_baseline_mib']:>14.1f}"
        )
    return "\n".join(lines)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024, help="blob size (default 1024)")
    parser.add_argument("--quick", action="store_true", help=f"a {QUICK_MIB} MiB blob")
    parser.add_argument("--json", dest="json_path", help="also write the rows as JSON")
    parser.add_argument(
        "--chunk-mib", type=int, help="upload chunk_size / download part_size (default: client's)"
    )
    parser.add_argument("--max-concurrency", type=int, help="download_blob_to_file concurrency")
    parser.add_argument("--modes", help="comma-separated subset of: " + ",".join(MODES))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0
    size_mib = QUICK_MIB if args.quick else args.size_mib
    modes = None if not args.modes else args.modes.split(",")
    unknown = set(modes or ()) - set(MODES)
    if unknown:
        parser.error(f"unknown modes: {', '.join(sorted(unknown))}")
    with tempfile.TemporaryDirectory(prefix="azurecr-memory-") as tmp:
        workdir = Path(tmp)
        with _testbed(workdir) as bed:
            rows = run_all(
                bed,
                size_mib,
                workdir,
                chunk_mib=args.chunk_mib,
                max_concurrency=args.max_concurrency,
                modes=modes,
            )
    print(format_table(rows, size_mib))
    if args.json_path:
        with open(args.json_path, "w") as f:
            json.dump(rows, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
