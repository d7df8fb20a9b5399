"""Prints the reliability suite's summary (faults injected, outcomes, inputs tried)."""

from __future__ import annotations

from typing import Any

from ._report import render


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    lines = render()
    if lines:
        terminalreporter.section("azurecr reliability summary")
        for line in lines:
            terminalreporter.write_line(line)
