"""CLI commands for the model: train, evaluate, promote, rollback, reproduce."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Annotated, Any

import typer

from predmaint.config import Params

NEXT_STEPS = (
    ("no alias @challenger", "train a candidate first: `predmaint train` registers it as @challenger"),
    ("no alias @champion", "promote a model first: `predmaint train`, then `predmaint promote` (or `make demo`)"),
    ("is already the champion", "nothing new to judge: `predmaint train` registers a new @challenger"),
    ("no previous champion", "there is nothing to roll back to: `predmaint promote` a newer model first"),
    (
        "unable to open database file",
        "check mlflow.tracking_uri / $PREDMAINT_TRACKING_URI (run `make demo` to create it)",
    ),
    ("No such file or directory", "run the pipeline first: `.venv/bin/dvc repro` (or `make demo`)"),
)
"""Known failures → what to do next (matched on the error message)."""


def next_step(message: str) -> str | None:
    """The hint for a known failure, or None."""
    return next((hint for fragment, hint in NEXT_STEPS if fragment in message), None)


def _fail(message: str, code: int = 1) -> typer.Exit:
    hint = next_step(message)
    typer.secho(message + (f"\nnext: {hint}" if hint else ""), fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def require_registry(params: Params, version: str | None = None) -> None:
    """Fail at once, in one line, if the SQLite registry file is missing (MLflow would create an empty one),
    or if it plainly lacks ``version`` (a number or an alias) — found without importing MLflow (~5 s).

    The version check reads the SQLite file read-only; if its tables are not as expected (another MLflow
    schema) it says nothing and MLflow's own lookup decides.

    Raises:
        typer.Exit: No registry file, or no such version in it.
    """
    db = params.registry_file
    if db is None:
        return
    if not db.is_file():
        raise _fail(f"no model registry at {db}: nothing has been trained yet (run `predmaint train`)")
    if version is None:
        return
    name = params.mlflow.registered_model
    query = (
        ("SELECT 1 FROM model_versions WHERE name = ? AND version = ?", (name, int(version)))
        if version.isdigit()
        else ("SELECT 1 FROM registered_model_aliases WHERE name = ? AND alias = ?", (name, version))
    )
    try:
        with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)) as conn:
            found = conn.execute(*query).fetchone() is not None
    except sqlite3.Error:
        return
    if not found:
        what = f"version {version}" if version.isdigit() else f"alias @{version}"
        raise _fail(f"model {name!r} has no {what} at {params.tracking_uri}")


def _fmt(values: dict[str, Any], keys: tuple[str, ...]) -> str:
    parts = []
    for k in keys:
        v = values.get(k)
        parts.append(f"{k}={'n/a' if v is None else (f'{v:.4g}' if isinstance(v, float) else v)}")
    return "  ".join(parts)


SHOWN = ("f1", "pr_auc", "roc_auc", "precision", "recall", "expected_cost_per_1000")
MODES = ("recall_TWF", "recall_HDF", "recall_PWF", "recall_OSF", "recall_RNF", "recall_unexplained")


def register(app: typer.Typer, get: Callable[[typer.Context], Params]) -> None:
    """Add the model commands to ``app``."""

    @app.command()
    def train(
        ctx: typer.Context,
        data: Annotated[
            Path | None, typer.Option(help="Training window CSV (default: paths.reference, the cleaned set).")
        ] = None,
    ) -> None:
        """Fit the pipeline, pick the cost-optimal threshold, log to MLflow and register @challenger.

        The last training.validation_fraction of the window is never fitted on: it calibrates the
        probabilities and chooses the threshold, so `predmaint promote` never judges the version on it.
        """
        from predmaint.model.run import train as run
        from predmaint.model.train import TrainingDataError

        try:
            result = run(get(ctx), data_file=data)
        except TrainingDataError as exc:
            raise _fail(str(exc)) from None
        m = result.metrics
        typer.echo(f"registered version {result.version} (run {result.run_id}) as challenger")
        typer.echo(f"threshold {result.threshold:.3f}; metadata {result.metadata_path}")
        typer.echo("validation: " + _fmt({k[11:]: v for k, v in m.items() if k.startswith("validation_")}, SHOWN))
        prod = {k[11:]: v for k, v in m.items() if k.startswith("production_")}
        if prod:
            typer.echo("production: " + _fmt(prod, SHOWN))
            typer.echo("per mode:   " + _fmt(prod, MODES))

    @app.command()
    def evaluate(
        ctx: typer.Context,
        alias: Annotated[str | None, typer.Option(help="Registry alias (default: the challenger).")] = None,
        version: Annotated[str | None, typer.Option(help="A version number instead of an alias.")] = None,
    ) -> None:
        """Score a registered version on the labelled production stream (offline).

        Rows it was trained or validated on are left out. Writes reports/metrics/evaluate.json
        (`dvc metrics show`) and evaluate_pr_curve.csv (`dvc plots show`), and logs offline_* metrics
        to the version's MLflow run.
        """
        params = get(ctx)
        require_registry(params)
        from predmaint.model.evaluate import evaluate_registered
        from predmaint.model.registry import RegistryError

        try:
            values = evaluate_registered(params, alias=alias, version=version)
        except (RegistryError, ValueError) as exc:
            raise _fail(str(exc)) from None
        typer.echo(f"version {values['version']} on {values['rows']} production rows:")
        typer.echo("  " + _fmt(values, SHOWN))
        typer.echo("  " + _fmt(values, MODES) + "  (failures only; n/a = no failure of that category)")

    @app.command()
    def promote(
        ctx: typer.Context,
        window: Annotated[
            Path | None,
            typer.Option(help="CSV of labelled rows (features + labels) to judge on (default: the production stream)."),
        ] = None,
    ) -> None:
        """Run the champion/challenger gate and move @champion if the challenger wins.

        Both models are judged on the same rows, WINDOW (default: the labelled production stream),
        minus every row either was fitted or tuned on, each at its own threshold. Promote only when
        a paired bootstrap shows the challenger cheaper with promotion.confidence and its recall
        non-inferior within promotion.recall_margin; the first model needs only the minimums.
        Exit code 0 = promoted, 3 = refused.
        """
        from predmaint.data.tables import read_table
        from predmaint.model.promote import promote as run
        from predmaint.model.registry import RegistryError

        params = get(ctx)
        frame = read_table(window) if window is not None else None
        try:
            decision = run(params, window=frame, source=str(window) if window is not None else None)
        except (RegistryError, ValueError, KeyError) as exc:
            raise _fail(str(exc)) from None
        typer.echo(decision.summary)
        typer.echo(f"gate rows: {decision.rows} ({decision.rows_source}, UDI {decision.udi_range})")
        hint = None if decision.promoted else next_step(decision.summary)
        if hint:
            typer.echo(f"next: {hint}")
        if not decision.promoted:
            raise typer.Exit(3)

    @app.command()
    def backtest(
        ctx: typer.Context,
        origins: Annotated[
            str | None, typer.Option(help="Comma-separated origins (rows), default backtest.origins.")
        ] = None,
        data: Annotated[Path | None, typer.Option(help="Chronological raw table (default: paths.raw_file).")] = None,
        mlflow_log: Annotated[
            bool, typer.Option("--mlflow/--no-mlflow", help="Log a parent run + one per origin.")
        ] = True,
    ) -> None:
        """Rolling-origin backtest: fit, calibrate and choose the threshold before each origin, score after it.

        Writes reports/metrics/backtest.json and prints per-origin and mean F1, PR-AUC, ROC-AUC,
        Brier, cost per 1,000 cycles and recall per failure category (failures only).
        """
        from predmaint.model import backtest as bt
        from predmaint.model.evaluate import write_report
        from predmaint.model.train import TrainingDataError

        params = get(ctx)
        source = data or params.path(params.paths.raw_file)
        chosen = [int(o) for o in origins.split(",")] if origins else None
        try:
            frame = bt.read_table_for_backtest(source)
            result = bt.backtest(params, frame, chosen)
        except (FileNotFoundError, ValueError, TrainingDataError) as exc:
            raise _fail(str(exc)) from None
        run_id = bt.log_backtest(params, result, source, frame) if mlflow_log else None
        shown = ["origin", "threshold", *SHOWN, "brier", *MODES]
        table = result.per_origin.loc[:, [c for c in shown if c in result.per_origin]]
        typer.echo(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
        typer.echo("mean: " + _fmt(result.aggregate, tuple(sorted(result.aggregate))))
        payload = {"per_origin": result.per_origin.to_dict(orient="records"), "aggregate": result.aggregate}
        write_report(params, "backtest", {**payload, "mlflow_run_id": run_id}, None)

    @app.command()
    def rollback(ctx: typer.Context) -> None:
        """Move @champion back to the version the current champion replaced."""
        params = get(ctx)
        require_registry(params)
        from predmaint.model.registry import RegistryError
        from predmaint.model.registry import rollback as run

        try:
            result = run(params)
        except RegistryError as exc:
            raise _fail(str(exc)) from None
        typer.echo(f"champion rolled back: v{result.from_version} -> v{result.to_version}")

    @app.command()
    def reproduce(
        ctx: typer.Context, version: Annotated[str, typer.Argument(help="The registered model version.")]
    ) -> None:
        """Re-train VERSION from its recorded params and data and verify identical results.

        The data is found by md5 (workspace, then the DVC cache, then the DVC remote). Threshold,
        validation metrics and holdout predictions must match exactly; otherwise the differences are
        printed and the exit code is 1.
        """
        params = get(ctx)
        require_registry(params, version)
        from predmaint.model.registry import RegistryError
        from predmaint.model.reproduce import reproduce as run

        try:
            report = run(params, version)
        except RegistryError as exc:
            raise _fail(str(exc)) from None
        if report.ok:
            typer.echo(f"version {version} reproduced exactly (data from {report.data_source})")
            return
        raise _fail(f"version {version} NOT reproduced:\n" + "\n".join(report.differences))
