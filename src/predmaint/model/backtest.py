"""Rolling-origin backtest: the whole training procedure re-run at several forecast origins.

At each origin (``backtest.origins``, a row count of the chronological raw table) the rows up to
the origin are cleaned as ``clean`` says and handed to :func:`predmaint.model.train.fit` — fit,
calibration and threshold choice, exactly as ``predmaint train`` does — and the fitted model is
scored on the next ``backtest.horizon_rows`` rows, which it never saw (labels as recorded,
nothing cleaned). :func:`log_backtest` records it in MLflow: a parent run, one child per origin.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from predmaint import schema
from predmaint.config import Params
from predmaint.data import tables
from predmaint.data.clean import clean_frame
from predmaint.model import metrics as evaluate
from predmaint.model import tracking
from predmaint.model.datasets import log_dataset
from predmaint.model.run import flat_params
from predmaint.model.train import FitSettings, fit

SUMMARY: tuple[str, ...] = (
    "f1",
    "pr_auc",
    "roc_auc",
    "brier",
    "expected_cost_per_1000",
    "precision",
    "recall",
    *(f"recall_{m}" for m in evaluate.MODE_CATEGORIES),
)


@dataclass(frozen=True)
class BacktestResult:
    """Per-origin metrics (one row per origin) and their aggregate over the origins."""

    per_origin: pd.DataFrame
    aggregate: dict[str, float]


def origin_split(
    table: pd.DataFrame, origin: int, horizon: int, inconsistent_labels: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The cleaned history before ``origin`` and the next ``horizon`` raw rows.

    Raises:
        ValueError: The table has no rows after the origin.
    """
    ordered = table.sort_values(schema.UDI, kind="stable").reset_index(drop=True)
    if origin >= len(ordered):
        raise ValueError(f"backtest origin {origin} leaves no rows to score ({len(ordered)} rows)")
    history, _ = clean_frame(ordered.iloc[:origin].reset_index(drop=True), inconsistent_labels)
    return history.reset_index(drop=True), ordered.iloc[origin : origin + horizon].reset_index(drop=True)


def run_origin(params: Params, table: pd.DataFrame, origin: int) -> dict[str, Any]:
    """Fit at one origin and score the rows after it; returns metrics plus the origin's row ranges."""
    history, future = origin_split(table, origin, params.backtest.horizon_rows, params.clean.inconsistent_labels)
    fitted = fit(FitSettings.of(params), history)
    proba = fitted.pipeline.predict_proba(future.loc[:, list(schema.FEATURE_COLUMNS)])[:, 1]
    values = evaluate.metrics(future[schema.TARGET], proba, fitted.threshold, params.costs, future)
    return {
        "origin": origin,
        "fit_udi": f"{int(fitted.fit_rows[schema.UDI].min())}-{int(fitted.fit_rows[schema.UDI].max())}",
        "tuned_udi": f"{int(fitted.holdout[schema.UDI].min())}-{int(fitted.holdout[schema.UDI].max())}",
        "scored_udi": f"{int(future[schema.UDI].min())}-{int(future[schema.UDI].max())}",
        "validation_brier": fitted.validation["brier"],
        **values,
    }


def aggregate(per_origin: pd.DataFrame) -> dict[str, float]:
    """Mean of each summary metric over the origins (n/a ignored) and the minimum F1."""
    out = {f"mean_{k}": float(np.nanmean(per_origin[k].astype(float))) for k in SUMMARY if per_origin[k].notna().any()}
    out["min_f1"] = float(per_origin["f1"].min())
    return out


def backtest(params: Params, table: pd.DataFrame, origins: list[int] | None = None) -> BacktestResult:
    """Run :func:`run_origin` at every origin (default ``backtest.origins``)."""
    rows = [run_origin(params, table, o) for o in (origins or params.backtest.origins)]
    per_origin = pd.DataFrame(rows)
    return BacktestResult(per_origin, aggregate(per_origin))


def read_table_for_backtest(path: Path) -> pd.DataFrame:
    """The chronological raw table (all labels as recorded).

    Raises:
        FileNotFoundError: The file is missing (run ``predmaint ingest``).
    """
    if not path.is_file():
        raise FileNotFoundError(f"backtest data {path} not found: run `predmaint ingest` (or pass --data)")
    return tables.read_table(path)


def log_backtest(params: Params, result: BacktestResult, source: Path, table: pd.DataFrame | None = None) -> str:
    """Log a parent run (aggregate metrics, per-origin table) with one child run per origin.

    The parent logs ``table`` as its ``backtest`` dataset, and its name says what ran
    (``backtest · 2 origins on v1_ingest``).

    Returns:
        The parent run id.
    """
    import mlflow

    tracking.setup(params)
    tags = tracking.lineage_tags(params, source)
    name = f"backtest · {len(result.per_origin)} origins on {tags['data_version']}"
    with mlflow.start_run(run_name=name, tags={**tags, "kind": "backtest"}) as parent:
        if table is not None:
            data_tags = {k: tags[k] for k in ("data_version", "data_md5", "data_source")}
            log_dataset(table, name=f"{tags['data_version']} backtest", source=tags["data_path"], context="backtest",
                        tags=data_tags)  # fmt: skip
        mlflow.log_params(
            {**flat_params(params), **{f"backtest.{k}": v for k, v in params.backtest.model_dump().items()}}
        )
        mlflow.log_metrics(evaluate.numeric_only(result.aggregate))
        mlflow.log_text(result.per_origin.to_csv(index=False, lineterminator="\n"), "backtest/per_origin.csv")
        for row in result.per_origin.to_dict(orient="records"):
            with mlflow.start_run(run_name=f"origin {row['origin']}", nested=True, tags={"kind": "backtest_origin"}):
                mlflow.log_params({k: row[k] for k in ("origin", "fit_udi", "tuned_udi", "scored_udi")})
                mlflow.log_metrics(evaluate.numeric_only({str(k): v for k, v in row.items() if k != "origin"}))
    return str(parent.info.run_id)
