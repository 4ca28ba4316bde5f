"""`monitoring`: Evidently drift + performance for a window of served predictions, then the trigger.

When the trigger fires, the flow either emits the event ``predmaint.retrain.requested`` (deployed:
a Prefect automation runs the `retraining` deployment, visible in the UI with its reasons) or runs
the `retraining` flow directly as a subflow (ephemeral mode, e.g. ``make demo``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from prefect import flow, get_run_logger, task

from flows.artifacts import change, file_link, fmt, label_run, mlflow_run_url, publish_table
from flows.common import project_params
from predmaint.config import Params

if TYPE_CHECKING:
    import pandas as pd

    from predmaint.monitoring.dashboard import WindowContext
    from predmaint.monitoring.summary import MonitoringSummary
    from predmaint.monitoring.trigger import TriggerDecision

RETRAIN_EVENT = "predmaint.retrain.requested"


@task(name="read-window")
def read_window(params: Params, since: float | None, rows: int | None) -> pd.DataFrame:
    """Served predictions (with any labels) from the prediction log, across its archive if needed."""
    from predmaint.service.predlog import location, read_log
    from predmaint.service.predlog_db import display

    limit = rows or (None if since is not None else params.monitoring.window_rows)
    frame = read_log(params, since=since, limit=limit)
    if frame.empty:
        raise ValueError(f"no predictions in {display(location(params))} for this window")
    return frame


@task(name="evidently-report")
def report(params: Params, window: pd.DataFrame, window_id: str | None) -> tuple[MonitoringSummary, WindowContext]:
    """Drift, data summary and classification reports (HTML + JSON) against the champion's training window."""
    from predmaint.monitoring import sources
    from predmaint.monitoring.dashboard import WindowContext
    from predmaint.monitoring.summary import monitor_window

    version, threshold, baseline = sources.champion_baseline(params)
    reference, info = sources.champion_reference(params)
    if info.get("note"):
        get_run_logger().warning("monitoring reference: %s", info["note"])
    summary = monitor_window(
        params, reference, window, baseline, window_id=window_id, threshold=threshold, reference_info=info
    )
    served = summary.model_versions[-1] if summary.model_versions else version
    what = f"v{info['model_version']} training window" if info.get("source") == "champion" else "paths.reference"
    label = f"{what} {info.get('path', '')} ({info.get('version_id') or 'version unknown'})".replace("  ", " ")
    return summary, WindowContext(served, label)


@task(name="trigger-decision")
def decide(params: Params, summary: MonitoringSummary) -> TriggerDecision:
    """Apply the trigger policy and append it to ``monitoring.decisions_log``."""
    from predmaint.monitoring.trigger import decide_and_record

    return decide_and_record(summary, params.monitoring, params.path(params.monitoring.decisions_log))


@task(name="mlflow-log-window")
def track(params: Params, summary: MonitoringSummary, decision: TriggerDecision) -> tuple[str, str]:
    """Log the window and its decision as an MLflow run; return (experiment id, run id)."""
    import mlflow

    from predmaint.monitoring.tracking import log_window

    run_id = log_window(params, summary, decision)
    return str(mlflow.get_run(run_id).info.experiment_id), run_id


@task(name="evidently-dashboard")
def dashboard(params: Params, summary: MonitoringSummary, context: WindowContext) -> str:
    """Head the window's reports with window/model/reference; add the window to the dashboard project."""
    from predmaint.monitoring.dashboard import label_reports, record_window

    label_reports(summary, context)
    return record_window(params, summary, context)


def publish_decision(
    params: Params, summary: MonitoringSummary, decision: TriggerDecision, context: WindowContext, run: tuple[str, str]
) -> None:
    """The window's numbers beside the training baseline, as a table artifact with its reasons and links."""
    prod, train = summary.production, summary.training
    rows = [
        {
            "metric": "rows (labelled)",
            "window": f"{fmt(summary.rows)} ({fmt(summary.labelled_rows)})",
            "training": "",
            "change": "",
        },
        {
            "metric": "drift share",
            "window": fmt(summary.drift_share),
            "training": "",
            "change": f"threshold {fmt(summary.drift_share_threshold)}",
        },
        {"metric": "drifted features", "window": ", ".join(summary.drifted) or "none", "training": "", "change": ""},
        {"metric": "alarm rate", "window": fmt(summary.alarm_rate), "training": "", "change": ""},
    ]
    for name in ("error_rate", "recall", "precision", "expected_cost_per_1000"):
        rows.append(
            {
                "metric": name.replace("_", " "),
                "window": fmt(prod.get(name)),
                "training": fmt(train.get(name)),
                "change": change(prod.get(name), train.get(name)),
            }
        )
    verdict = "**RETRAIN**" if decision.fire else "no retraining"
    links = [file_link(p, k.removesuffix("_html") + " report") for k, p in summary.files.items() if k.endswith("_html")]
    links.append(f"[MLflow run]({mlflow_run_url(params, run[1], run[0])})")
    description = (
        f"# Window {summary.window_id}: {verdict}\n\nmodel v{context.model_version} · reference: {context.reference}"
        "\n\n" + "\n".join(f"- {r}" for r in decision.reasons) + "\n\n" + " · ".join(links)
    )
    publish_table("monitoring-decision", rows, description)


@task(name="prune-prediction-log")
def prune_log(params: Params) -> dict[str, Any]:
    """Retention: log rows beyond the ``retention`` horizon whose labels were used or expired move to
    Parquet data versions (manifest + DVC) before they leave the live log (docs/serving.md)."""
    from predmaint.service.retention import prune_project

    done = prune_project(params)
    return {"archived": done.archived, "versions": done.versions, "kept_changed": done.kept_changed}


def scenario_of(window_id: str) -> str:
    """``heat_wave`` for ``day_07_heat_wave``; ``production`` for ``day_03`` and other ids."""
    parts = window_id.split("_", 2)
    return parts[2] if len(parts) == 3 and parts[0] == "day" and parts[1].isdigit() else "production"


@flow(name="monitoring", log_prints=True)
def monitoring(
    params_path: str | None = None,
    since: float | None = None,
    window_rows: int | None = None,
    window_id: str | None = None,
    on_trigger: Literal["event", "subflow", "none"] = "event",
) -> dict[str, Any]:
    """Monitor one window of served predictions, decide whether to retrain, then prune the log (retention).

    Args:
        params_path: The params file (default: ``$PREDMAINT_PARAMS`` or ./params.yaml).
        since: Only predictions after this UNIX time (default: the newest ``monitoring.window_rows``).
        window_rows: How many of the newest predictions form the window.
        window_id: A name for the window's report folder (default: a UTC timestamp).
        on_trigger: ``event`` emits ``predmaint.retrain.requested``; ``subflow`` runs `retraining`.
    """
    params = project_params(params_path)
    log = get_run_logger()
    summary, context = report(params, read_window(params, since, window_rows), window_id)
    label_run(
        f"monitoring {summary.window_id} · v{context.model_version}",
        [
            f"window:{summary.window_id}",
            f"scenario:{scenario_of(summary.window_id)}",
            f"model:v{context.model_version}",
        ],
    )
    decision = decide(params, summary)
    dashboard(params, summary, context)  # before tracking: MLflow then keeps the reports with their header
    run = track(params, summary, decision)
    publish_decision(params, summary, decision, context, run)
    log.info(
        "window %s: drift share %.2f, fire=%s: %s",
        summary.window_id,
        summary.drift_share,
        decision.fire,
        "; ".join(decision.reasons),
    )
    retraining_result: dict[str, Any] | None = None
    if decision.fire and on_trigger == "event":
        from prefect.events import emit_event

        emit_event(
            event=RETRAIN_EVENT,
            resource={"prefect.resource.id": f"predmaint.model.{params.mlflow.registered_model}"},
            payload={"window_id": summary.window_id, "reasons": "; ".join(decision.rules_met)},
        )
    elif decision.fire and on_trigger == "subflow":
        from flows.retraining import retraining

        retraining_result = retraining(params_path, reason="; ".join(decision.rules_met), window_id=summary.window_id)
    pruned = prune_log(params)  # after a retraining, whose labels are now used
    return {
        "window_id": summary.window_id,
        "rows": summary.rows,
        "drift_share": summary.drift_share,
        "production": summary.production,
        "training": summary.training,
        "fire": decision.fire,
        "reasons": decision.reasons,
        "headline": decision.headline,
        "retraining": retraining_result,
        "model_version": context.model_version,
        "mlflow_run_id": run[1],
        "pruned": pruned,
    }
