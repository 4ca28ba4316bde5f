"""CLI command for batch scoring a CSV/Parquet file through the champion."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from predmaint.config import Params


class Runner(StrEnum):
    """Where the chunks run: Prefect's thread pool, a Dask cluster, or this process without Prefect."""

    thread = "thread"
    dask = "dask"
    none = "none"


def register(app: typer.Typer, get: Callable[[typer.Context], Params]) -> None:
    """Add the ``batch`` command to ``app``."""

    @app.command()
    def batch(
        ctx: typer.Context,
        input_path: Annotated[Path, typer.Argument(help="CSV or Parquet file with the model's feature columns.")],
        output: Annotated[
            Path | None, typer.Option(help="Output file (default: <stem>.predictions.<ext> beside the input).")
        ] = None,
        chunk_rows: Annotated[
            int | None, typer.Option(min=1, help="Rows per chunk (default: orchestration.batch_chunk_rows).")
        ] = None,
        runner: Annotated[
            Runner, typer.Option(help="thread / dask (Prefect flow `batch-scoring`) or none (no Prefect).")
        ] = Runner.thread,
        dask_address: Annotated[
            str | None, typer.Option(help="A running Dask scheduler (default: a temporary local cluster).")
        ] = None,
    ) -> None:
        """Score a file of any size with the @champion, chunk by chunk, and write the predictions.

        The output has the input's id columns (UDI, Product ID) when present, failure_probability,
        failure_predicted, model_name, model_version and error. Rows that break the data contract are
        kept with an empty probability and the reason in `error`; they are counted, never dropped.
        """
        if not input_path.is_file():  # before the heavy imports: a typo is answered at once, in one line
            typer.secho(f"{input_path}: input file not found", fg=typer.colors.RED, err=True)
            raise typer.Exit(1)
        from predmaint.data.tables import SchemaError
        from predmaint.model.batch import BatchInputError, score_file
        from predmaint.model.registry import RegistryError

        params = get(ctx)
        try:
            if runner is Runner.none:
                done = score_file(params, input_path, output, chunk_rows)
                result = {"output_path": done.output_path, "rows": done.rows, "invalid_rows": done.invalid_rows}
                result |= {"rows_per_s": round(done.rows_per_s, 1), "model_version": done.model_version}
            else:
                from flows.batch_scoring import batch_scoring

                params_file = ctx.find_root().obj
                result = batch_scoring(
                    input_path=str(input_path),
                    output_path=str(output) if output else None,
                    chunk_rows=chunk_rows,
                    task_runner="dask" if runner is Runner.dask else "thread",
                    dask_address=dask_address,
                    params_path=str(params_file) if params_file else None,
                )
        except (BatchInputError, SchemaError, RegistryError) as exc:
            typer.secho(str(exc), fg=typer.colors.RED, err=True)
            raise typer.Exit(1) from None
        typer.echo(
            f"{result['rows']} rows scored with {params.mlflow.registered_model} v{result['model_version']} "
            f"({result['invalid_rows']} invalid, kept with their error) at {result['rows_per_s']} rows/s"
        )
        typer.echo(f"predictions: {result['output_path']}")
