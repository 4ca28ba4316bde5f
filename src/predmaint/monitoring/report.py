"""Evidently reports of one window: feature drift + data summary, and classification performance.

Two reports per window, because they look at different rows: drift and the data summary use every
row of the window (the plant's data whether or not its labels have arrived); the classification
report uses only the labelled rows (Evidently's classification metrics reject missing labels and
fail on a single class). Windows larger than ``monitoring.max_rows_for_drift`` are sampled with a
seeded uniform sample first (see docs/monitoring.md); the numbers the trigger uses for performance
come from :mod:`predmaint.monitoring.performance` on all rows.

Evidently is imported inside the functions: importing this module stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from predmaint import schema
from predmaint.config import Params
from predmaint.monitoring import window as w

if TYPE_CHECKING:
    from evidently.core.report import Snapshot


@dataclass(frozen=True)
class DriftSettings:
    """How drift is measured: methods, thresholds per column and the dataset-level share."""

    num_method: str
    cat_method: str
    thresholds: dict[str, float]
    share_threshold: float
    max_rows: int
    seed: int

    @classmethod
    def from_params(cls, params: Params) -> DriftSettings:
        """Read the ``monitoring`` section (and the project seed for sampling)."""
        m = params.monitoring
        thresholds = {c: m.drift_threshold for c in schema.NUMERIC_FEATURES}
        thresholds[schema.TYPE] = m.categorical_drift_threshold
        thresholds.update(m.column_drift_thresholds)
        return cls(
            num_method=m.drift_method,
            cat_method=m.categorical_drift_method,
            thresholds=thresholds,
            share_threshold=m.drift_share_threshold,
            max_rows=m.max_rows_for_drift,
            seed=params.project.seed,
        )


def _data_frame(frame: pd.DataFrame, with_prediction: bool) -> pd.DataFrame:
    cols = [*schema.FEATURE_COLUMNS, *([w.PREDICTION] if with_prediction else [])]
    out = frame.loc[:, cols].reset_index(drop=True)
    out[schema.TYPE] = out[schema.TYPE].astype(str)
    for col in (*schema.NUMERIC_FEATURES, *([w.PREDICTION] if with_prediction else [])):
        out[col] = out[col].astype(float)
    return out


def drift_report(reference: pd.DataFrame, current: pd.DataFrame, settings: DriftSettings) -> Snapshot:
    """Run Evidently's drift preset (the six features) and data summary on a window.

    Args:
        reference: The training features (optionally with ``prediction``).
        current: The window, already sampled if it was large.
        settings: Methods and thresholds.

    Returns:
        The Evidently snapshot; the ``prediction`` column is summarised too when both frames have it.
    """
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset, DataSummaryPreset

    with_pred = w.PREDICTION in reference.columns and w.PREDICTION in current.columns
    numeric = [*schema.NUMERIC_FEATURES, *([w.PREDICTION] if with_pred else [])]
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=[schema.TYPE])
    ref, cur = (
        Dataset.from_pandas(_data_frame(f, with_pred), data_definition=definition) for f in (reference, current)
    )
    report = Report(
        [
            DataDriftPreset(
                columns=list(schema.FEATURE_COLUMNS),
                num_method=settings.num_method,
                cat_method=settings.cat_method,
                per_column_threshold=dict(settings.thresholds),
                drift_share=settings.share_threshold,
            ),
            DataSummaryPreset(),
        ],
        include_tests=True,
    )
    return report.run(cur, ref)


def _labelled(frame: pd.DataFrame) -> pd.DataFrame | None:
    if w.PREDICTION not in frame.columns:
        return None
    y = w.labels(frame)
    known = y.notna()
    if known.sum() == 0 or y[known].nunique() < 2:
        return None
    proba = frame.loc[known, w.PREDICTION].astype(float).to_numpy()
    return pd.DataFrame({w.PREDICTION: proba, w.TARGET: y[known].astype(int).to_numpy()})


def performance_report(
    reference: pd.DataFrame, current: pd.DataFrame, threshold: float
) -> tuple[Snapshot | None, str | None]:
    """Run Evidently's classification preset on the labelled rows of a window.

    The reference is shown beside the window when it carries predictions and both classes.

    Returns:
        The snapshot, or None and the reason it was skipped (no predictions, or the labelled rows
        hold a single class, which Evidently's per-class metrics cannot handle).
    """
    from evidently import BinaryClassification, DataDefinition, Dataset, Report
    from evidently.presets import ClassificationPreset

    cur = _labelled(current)
    if cur is None:
        reason = (
            "window has no 'prediction' column"
            if w.PREDICTION not in current.columns
            else "labelled rows are missing or hold a single class"
        )
        return None, f"classification report skipped: {reason}"
    definition = DataDefinition(
        numerical_columns=[w.PREDICTION],
        categorical_columns=[w.TARGET],
        classification=[BinaryClassification(target=w.TARGET, prediction_probas=w.PREDICTION, pos_label=1)],
    )
    ref = _labelled(reference)
    report = Report([ClassificationPreset(probas_threshold=threshold)], include_tests=True)
    snapshot = report.run(
        Dataset.from_pandas(cur, data_definition=definition),
        None if ref is None else Dataset.from_pandas(ref, data_definition=definition),
    )
    return snapshot, None


def drift_summary(snapshot: Snapshot) -> dict[str, Any]:
    """Drift share, dataset drift and per-column score/method/threshold/drifted from a snapshot.

    Raises:
        ValueError: The snapshot holds no drift metrics (not made by :func:`drift_report`).
    """
    d = snapshot.dict()
    out: dict[str, Any] = {"columns": {}}
    for m in d["metrics"]:
        kind = m["config"]["type"]
        if kind.endswith(":DriftedColumnsCount"):
            out.update(drift_share=float(m["value"]["share"]), drifted_columns=int(m["value"]["count"]))
        elif kind.endswith(":ValueDrift"):
            out["columns"][m["config"]["column"]] = {
                "score": float(m["value"]),
                "method": str(m["config"]["method"]),
                "threshold": float(m["config"]["threshold"]),
            }
    for t in d["tests"]:
        p = t["metric_config"]["params"]
        if p["type"].endswith(":ValueDrift") and p["column"] in out["columns"]:
            out["columns"][p["column"]]["drifted"] = t["status"] == "FAIL"
        elif p["type"].endswith(":DriftedColumnsCount"):
            out["dataset_drift"] = t["status"] == "FAIL"
    if "drift_share" not in out or not out["columns"]:
        raise ValueError("the snapshot has no drift metrics (DriftedColumnsCount / ValueDrift)")
    return out


def classification_metrics(snapshot: Snapshot | None) -> dict[str, float]:
    """Evidently's headline classification values (Accuracy, Precision, Recall, F1Score, RocAuc)."""
    if snapshot is None:
        return {}
    keep = {"Accuracy", "Precision", "Recall", "F1Score", "RocAuc", "LogLoss"}
    out: dict[str, float] = {}
    for m in snapshot.dict()["metrics"]:
        name = m["config"]["type"].split(":")[-1]
        if name in keep and isinstance(m["value"], int | float):
            out[name] = float(m["value"])
    return out
