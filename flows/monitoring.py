"""`monitoring`: Evidently drift + performance for a window of served predictions, then the trigger.

When the trigger fires, the flow either emits the event ``predmaint.retrain.requested`` (deployed:
a Prefect automation runs the `retraining` deployment, visible in the UI with its reasons) or runs
the `retraining` flow directly as a subflow (ephemeral mode, e.g. ``make demo``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from flows.common import project_params
from predmaint.config import Params

if TYPE_CHECKING:
    import pandas as pd

    from predmaint.monitoring.summary import MonitoringSummary
    from predmaint.monitoring.trigger import TriggerDecision

RETRAIN_EVENT = "predmaint.retrain.requested"


@task(name="read-window")
def read_window(params: Params, since: float | None, rows: int | None) -> pd.DataFrame:
    """Served predictions (with any labels) from the prediction log."""
    from predmaint.service.predlog import location
    from predmaint.service.predlog import read_window as read
    from predmaint.service.predlog_db import display

    limit = rows or (None if since is not None else params.monitoring.window_rows)
    frame = read(location(params), since=since, limit=limit)
    if frame.empty:
        raise ValueError(f"no predictions in {display(location(params))} for this window")
    return frame


@task(name="evidently-report")
def report(params: Params, window: pd.DataFrame, window_id: str | None) -> MonitoringSummary:
    """Drift, data summary and classification reports (HTML + JSON) against the champion's training window."""
    from predmaint.monitoring import sources
    from predmaint.monitoring.summary import monitor_window

    _, threshold, baseline = sources.champion_baseline(params)
    reference, info = sources.champion_reference(params)
    if info.get("note"):
        get_run_logger().warning("monitoring reference: %s", info["note"])
    return monitor_window(
        params, reference, window, baseline, window_id=window_id, threshold=threshold, reference_info=info
    )


@task(name="trigger-decision")
def decide(params: Params, summary: MonitoringSummary) -> TriggerDecision:
    """Apply the trigger policy, append to decisions.csv, and log the window to MLflow."""
    from predmaint.monitoring.tracking import log_window
    from predmaint.monitoring.trigger import decide_and_record

    decisions = params.path(params.paths.monitoring_dir) / "decisions.csv"
    decision = decide_and_record(summary, params.monitoring, decisions)
    log_window(params, summary, decision)
    return decision


def _markdown(summary: MonitoringSummary, decision: TriggerDecision) -> str:
    rows = [
        "| metric | production | training |",
        "| --- | --- | --- |",
        f"| drift share | {summary.drift_share:.2f} | — |",
    ]
    for name in ("error_rate", "recall", "precision", "expected_cost_per_1000"):
        prod, train = summary.production.get(name), summary.training.get(name)
        rows.append(f"| {name} | {prod if prod is not None else 'n/a'} | {train if train is not None else 'n/a'} |")
    verdict = "**RETRAIN**" if decision.fire else "no retrain"
    reasons = "\n".join(f"- {r}" for r in decision.reasons)
    return f"# Window {summary.window_id}: {verdict}\n\n" + "\n".join(rows) + f"\n\n{reasons}\n"


@flow(name="monitoring", log_prints=True)
def monitoring(
    params_path: str | None = None,
    since: float | None = None,
    window_rows: int | None = None,
    window_id: str | None = None,
    on_trigger: Literal["event", "subflow", "none"] = "event",
) -> dict[str, Any]:
    """Monitor one window of served predictions and decide whether to retrain.

    Args:
        params_path: The params file (default: ``$PREDMAINT_PARAMS`` or ./params.yaml).
        since: Only predictions after this UNIX time (default: the newest ``monitoring.window_rows``).
        window_rows: How many of the newest predictions form the window.
        window_id: A name for the window's report folder (default: a UTC timestamp).
        on_trigger: ``event`` emits ``predmaint.retrain.requested``; ``subflow`` runs `retraining`.
    """
    params = project_params(params_path)
    log = get_run_logger()
    summary = report(params, read_window(params, since, window_rows), window_id)
    decision = decide(params, summary)
    create_markdown_artifact(_markdown(summary, decision), key="monitoring-decision")
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

        retraining_result = retraining(params_path, reason="; ".join(decision.rules_met))
    return {
        "window_id": summary.window_id,
        "rows": summary.rows,
        "drift_share": summary.drift_share,
        "production": summary.production,
        "training": summary.training,
        "fire": decision.fire,
        "reasons": decision.reasons,
        "retraining": retraining_result,
    }
