"""``predmaint monitor``: drift and performance reports for a window, and the retraining decision."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from predmaint.config import Params

if TYPE_CHECKING:
    from predmaint.monitoring import MonitoringSummary, TriggerDecision


def _num(value: object, digits: int = 3) -> str:
    return "n/a" if value is None else f"{float(value):.{digits}f}"  # type: ignore[arg-type]


def render(summary: MonitoringSummary, decision: TriggerDecision | None) -> str:
    """A short human-readable report of a window and its decision."""
    s = summary
    lines = [
        f"window {s.window_id}: {s.rows} rows ({s.labelled_rows} labelled), reference {s.reference_rows} rows"
        + (f", served by model version(s) {', '.join(s.model_versions)}" if s.model_versions else ""),
        f"reference: {s.reference.get('source', '?')} {s.reference.get('path', '')}"
        + (f" (data version {s.reference['version_id']})" if s.reference.get("version_id") else ""),
        f"drift share {s.drift_share:.2f} (threshold {s.drift_share_threshold:.2f}), dataset drift: "
        + ("yes" if s.dataset_drift else "no"),
        f"  {'feature':<26}{'score':>9}{'threshold':>11}  method / drifted",
    ]
    for col, v in s.columns.items():
        flag = "DRIFTED" if v.get("drifted") else "ok"
        lines.append(f"  {col:<26}{v['score']:>9.3f}{v['threshold']:>11.3g}  {v['method']} / {flag}")
    lines.append(f"  {'metric':<26}{'production':>11}{'training':>10}{'ratio':>8}")
    for key in ("error_rate", "recall", "precision", "f1", "expected_cost_per_1000"):
        digits = 0 if key.startswith("expected") else 3
        lines.append(
            f"  {key:<26}{_num(s.production.get(key), digits):>11}{_num(s.training.get(key), digits):>10}"
            f"{_num(s.ratio.get(key), 2):>8}"
        )
    lines += [f"note: {n}" for n in s.notes]
    lines += [f"report {k}: {v}" for k, v in s.files.items()]
    if decision is not None:
        lines.append(f"retrain: {'YES' if decision.fire else 'no'}")
        lines += [f"  - {r}" for r in decision.reasons]
    return "\n".join(lines)


def register(app: typer.Typer, get: Callable[[typer.Context], Params]) -> None:
    """Add the ``monitor`` command to ``app``."""

    @app.command()
    def monitor(
        ctx: typer.Context,
        *,
        window: Annotated[
            str,
            typer.Option(help="A CSV of current data (AI4I columns, optional prediction/decision/target) or 'log'."),
        ] = "log",
        window_id: Annotated[str | None, typer.Option(help="Id of the window (default: UTC time).")] = None,
        rows: Annotated[
            int | None, typer.Option(help="Newest rows of the log to take (default: monitoring.window_rows).")
        ] = None,
        reference: Annotated[
            Path | None,
            typer.Option(help="Reference table (default: the champion's training window, else paths.reference)."),
        ] = None,
        baseline: Annotated[
            Path | None,
            typer.Option(help="JSON of training metrics (default: the champion's validation metrics)."),
        ] = None,
        record: Annotated[bool, typer.Option(help="Append the decision to monitoring.decisions_log.")] = True,
        mlflow_log: Annotated[
            bool, typer.Option("--mlflow/--no-mlflow", help="Log the window to the monitoring experiment.")
        ] = True,
    ) -> None:
        """Build the Evidently reports for a window, compare it with training and decide on retraining.

        Without --baseline the champion model is loaded from the registry: its validation metrics are
        the baseline, and it scores the reference (and a CSV window without predictions).
        """
        from predmaint.data.tables import SchemaError
        from predmaint.monitoring import (
            decide,
            decide_and_record,
            log_window,
            monitor_window,
            read_decisions,
            sources,
        )

        params = get(ctx)
        try:
            cur = sources.load_window(params, window, rows)
            if reference is not None:
                ref, info = sources.load_reference(params, reference), {"source": "--reference", "path": str(reference)}
            else:
                ref, info = sources.champion_reference(params)
            champ = None
            if baseline is not None:
                base = sources.load_baseline(baseline)
            else:
                champ = sources.champion(params)
                base = champ.baseline
            if champ is not None:
                ref = champ.score(ref)
                if "prediction" not in cur.columns:
                    cur = champ.score(cur)
            summary = monitor_window(params, ref, cur, base, window_id=window_id, reference_info=info)
        except (FileNotFoundError, SchemaError, ValueError, RuntimeError) as exc:
            typer.secho(str(exc), fg=typer.colors.RED, err=True)
            raise typer.Exit(1) from None
        path = params.path(params.monitoring.decisions_log)
        if record:
            decision = decide_and_record(summary, params.monitoring, path)
        else:
            decision = decide(summary, read_decisions(path), params.monitoring)
        typer.echo(render(summary, decision))
        if record:
            typer.echo(f"decision recorded in {path}")
        if mlflow_log:
            run_id = log_window(params, summary, decision)
            typer.echo(f"MLflow run {run_id} in experiment {params.mlflow.monitoring_experiment!r}")
