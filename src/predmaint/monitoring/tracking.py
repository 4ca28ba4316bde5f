"""Log a monitored window to MLflow: one run per window in ``mlflow.monitoring_experiment``.

The run holds the window's metrics (drift share, per-feature drift scores and flags, production
metrics beside the training baseline and their ratio, the trigger decision), the summary and
decision as JSON, and the Evidently HTML/JSON reports as artifacts. Feature names are logged in
their snake_case API form (MLflow metric names cannot contain ``[`` or ``]``).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from predmaint import schema
from predmaint.config import Params
from predmaint.data.lineage import Manifest
from predmaint.model.tracking import ensure_experiment, prefect_flow_run_id
from predmaint.monitoring.performance import METRICS
from predmaint.monitoring.summary import MonitoringSummary
from predmaint.monitoring.trigger import TriggerDecision

TAG_LIMIT = 5000


def window_metrics(summary: MonitoringSummary, decision: TriggerDecision | None) -> dict[str, float]:
    """The numbers of a window as flat MLflow metric names (undefined values left out)."""
    out: dict[str, float] = {
        "rows": summary.rows,
        "labelled_rows": summary.labelled_rows,
        "drift_rows": summary.drift_rows,
        "drift_share": summary.drift_share,
        "drifted_columns": summary.drifted_columns,
        "dataset_drift": float(summary.dataset_drift),
    }
    for col, info in summary.columns.items():
        name = schema.SNAKE_CASE.get(col, col)
        out[f"drift_score.{name}"] = info["score"]
        out[f"drifted.{name}"] = float(bool(info.get("drifted")))
    for group in ("production", "training", "ratio"):
        values = getattr(summary, group)
        for key in METRICS:
            if values.get(key) is not None:
                out[f"{group}.{key}"] = float(values[key])
    for key in ("mean_prediction", "alarm_rate", "failure_rate"):
        value = getattr(summary, key)
        if value is not None:
            out[key] = value
    for name, tail in summary.tails.items():
        out[f"tail_share.{name}"] = tail["beyond"] / tail["rows"] if tail["rows"] else 0.0
    if decision is not None:
        out["trigger_fire"] = float(decision.fire)
        out["consecutive_drift_windows"] = decision.consecutive_drift_windows
        out["new_labelled_rows"] = decision.new_labelled_rows
    return {k: float(v) for k, v in out.items()}


def run_name(summary: MonitoringSummary, decision: TriggerDecision | None) -> str:
    """What the window's run says happened: ``monitor day_07 · retrain triggered · drift share 0.17``."""
    verdict = "" if decision is None else (" · retrain triggered" if decision.fire else " · no retrain")
    return f"monitor {summary.window_id}{verdict} · drift share {summary.drift_share:.2f}"


def log_window(params: Params, summary: MonitoringSummary, decision: TriggerDecision | None = None) -> str:
    """Log one window (and its trigger decision) as an MLflow run; return the run id.

    The experiment is created on first use with its artifacts under ``mlflow.artifact_root``.
    """
    import mlflow

    mlflow.set_tracking_uri(params.tracking_uri)
    experiment_id = ensure_experiment(params, params.mlflow.monitoring_experiment)
    m = params.monitoring
    tags = {
        "window_id": summary.window_id,
        "model_versions": ", ".join(summary.model_versions) or "unknown",
        "drifted_features": ", ".join(summary.drifted) or "none",
        "reference": str(summary.reference.get("version_id") or summary.reference.get("path") or "unknown"),
    }
    if decision is not None:
        tags.update(
            trigger_fire="yes" if decision.fire else "no",
            trigger_rules_met=", ".join(decision.rules_met) or "none",
            trigger_blocked_by=", ".join(decision.blocked_by) or "none",
            trigger_reasons=" | ".join(decision.reasons)[:TAG_LIMIT],
        )
    manifest = Manifest(params.path(params.paths.manifest), params.root)
    tags["data_source"] = manifest.source_of(params.path(params.paths.reference))
    flow_run = prefect_flow_run_id()
    if flow_run:
        tags["prefect_flow_run_id"] = flow_run
    with mlflow.start_run(experiment_id=experiment_id, run_name=run_name(summary, decision), tags=tags) as run:
        mlflow.log_params(
            {
                "num_method": m.drift_method,
                "cat_method": m.categorical_drift_method,
                "drift_share_threshold": m.drift_share_threshold,
                "max_rows_for_drift": m.max_rows_for_drift,
                "reference_rows": summary.reference_rows,
                "alarm_threshold": summary.threshold,
            }
        )
        mlflow.log_metrics(window_metrics(summary, decision))
        mlflow.log_dict(summary.to_dict(), "summary.json")
        if decision is not None:
            mlflow.log_dict(asdict(decision), "decision.json")
        for key, file in summary.files.items():
            if key != "summary_json" and Path(file).is_file():
                mlflow.log_artifact(file, artifact_path="evidently")
        return str(run.info.run_id)
