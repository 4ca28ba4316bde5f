"""The ``predmaint`` command line: one subcommand per lifecycle step.

Each area registers its commands from its own module, so the CLI stays a thin caller of the
library. Every command reads params.yaml once (``--params`` or ``$PREDMAINT_PARAMS``) and stops
with a message naming the file and key when it is invalid.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from predmaint.cli import batch, data, lifecycle, lineage, log, model, monitor, quality, serve, ui
from predmaint.cli.help import Group, polish
from predmaint.config import PARAMS_ENV, ConfigError, Params, load_params
from predmaint.config.runtime import disable_telemetry

app = typer.Typer(
    name="predmaint",
    help="Predictive-maintenance MLOps on AI4I 2020: data, gate, train, registry, serve, monitor.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=Group,
)


@app.callback()
def main(
    ctx: typer.Context,
    params: Annotated[
        Path | None,
        typer.Option("--params", envvar=PARAMS_ENV, help="The params file (default: ./params.yaml)."),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
) -> None:
    """Load params.yaml once and switch telemetry off for every tool."""
    disable_telemetry()
    log = logging.getLogger("predmaint")
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        log.addHandler(handler)
        log.propagate = False
    log.setLevel(logging.DEBUG if verbose else logging.INFO)
    ctx.obj = params


def get(ctx: typer.Context) -> Params:
    """Return the validated params for this invocation, or exit 2 with the reason."""
    try:
        return load_params(ctx.find_root().obj)
    except ConfigError as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None


for area in (data, lineage, quality, model, serve, ui, monitor, log, batch, lifecycle):
    area.register(app, get)
polish(app)
