"""What the CLI prints: tables and key/value blocks (rich), JSON, notes and progress bars.

Results go to stdout (tables, JSON, digests, paths); notes, summaries, progress bars and
errors go to stderr, so ``$(azurecr push ...)`` captures only the digest. rich is imported
only here and only when something is printed, so ``--help`` does not pay for it.
"""

from __future__ import annotations

import io
import json
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Callable, Optional

__all__ = [
    "MissingRichError",
    "Output",
    "Transfer",
    "format_size",
    "format_time",
    "require_rich",
]

INSTALL_HINT = "the azurecr command needs rich: pip install 'azurecr[cli]'"
WIDE = 10_000  # render width for a pipe or file: never wrap a row


class MissingRichError(Exception):
    """rich is not installed (the ``cli`` extra was not)."""


def require_rich() -> None:
    try:
        import rich  # noqa: F401
    except ImportError:
        raise MissingRichError(INSTALL_HINT) from None


def format_size(size: Optional[float]) -> str:
    """Binary units, as the progress bars show them: ``512 B``, ``1.5 KiB``, ``12.0 MiB``."""
    if size is None:
        return "-"
    if size < 1024:
        return f"{int(size)} B"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            break
    return f"{value:.1f} {unit}"


def format_time(value: Optional[datetime]) -> str:
    if value is None:
        return "-"
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _json_default(value: object) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


class Output:
    """Where and how results, notes and progress go."""

    def __init__(self, *, json_mode: bool, quiet: bool) -> None:
        self.json_mode = json_mode
        self.quiet = quiet

    # -- results (stdout) -----------------------------------------------------------------
    def json(self, value: Any) -> None:
        sys.stdout.write(json.dumps(value, indent=2, default=_json_default) + "\n")
        sys.stdout.flush()

    def line(self, text: str) -> None:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        from rich import box
        from rich.table import Table

        # A terminal gets a rule under the header; a pipe plain columns, as docker prints them.
        tty = sys.stdout.isatty()
        table = Table(
            box=box.SIMPLE_HEAD if tty else None,
            show_edge=False,
            pad_edge=False,
            header_style="bold",
        )
        for header in headers:
            table.add_column(header, no_wrap=True, overflow="fold")
        for row in rows:
            table.add_row(*row)
        self._render(table)

    def fields(self, title: Optional[str], pairs: Sequence[tuple[str, str]]) -> None:
        from rich.table import Table
        from rich.text import Text

        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(overflow="fold")
        for key, value in pairs:
            grid.add_row(key, Text(value))
        if title is not None:
            self._render(Text(title, style="bold underline"))
        self._render(grid)

    def blank(self) -> None:
        sys.stdout.write("\n")

    def _render(self, renderable: Any) -> None:
        from rich.console import Console

        if sys.stdout.isatty():
            Console(highlight=False).print(renderable)
            return
        # A pipe or a file: no colour, no wrapping, no trailing blanks (grep/awk-friendly).
        buffer = io.StringIO()
        Console(file=buffer, width=WIDE, color_system=None, highlight=False).print(renderable)
        text = "\n".join(line.rstrip() for line in buffer.getvalue().splitlines())
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    # -- notes (stderr) -------------------------------------------------------------------
    def note(self, text: str) -> None:
        """A human-facing message (what was done); silent with --quiet or --json."""
        if not (self.quiet or self.json_mode):
            sys.stderr.write(text + "\n")
            sys.stderr.flush()

    def progress_wanted(self) -> bool:
        return not (self.quiet or self.json_mode) and sys.stderr.isatty()

    @contextmanager
    def transfer(self, description: str) -> Iterator[Transfer]:
        """A progress bar on a terminal (fed by the library's ``progress_hook``)."""
        transfer = Transfer(description, bar=self.progress_wanted())
        try:
            transfer.start()
            yield transfer
        finally:
            transfer.stop()


class Transfer:
    """Counts bytes through ``hook(done, total)``; draws a rich bar when ``bar`` is True.

    The hook may be called from several worker threads at once: rich's ``Progress.update``
    takes a lock, and the counters here are single assignments.
    """

    def __init__(self, description: str, *, bar: bool) -> None:
        self.description = description
        self.bar = bar
        self.done = 0
        self.total: Optional[int] = None
        self._started = time.monotonic()
        self._progress: Any = None
        self._task: Any = None

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def start(self) -> None:
        self._started = time.monotonic()
        if not self.bar:
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            DownloadColumn(binary_units=True),
            _speed_column(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self._progress.start()
        self._task = self._progress.add_task(self.description, total=None)

    def hook(self, done: int, total: Optional[int]) -> None:
        self.done = done
        if total is not None:
            self.total = total
        if self._progress is not None:
            self._progress.update(self._task, completed=done, total=self.total)

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def summary(self, size: Optional[int] = None) -> str:
        """``4.0 MiB in 1.2 s (3.3 MiB/s)``; ``size`` defaults to the bytes reported done."""
        done = self.done if size is None else size
        seconds = max(self.elapsed, 1e-6)
        return f"{format_size(done)} in {seconds:.1f} s ({format_size(done / seconds)}/s)"


def _speed_column() -> Any:
    """Transfer speed in binary units, to match the bar's ``MiB`` (rich's own is decimal)."""
    from rich.progress import ProgressColumn, Task
    from rich.text import Text

    class BinarySpeedColumn(ProgressColumn):
        def render(self, task: Task) -> Text:
            speed = task.finished_speed or task.speed
            if speed is None:
                return Text("?", style="progress.data.speed")
            return Text(f"{format_size(speed)}/s", style="progress.data.speed")

    return BinarySpeedColumn()


ProgressHook = Callable[[int, Optional[int]], None]
