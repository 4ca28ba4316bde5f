"""The demo's console: a quiet terminal that tells the story, everything else in a log file.

:class:`DemoConsole` keeps a handle on the real terminal, then points the process's stdout and
stderr (file descriptors 1 and 2, so subprocesses, Prefect's and MLflow's handlers and progress bars
too) at ``.run/demo-<time>.log``. The demo writes only through :attr:`DemoConsole.console`: a rich
progress line per phase and per day, loud banners, the closing table. An error is printed in full on
the terminal (with the log's tail) before the demo exits.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from rich.console import Console
from rich.panel import Panel
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

HARMLESS = (
    "Failed to create the Prefect home directory",
    "Failed to resolve installed pip version",
    "Finished in state Completed",
)
"""Known-harmless third-party messages; they stay in the log file only."""


class DemoConsole:
    """The real terminal for the demo's own lines; the log file for the rest."""

    def __init__(self, run_dir: Path) -> None:
        run_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = run_dir / f"demo-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.log"
        self._terminal: IO[str] = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
        width = None if self._terminal.isatty() else max(120, int(os.environ.get("COLUMNS", "0") or 0))
        self.console = Console(file=self._terminal, highlight=False, soft_wrap=False, width=width)
        self.progress = Progress(
            SpinnerColumn(finished_text="[green]✓"),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=self.console,
        )

    @contextmanager
    def quiet(self) -> Iterator[DemoConsole]:
        """Send fd 1/2 (and Python's streams) to the log file for the duration; restore after."""
        sys.stdout.flush()
        sys.stderr.flush()
        saved = os.dup(1), os.dup(2)
        with (
            self.log_path.open("ab", buffering=0) as log,
            self.log_path.open("a", buffering=1, encoding="utf-8") as text,
            contextlib.redirect_stdout(text),
            contextlib.redirect_stderr(text),
        ):
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
            errors = _TerminalErrors(self.console)
            logging.getLogger().addHandler(errors)
            try:
                with self.progress:
                    yield self
            finally:
                logging.getLogger().removeHandler(errors)
                sys.stdout.flush()
                sys.stderr.flush()
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
                os.close(saved[0])
                os.close(saved[1])

    @contextmanager
    def step(self, description: str) -> Iterator[Any]:
        """A progress line that spins while the step runs and gets a check mark when it ends."""
        task = self.progress.add_task(description, total=1)

        def update(text: str) -> None:
            self.progress.update(task, description=text)

        try:
            yield update
        finally:
            self.progress.update(task, completed=1)

    def say(self, text: str) -> None:
        """A line above the progress display."""
        self.progress.console.print(text)

    def banner(self, text: str, style: str = "bold yellow") -> None:
        """A loud boxed message."""
        self.progress.console.print(Panel(text, style=style, expand=False))

    def table(self, table: Table) -> None:
        """Print a rich table."""
        self.console.print(table)

    def silence_rest(self) -> None:
        """Point fd 1/2 at the log again for whatever runs at exit (Prefect stops its server then)."""
        sys.stdout.flush()
        sys.stderr.flush()
        with self.log_path.open("ab", buffering=0) as log:
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)

    def failed(self, exc: BaseException) -> None:
        """The error in full on the terminal, then the end of the log (where the details are)."""
        self.console.print("[bold red]The demo failed:[/]")
        self.console.print("".join(traceback.format_exception(exc)), markup=False)
        tail = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-25:]
        if tail:
            self.console.print(f"[dim]last lines of {self.log_path}:[/]")
            self.console.print("\n".join(tail), markup=False)
        self.console.print(f"full log: {self.log_path}")


class _TerminalErrors(logging.Handler):
    """ERROR records from any library also reach the terminal (unless known to be harmless)."""

    def __init__(self, console: Console) -> None:
        super().__init__(logging.ERROR)
        self.console = console

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if not any(h in message for h in HARMLESS):
            self.console.print(f"[red]{record.levelname} {record.name}: {message}[/]", markup=True)
