"""``predmaint ui``: open the MLflow, Prefect and Evidently UIs (free local ports, telemetry off)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import typer

from predmaint.config import Params


def register(app: typer.Typer, get: Callable[[typer.Context], Params]) -> None:
    """Add the ``ui`` command to ``app``."""

    @app.command()
    def ui(ctx: typer.Context) -> None:
        """Start the MLflow UI, the Prefect UI (on its own API) and the Evidently dashboard; Ctrl-C stops them.

        Ports: orchestration.mlflow_port / prefect_port when free, else any free port; the URLs are
        printed. The Prefect UI shows the flow runs of `make demo`; the Evidently UI its monitoring
        dashboard (reports/monitoring/workspace).
        """
        from predmaint.monitoring.dashboard import project_name
        from predmaint.ops.ui import ServerStartError, running_uis

        params = get(ctx)
        typer.echo("starting the MLflow, Prefect and Evidently UIs (10-40 s) ...")
        try:
            with running_uis(params) as uis:
                typer.echo(f"MLflow     {uis['mlflow'].url}   (models: {uis['mlflow'].url}/#/models)")
                typer.echo(f"Prefect    {uis['prefect'].url}   (flow runs: {uis['prefect'].url}/runs)")
                typer.echo(f"Evidently  {uis['evidently'].url}   (project '{project_name(params.project)}')")
                docs = params.path(params.paths.data_docs_dir) / "index.html"
                typer.echo(f"Data Docs  {docs.as_uri()}" + ("" if docs.exists() else "   (run `predmaint docs` first)"))
                typer.echo(f"logs       {params.path(params.paths.run_dir)}/ui-*.log   — Ctrl-C stops the UIs")
                threading.Event().wait()
        except ServerStartError as exc:
            typer.secho(f"{exc}; try again, or free the port it names", fg=typer.colors.RED, err=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            typer.echo("UIs stopped")
