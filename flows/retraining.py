"""`retraining`: new training window → data gate → challenger → unbiased promotion gate → record why.

Run by the monitoring flow's trigger (as a subflow in ephemeral mode, or by a Prefect automation
on the ``predmaint.retrain.requested`` event when deployed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from flows.common import notify_after_promotion, project_params
from predmaint.config import Params

if TYPE_CHECKING:
    from predmaint.data.retrain import RetrainWindow
    from predmaint.model.gate import PromotionDecision
    from predmaint.model.train import TrainResult


@task(name="build-retraining-window")
def build_window(params: Params, reason: str) -> RetrainWindow:
    """Reference + labelled production rows as a new DVC-tracked data version."""
    from predmaint.data.retrain import prepare
    from predmaint.service.predlog import location, read_window

    log_frame = read_window(location(params))
    return prepare(params, log_frame, reason)


@task(name="data-gate")
def data_gate(params: Params, window: RetrainWindow) -> dict[str, Any]:
    """The raw suite on the new window: training never sees data that failed the gate."""
    from predmaint.quality.gate import validate_file

    result = validate_file(params, window.path, "raw")
    return dict(result.summary)


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
    params_path: str | None = None, reason: str = "manual", service_url: str | None = None
) -> dict[str, Any]:
    """Retrain on the reference plus labelled production data and promote only if better.

    Args:
        params_path: The params file (default: ``$PREDMAINT_PARAMS`` or ./params.yaml).
        reason: Why retraining runs (the trigger's rules), recorded with the data and the decision.
        service_url: The predmaint API(s) to notify after a promotion, comma-separated
            (default ``$PREDMAINT_SERVICE_URLS``).
    """
    params = project_params(params_path)
    window = build_window(params, reason)
    gate = data_gate(params, window)
    result = train_challenger(params, window)
    decision = promotion_gate(params, window)
    get_run_logger().info("retraining (%s): %s", reason, decision.summary)
    if decision.promoted:
        notify_after_promotion(params, service_url)
    create_markdown_artifact(
        f"# Retraining: {'promoted' if decision.promoted else 'not promoted'}\n\n"
        f"- reason: {reason}\n- data version: {window.version.version_id} ({window.rows} rows, "
        f"{window.production_rows} from production)\n- challenger: v{result.version}\n"
        f"- gate rows: {decision.rows} (UDI {decision.udi_range}) of {decision.rows_source}\n"
        + "".join(f"- {r}\n" for r in decision.reasons),
        key="retraining-decision",
    )
    return {
        "reason": reason,
        "data_version": window.version.version_id,
        "rows": window.rows,
        "gate": gate,
        "challenger": result.version,
        "promoted": decision.promoted,
        "decision": decision.summary,
        "gate_rows": decision.rows,
        "gate_rows_source": decision.rows_source,
    }
