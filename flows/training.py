"""`training-pipeline`: the DVC stages in order as Prefect tasks, then the promotion gate.

The stages are not listed here: they come from dvc.yaml (``predmaint.ops.pipeline.stage_order``), and
each task runs ``dvc repro --single-item <stage>`` so DVC skips what is up to date.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task

from flows.common import notify_after_promotion, project_params
from predmaint.config import Params
from predmaint.ops.pipeline import run_stage, stage_order


@task(name="dvc-stage", task_run_name="dvc-{stage}")
def dvc_stage(params: Params, stage: str, force: bool = False) -> bool:
    """Reproduce one DVC stage; True when it ran, False when DVC found it up to date."""
    result = run_stage(params.root, stage, force=force)
    get_run_logger().info("%s: %s", stage, "ran" if result.ran else "up to date, skipped")
    return result.ran


@task(name="promotion-gate")
def promotion_gate(params: Params) -> dict[str, Any]:
    """Champion vs challenger on the same data; promote only if the gate passes."""
    from predmaint.model.promote import promote

    decision = promote(params)
    get_run_logger().info("promotion: %s", decision.summary)
    return {"promoted": decision.promoted, "version": decision.challenger, "summary": decision.summary}


@task(name="data-docs")
def data_docs(params: Params) -> str:
    """Rebuild the Great Expectations Data Docs from the stored validation results."""
    from predmaint.quality.docs import build_docs
    from predmaint.quality.gate import quiet_gx_logging

    quiet_gx_logging()
    index = build_docs(params).index
    get_run_logger().info("Data Docs: %s", index.as_uri())
    return str(index)


@flow(name="training-pipeline", log_prints=True)
def training_pipeline(
    params_path: str | None = None,
    force: bool = False,
    service_url: str | None = None,
    reason: str = "manual",
) -> dict[str, Any]:
    """ingest → validate → split → clean → train → evaluate (dvc.yaml), Data Docs, then the promotion gate.

    Args:
        params_path: The params file (default: ``$PREDMAINT_PARAMS`` or ./params.yaml).
        force: Re-run every stage even when DVC finds it up to date.
        service_url: The predmaint API(s) to notify after a promotion, comma-separated
            (default ``$PREDMAINT_SERVICE_URLS``; none: the API learns of it at its next poll).
        reason: Why this run started (shown in logs and the result).
    """
    params = project_params(params_path)
    retries = params.orchestration.task_retries
    stage = dvc_stage.with_options(retries=retries, retry_delay_seconds=params.orchestration.task_retry_delay_s)
    ran = {name: stage(params, name, force) for name in stage_order(params.root)}
    docs = data_docs(params)
    decision = promotion_gate(params)
    if decision["promoted"]:
        notify_after_promotion(params, service_url)
    return {"reason": reason, "stages_ran": ran, "promotion": decision, "data_docs": docs}
