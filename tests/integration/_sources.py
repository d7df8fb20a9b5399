"""Data sources for upload tests: the same bytes as bytes, a file, a pipe or a generator."""

from __future__ import annotations

import hashlib
import os
import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

KINDS = ("bytes", "file", "pipe", "generator")
#: The smallest chunk size the client accepts: keeps "exactly one chunk" cases cheap.
CHUNK = 64 * 1024


def payload(size: int, seed: int = 0) -> bytes:
    return random.Random(size * 7919 + seed).randbytes(size)


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _pieces(data: bytes, step: int = 10_000) -> Iterator[bytes]:
    for i in range(0, len(data), step):
        yield data[i : i + step]


@contextmanager
def source(kind: str, data: bytes, tmp_path: Path) -> Iterator[Any]:
    """Yield ``data`` as the given kind of upload source."""
    if kind == "bytes":
        yield data
    elif kind == "generator":
        yield _pieces(data)
    elif kind == "file":
        path = tmp_path / "source.bin"
        path.write_bytes(data)
        with open(path, "rb") as f:
            yield f
    elif kind == "pipe":
        r, w = os.pipe()

        def feed() -> None:
            with os.fdopen(w, "wb") as out:
                for piece in _pieces(data, 65_537):
                    out.write(piece)

        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
        with os.fdopen(r, "rb", buffering=0) as f:
            assert not f.seekable()
            yield f
        writer.join(timeout=10)
    else:  # pragma: no cover
        raise AssertionError(kind)


def leftovers(directory: Path) -> list[str]:
    """Temporary files a download left behind."""
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".partial"))
