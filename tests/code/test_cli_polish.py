"""CLI polish: a short admin token is one line naming the key, failures say what to do next, flags show no type."""

from __future__ import annotations

from typer.testing import CliRunner

from predmaint.cli import app
from predmaint.config import Params


def test_a_short_admin_token_is_one_line_naming_the_key(sim_params: Params) -> None:
    env_name = sim_params.serving.admin_token_env
    result = CliRunner().invoke(
        app, ["--params", str(sim_params.root / "params.yaml"), "serve", "--port", "0"], env={env_name: "short"}
    )
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and f"${env_name}" in lines[0] and "Traceback" not in result.output, result.output


def test_promote_without_a_challenger_says_what_to_do_next(sim_params: Params) -> None:
    result = CliRunner().invoke(app, ["--params", str(sim_params.root / "params.yaml"), "promote"])
    assert result.exit_code == 1, result.output
    assert "next: " in result.output and "predmaint train" in result.output, result.output


def test_help_shows_no_bool_metavars_and_groups_commands() -> None:
    root = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "120"})
    sub = CliRunner().invoke(app, ["reset", "--help"], env={"COLUMNS": "120"})
    assert "<bool>" not in root.output and "<bool>" not in sub.output
    for panel in ("Data", "Model", "Serve and monitor", "Lifecycle and stack"):
        assert f"─ {panel} " in root.output, panel
