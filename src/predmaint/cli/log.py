"""``predmaint log``: the prediction log's retention (``prune``) and size (``status``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from predmaint.cli.help import Group
from predmaint.config import Params


def register(app: typer.Typer, get: Callable[[typer.Context], Params]) -> None:
    """Add the ``log`` command group to ``app``."""
    group = typer.Typer(help="The prediction log: retention and size.", no_args_is_help=True, cls=Group)
    app.add_typer(group, name="log")

    @group.command()
    def prune(
        ctx: typer.Context,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="Count what would be archived; change nothing.")
        ] = False,
    ) -> None:
        """Archive log rows beyond the retention horizon as Parquet data versions, then delete them.

        Only predictions whose label a retraining has used, or that got no usable label within
        retention.label_expiry_days, are archived; of those the newest retention.horizon_rows (or
        horizon_days) stay. Each file gets a manifest row and is pushed with DVC before any row is
        deleted; monitoring and retraining read across the archive.
        """
        from predmaint.service.predlog_read import archive_location
        from predmaint.service.retention import prune_project

        params = get(ctx)
        try:
            done = prune_project(params, dry_run=dry_run)
        except Exception as exc:  # storage faults: one line, not a traceback
            typer.secho(f"prune failed: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}", fg="red", err=True)
            raise typer.Exit(1) from None
        where = archive_location(params)
        if dry_run:
            typer.echo(f"{done.archived} rows would be archived to {where} (nothing changed)")
            return
        typer.echo(f"{done.archived} rows archived to {where} in {len(done.files)} file(s)")
        for path, version in zip(done.files, done.versions, strict=True):
            typer.echo(f"  {version}: {path.name}" + (" (pushed with DVC)" if done.dvc else ""))
        if done.kept_changed:
            typer.echo(f"{done.kept_changed} rows stayed live: their label changed while they were archived")

    @group.command()
    def status(ctx: typer.Context) -> None:
        """Rows in the live log (and how many are labelled) and the archive's files."""
        from predmaint.service.predlog_db import display
        from predmaint.service.predlog_read import archive_files, archive_location, counts, location

        params = get(ctx)
        live = counts(location(params))
        files = archive_files(archive_location(params))
        typer.echo(
            f"live log {display(location(params))}: {live['predictions']} predictions, {live['labelled']} labelled"
        )
        typer.echo(f"archive {archive_location(params)}: {len(files)} Parquet file(s)")
