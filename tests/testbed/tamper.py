"""Corrupt response bodies on the way out (the test bed's ``tamper`` mode).

Both helpers change exactly one byte and keep the length, so every header (Content-Length,
Docker-Content-Digest, Content-Range) still describes the untampered content: only a client
that hashes what it received notices.
"""

from __future__ import annotations

import re

TAMPER_MODES = ("blobs", "manifests")
_DIGEST_HEX = re.compile(rb"sha256:([0-9a-f]{64})")
_HEX_NEXT = {c: (b"0123456789abcdef"[(i + 1) % 16]) for i, c in enumerate(b"0123456789abcdef")}


class ByteFlipper:
    """Flips (XOR 0xFF) the byte at offset ``total // 2`` of a streamed body.

    Feed every chunk through :meth:`apply` in order; ``total`` is the body length (from
    Content-Length); ``None`` (unknown length) flips the first byte.
    """

    def __init__(self, total: int | None) -> None:
        self.target = (total // 2) if total else 0
        self.pos = 0
        self.flipped = False

    def apply(self, chunk: bytes) -> bytes:
        start, self.pos = self.pos, self.pos + len(chunk)
        if self.flipped or not start <= self.target < self.pos:
            return chunk
        i = self.target - start
        self.flipped = True
        return chunk[:i] + bytes([chunk[i] ^ 0xFF]) + chunk[i + 1 :]


def tamper_manifest(body: bytes) -> bytes:
    """Change one hex digit of the ``sha256:`` digest nearest the middle of a manifest.

    The document stays valid JSON of the same length (so a client fails on the digest
    check, not on parsing). Without any digest in it, the middle byte is XOR-ed with 1.
    """
    if not body:
        return body
    mid = len(body) // 2
    best: int | None = None
    for m in _DIGEST_HEX.finditer(body):
        pos = m.start(1) + 32
        if best is None or abs(pos - mid) < abs(best - mid):
            best = pos
    if best is None:
        return body[:mid] + bytes([body[mid] ^ 0x01]) + body[mid + 1 :]
    return body[:best] + bytes([_HEX_NEXT[body[best]]]) + body[best + 1 :]
