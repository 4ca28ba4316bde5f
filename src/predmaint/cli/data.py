"""CLI commands for the data stages: ingest, simulate, split, lineage."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from predmaint.config import Params


def register(app: typer.Typer, get: Callable[[typer.Context], Params]) -> None:
    """Add the data commands to ``app``."""

    @app.command()
    def ingest(ctx: typer.Context) -> None:
        """Land the AI4I table in data/raw/ (real CSV → UCI download → simulator) and record it."""
        from predmaint.ingest import IngestError
        from predmaint.ingest import ingest as run

        try:
            version = run(get(ctx))
        except IngestError as exc:
            typer.secho(str(exc), fg=typer.colors.RED, err=True)
            raise typer.Exit(1) from None
        typer.echo(
            f"{version.version_id}: {version.path} ({version.rows} rows, source {version.details['source']})"
        )

    @app.command()
    def split(ctx: typer.Context) -> None:
        """Cut the raw table in time order: reference rows and daily production batches."""
        from predmaint.split import split as run

        result = run(get(ctx))
        typer.echo(f"{result.reference.version_id}: {result.reference.path} ({result.reference.rows} rows)")
        typer.echo(f"{len(result.days)} production days of features + labels under the production folder")

    @app.command()
    def lineage(
        ctx: typer.Context, key: Annotated[str, typer.Argument(help="A version id or a data file path.")]
    ) -> None:
        """Print the chain of data versions from KEY back to the raw data."""
        from predmaint.lineage import Manifest

        params = get(ctx)
        manifest = Manifest(params.path(params.paths.manifest), params.root)
        try:
            chain = manifest.chain(key)
        except KeyError as exc:
            typer.secho(str(exc.args[0]), fg=typer.colors.RED, err=True)
            raise typer.Exit(1) from None
        for depth, v in enumerate(chain):
            dirty = "+dirty" if v.git_dirty else ""
            typer.echo(
                f"{'  ' * depth}{'└─ ' if depth else ''}{v.version_id}  {v.path}  md5={v.md5}  "
                f"rows={v.rows}  stage={v.stage}  git={v.git_commit[:10]}{dirty}  at={v.created_at}"
            )
