"""Offline evaluation of a registered version on the labelled production stream, and metric reports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from predmaint import schema
from predmaint.config import Params
from predmaint.model import registry
from predmaint.model.datasets import log_dataset
from predmaint.model.metrics import metrics, numeric_only, pr_curve_frame
from predmaint.model.plots import plot_pr_curve
from predmaint.model.train import production_stream


def write_report(params: Params, name: str, payload: dict[str, Any], curve: pd.DataFrame | None) -> Path:
    """Write ``<metrics_dir>/<name>.json`` (``dvc metrics``) and ``<name>_pr_curve.csv`` (``dvc plots``)."""
    folder = params.path(params.paths.metrics_dir)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.json"
    target.write_text(json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    if curve is not None:
        curve.to_csv(folder / f"{name}_pr_curve.csv", index=False, lineterminator="\n")
    return target


def evaluate_registered(params: Params, alias: str | None = None, version: str | None = None) -> dict[str, Any]:
    """Score a registered version on the labelled production stream (offline) and record the result.

    Rows the version was trained or validated on are excluded. The metrics are logged to the
    version's MLflow run as ``offline_*`` and written to ``<metrics_dir>/evaluate.json``.

    Raises:
        ValueError: There is no labelled production data to evaluate on.
    """
    import mlflow

    model = registry.load_model(params, alias=alias or params.mlflow.challenger_alias, version=version)
    stream = production_stream(params)
    if stream is None:
        raise ValueError(f"no labelled production data under {params.path(params.paths.production_dir)}")
    data_meta = model.metadata["data"]
    low, high = data_meta["fit_udi_range"][0], data_meta["holdout_udi_range"][1]
    stream = stream[~stream[schema.UDI].between(low, high)].reset_index(drop=True)
    proba = model.predict_proba(stream)
    values = metrics(stream[schema.TARGET], proba, model.threshold, params.costs, stream[list(schema.FAILURE_MODES)])
    with mlflow.start_run(run_id=model.run_id):
        production = params.paths.production_dir.as_posix()
        log_dataset(stream, name="production days (labelled)", source=production, context="backtest", tags={})
        mlflow.log_metrics(numeric_only(values, "offline_"))
        mlflow.log_figure(
            plot_pr_curve(stream[schema.TARGET], proba, model.threshold, "PR (offline)"),
            "plots/pr_curve_offline.png",
        )
    # the DVC output holds no registry version: it depends on the registry's state, not on the inputs
    write_report(params, "evaluate", {"model": model.name, **values}, pr_curve_frame(stream[schema.TARGET], proba))
    return {"model": model.name, "version": model.version, **values}
