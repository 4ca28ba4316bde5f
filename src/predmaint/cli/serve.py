"""CLI commands of this area."""

from __future__ import annotations

from collections.abc import Callable

import typer

from predmaint.config import Params


def register(app: typer.Typer, get: Callable[[typer.Context], Params]) -> None:
    """Add this area's commands to ``app``."""
