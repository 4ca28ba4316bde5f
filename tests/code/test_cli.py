"""Every lifecycle step is a `predmaint` subcommand with its own `--help`; bad params stop every command."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from predmaint.cli import app

COMMAND = typer.main.get_command(app)


def _leaves(group: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    commands = getattr(group, "commands", {})
    out: list[tuple[str, ...]] = []
    for name, cmd in commands.items():
        out.extend(_leaves(cmd, (*prefix, name)) if getattr(cmd, "commands", None) else [(*prefix, name)])
    return out


LIFECYCLE = {
    "ingest",
    "simulate",
    "split",
    "validate",
    "clean",
    "train",
    "evaluate",
    "promote",
    "rollback",
    "reproduce",
    "serve",
    "replay",
    "monitor",
    "batch",
    "lineage",
    "demo",
    "reset",
    "docs",
}


def test_every_lifecycle_step_is_a_subcommand() -> None:
    names = {path[0] for path in _leaves(COMMAND)}
    assert names >= LIFECYCLE, sorted(LIFECYCLE - names)


@pytest.mark.parametrize("path", _leaves(COMMAND), ids=" ".join)
def test_each_subcommand_has_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output and len(result.output.split("Usage:")[1].strip()) > 40


def test_missing_params_file_stops_a_command_with_its_name(tmp_path: Path) -> None:
    missing = tmp_path / "params.yaml"
    result = CliRunner().invoke(app, ["--params", str(missing), "split"])
    assert result.exit_code == 2
    assert f"{missing}: params file not found" in result.output
