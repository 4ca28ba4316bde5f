"""CLI commands for the data stages: ingest, simulate, split (``lineage`` is in cli/lineage.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from predmaint.config import Params


def register(app: typer.Typer, get: Callable[[typer.Context], Params]) -> None:
    """Add the data commands to ``app``."""

    @app.command()
    def ingest(ctx: typer.Context) -> None:
        """Land the AI4I table in data/raw/ (real CSV → UCI download → simulator) and record it."""
        from predmaint.data.ingest import IngestError
        from predmaint.data.ingest import ingest as run

        try:
            version = run(get(ctx))
        except IngestError as exc:
            typer.secho(str(exc), fg=typer.colors.RED, err=True)
            raise typer.Exit(1) from None
        typer.echo(f"{version.version_id}: {version.path} ({version.rows} rows, source {version.details['source']})")

    @app.command()
    def split(ctx: typer.Context) -> None:
        """Cut the raw table in time order: reference rows and daily production batches."""
        from predmaint.ops.stages import split as run

        result = run(get(ctx))
        typer.echo(f"{result.reference.version_id}: {result.reference.path} ({result.reference.rows} rows)")
        typer.echo(f"{len(result.days)} production days of features + labels under the production folder")

    @app.command()
    def simulate(
        ctx: typer.Context,
        *,
        rows: Annotated[
            int | None, typer.Option(min=1, help="Rows to generate (default: simulator.rows in params.yaml).")
        ] = None,
        scenario: Annotated[
            str | None,
            typer.Option(help="A drift scenario from simulator.scenarios (see --list-scenarios); none = baseline."),
        ] = None,
        seed: Annotated[int | None, typer.Option(help="Random seed (default: simulator.seed in params.yaml).")] = None,
        start_udi: Annotated[int, typer.Option(min=1, help="UDI of the first row (Product IDs follow).")] = 1,
        out: Annotated[
            Path | None,
            typer.Option(help="CSV to write (default: paths.simulated_dir/SCENARIO_seedS_Nrows.csv)."),
        ] = None,
        list_scenarios: Annotated[
            bool, typer.Option("--list-scenarios", help="Print the configured scenarios and exit.")
        ] = False,
    ) -> None:
        """Generate AI4I-2020-shaped data with the physics simulator and record it in the manifest.

        Random-walk temperatures, speed from torque, tool wear with replacement,
        and the five failure modes by their rules. Same seed, same file.
        """
        from predmaint import schema
        from predmaint.data import tables
        from predmaint.data.lineage import Manifest
        from predmaint.data.simulate import simulate as run

        params = get(ctx)
        sim = params.simulator
        if list_scenarios:
            for name, spec in sim.scenarios.items():
                typer.echo(f"{name}: {spec.description}")
            return
        n = sim.rows if rows is None else rows
        used_seed = sim.seed if seed is None else seed
        try:
            frame = run(
                params.simulator, params.physics, rows=n, scenario=scenario, seed=used_seed, start_udi=start_udi
            )
        except ValueError as exc:
            typer.secho(str(exc), fg=typer.colors.RED, err=True)
            raise typer.Exit(2) from None
        name = f"{scenario or 'baseline'}_seed{used_seed}_{n}rows.csv"
        target = out if out is not None else params.path(params.paths.simulated_dir) / name
        tables.write_table(frame, target)
        manifest = Manifest(params.path(params.paths.manifest), params.root)
        version = manifest.record(
            target,
            stage="simulate",
            rows=len(frame),
            details={"scenario": scenario or "baseline", "seed": used_seed, "start_udi": start_udi},
        )
        failures = int(frame[schema.TARGET].sum())
        typer.echo(f"{version.version_id}: {target} ({len(frame)} rows, {failures} failures)")
