"""`retraining`: new training window → data gate → challenger → unbiased promotion gate → record why.

Run by the monitoring flow's trigger (as a subflow in ephemeral mode, or by a Prefect automation
on the ``predmaint.retrain.requested`` event when deployed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from flows.artifacts import fmt, label_run, publish_gate
from flows.common import notify_after_promotion, project_params
from predmaint.config import Params

if TYPE_CHECKING:
    from predmaint.data.retrain import RetrainWindow
    from predmaint.model.gate import PromotionDecision
    from predmaint.model.train import TrainResult


@task(name="build-retraining-window")
def build_window(params: Params, reason: str, window_id: str | None) -> RetrainWindow:
    """Reference + labelled production rows (prediction-log snapshot across its archive, feedback) as
    new data versions; the labels used are marked so retention may archive them."""
    from predmaint.data.retrain import prepare, trusted_labels
    from predmaint.service.predlog import location, read_log
    from predmaint.service.retention import mark_used

    log_frame = read_log(params)
    window = prepare(params, log_frame, reason, trigger_window=window_id)
    mark_used(location(params), trusted_labels(log_frame), window.labelled.version_id)
    return window


@task(name="data-gate")
def data_gate(params: Params, window: RetrainWindow) -> dict[str, Any]:
    """The raw suite on the new window: training never sees data that failed the gate.

    The result is stored beside the window (a folder no DVC stage owns), not in ``validate_raw``'s output.
    """
    from predmaint.quality.gate import validate_file

    result = validate_file(params, window.path, "raw", result_dir=window.path.parent)
    return {**result.summary, "result_path": str(result.result_path)}


@task(name="version-data")
def version_data(params: Params, window: RetrainWindow, gate: dict[str, Any]) -> bool:
    """``dvc add`` the window, its labelled rows, its gate rows and its GX result; push them to the DVC remote."""
    from pathlib import Path

    from predmaint.data.dvc import dvc_version

    files = [window.path, window.labelled_path, Path(gate["result_path"])]
    if window.gate_version is not None:
        files.append(params.path(Path(window.gate_version.path)))
    return dvc_version(params.root, files)


@task(name="train-challenger", retries=1, retry_delay_seconds=5)
def train_challenger(params: Params, window: RetrainWindow) -> TrainResult:
    """Fit on the window, log to MLflow, register a version with alias ``challenger``."""
    from predmaint.model.run import train

    return train(params, data_file=window.path)


@task(name="promotion-gate")
def promotion_gate(params: Params, window: RetrainWindow) -> PromotionDecision:
    """Champion vs challenger on the held-out recent window: rows neither fitted nor tuned on."""
    from predmaint.model.promote import promote

    return promote(params, window=window.gate_window, source=window.gate_source)


@flow(name="retraining", log_prints=True)
def retraining(
    params_path: str | None = None,
    reason: str = "manual",
    service_url: str | None = None,
    window_id: str | None = None,
) -> dict[str, Any]:
    """Retrain on the reference plus labelled production data and promote only if better.

    Args:
        params_path: The params file (default: ``$PREDMAINT_PARAMS`` or ./params.yaml).
        reason: Why retraining runs (the trigger's rules), recorded with the data and the decision.
        service_url: The predmaint API(s) to notify after a promotion, comma-separated
            (default ``$PREDMAINT_SERVICE_URLS``).
        window_id: The monitored window (day / drift scenario) that fired the trigger, if any.
    """
    params = project_params(params_path)
    window = build_window(params, reason, window_id)
    gate = data_gate(params, window)
    version_data(params, window, gate)
    result = train_challenger(params, window)
    decision = promotion_gate(params, window)
    label_run(
        f"retraining → v{result.version} {'promoted' if decision.promoted else 'refused'}",
        [f"model:v{result.version}", f"data:{window.version.version_id}", "trigger:monitoring"],
    )
    get_run_logger().info("retraining (%s): %s", reason, decision.summary)
    if decision.promoted:
        notify_after_promotion(params, service_url)
    publish_gate(params, decision, key="retraining-decision")
    create_markdown_artifact(
        f"# Retraining: {'promoted' if decision.promoted else 'not promoted'}\n\n"
        f"- reason: {reason}\n- data version: {window.version.version_id} ({fmt(window.rows)} rows, "
        f"{fmt(window.production_rows)} from production)\n- challenger: v{result.version}\n"
        f"- gate rows: {fmt(decision.rows)} (UDI {decision.udi_range}) of {decision.rows_source}\n",
        key="retraining-data",
    )
    return {
        "reason": reason,
        "data_version": window.version.version_id,
        "rows": window.rows,
        "gate": gate,
        "challenger": result.version,
        "promoted": decision.promoted,
        "decision": decision.summary,
        "verdict": decision.plain,
        "gate_rows": decision.rows,
        "gate_rows_source": decision.rows_source,
    }
