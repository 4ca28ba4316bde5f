"""What the flows publish to Prefect: readable run names and tags, decision tables with links.

Numbers are formatted for people (``0.031``, ``57,100``, ``+4.2 %``), each decision is a table
artifact whose description carries the verdict, its reasons and links to the Evidently reports,
the monitoring dashboard and the MLflow run (at the UI ports in params.yaml, which ``predmaint ui``
uses when they are free).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from predmaint.config import Params


def fmt(value: Any, digits: int = 3) -> str:
    """A number for people: ``57,100``, ``3.14``, ``0.031`` (``digits`` decimals below 1), ``n/a`` for None/NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if abs(value) >= 100 or isinstance(value, int):
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.2f}"
    return f"{value:.{digits}f}"


def change(new: Any, old: Any) -> str:
    """Relative change of ``new`` over ``old`` as ``+4.2 %`` (``n/a`` when unknown)."""
    if not isinstance(new, int | float) or not isinstance(old, int | float) or old == 0:
        return "n/a"
    return f"{(new - old) / abs(old) * 100:+.1f} %"


def mlflow_run_url(params: Params, run_id: str, experiment_id: str | None = None) -> str:
    """The MLflow UI page of a run (the UI on ``orchestration.mlflow_port``)."""
    base = f"http://{params.serving.host}:{params.orchestration.mlflow_port}"
    return f"{base}/#/experiments/{experiment_id}/runs/{run_id}" if experiment_id else f"{base}/#/runs/{run_id}"


def file_link(path: str | Path, label: str | None = None) -> str:
    """A markdown link to a local file."""
    p = Path(path)
    return f"[{label or p.name}]({p.resolve().as_uri()})"


def label_run(name: str, tags: Iterable[str]) -> None:
    """Rename the current flow run and add ``tags`` (no-op outside a flow run)."""
    from prefect.client.orchestration import get_client
    from prefect.runtime import flow_run

    run_id = flow_run.id
    if not run_id:
        return
    with get_client(sync_client=True) as client:
        current = client.read_flow_run(run_id)
        merged = sorted({*(current.tags or []), *tags})
        client.update_flow_run(run_id, name=name, tags=merged)


def publish_table(key: str, rows: Sequence[Mapping[str, Any]], description: str) -> None:
    """A Prefect table artifact (``key``: lowercase letters, digits and dashes)."""
    from prefect.artifacts import create_table_artifact

    create_table_artifact(table=[dict(r) for r in rows], key=key, description=description)


def mlflow_model_url(params: Params, version: str) -> str:
    """The MLflow UI page of a registered model version."""
    base = f"http://{params.serving.host}:{params.orchestration.mlflow_port}"
    return f"{base}/#/models/{params.mlflow.registered_model}/versions/{version}"


def publish_gate(params: Params, decision: Any, key: str = "promotion-gate") -> None:
    """The promotion gate's decision: challenger vs champion per metric, the verdict and its reasons."""
    champion = decision.champion_metrics or {}
    shown = [decision.primary_metric, "f1", "recall", "precision", "pr_auc", "expected_cost_per_1000"]
    rows = [
        {
            "metric": name.replace("_", " ") + (" (primary)" if name == decision.primary_metric else ""),
            f"challenger v{decision.challenger}": fmt(decision.challenger_metrics.get(name)),
            f"champion {'v' + decision.champion if decision.champion else '(none)'}": fmt(champion.get(name)),
            "change": change(decision.challenger_metrics.get(name), champion.get(name)),
        }
        for name in dict.fromkeys(shown)
        if name in decision.challenger_metrics
    ]
    verdict = "**PROMOTED**" if decision.promoted else "**REFUSED**"
    links = [f"[challenger v{decision.challenger}]({mlflow_model_url(params, decision.challenger)})"]
    if decision.champion:
        links.append(f"[champion v{decision.champion}]({mlflow_model_url(params, decision.champion)})")
    description = (
        f"# Promotion gate: {verdict} v{decision.challenger}\n\n"
        f"on {fmt(decision.rows)} rows neither model was fitted or tuned on\n\n"
        + "\n".join(f"- {r}" for r in decision.reasons)
        + "\n\n"
        + " · ".join(links)
    )
    publish_table(key, rows, description)
