"""The reliability suite's tally: each test records what it injected and what came of it,
and ``conftest.py`` prints the totals at the end of the run (pasted in release notes)."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict

_lock = threading.Lock()
_tally: dict[str, Counter[str]] = defaultdict(Counter)


def record(section: str, outcome: str, n: int = 1) -> None:
    """Count ``n`` occurrences of ``outcome`` under ``section`` (e.g. "faults: uploads",
    "completed after retry")."""
    with _lock:
        _tally[section][outcome] += n


def snapshot() -> dict[str, dict[str, int]]:
    with _lock:
        return {section: dict(counts) for section, counts in sorted(_tally.items())}


def render() -> list[str]:
    lines = []
    for section, counts in snapshot().items():
        lines.append(f"{section} ({sum(counts.values())})")
        lines.extend(f"    {count:6d}  {outcome}" for outcome, count in sorted(counts.items()))
    return lines
