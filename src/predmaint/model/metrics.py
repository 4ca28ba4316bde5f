"""Model metrics as pure functions of labels and probabilities: cost, threshold, per-mode recall.

Training, the promotion gate, monitoring and the offline evaluation all score models with these.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    confusion_matrix,
    f1_score,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
)

from predmaint import schema
from predmaint.config import CostParams

PER_CYCLES = 1000
UNEXPLAINED = "unexplained"
MODE_CATEGORIES: tuple[str, ...] = (*schema.FAILURE_MODES, UNEXPLAINED)
LOWER_IS_BETTER: frozenset[str] = frozenset({"expected_cost_per_1000", "false_alarm_rate", "brier"})


def expected_cost(y_true: npt.ArrayLike, flagged: npt.ArrayLike, costs: CostParams) -> float:
    """Average cost per 1,000 cycles of acting on ``flagged`` when ``y_true`` is the truth."""
    y = np.asarray(y_true).astype(bool)
    f = np.asarray(flagged).astype(bool)
    if y.size == 0:
        raise ValueError("cannot compute the expected cost of zero rows")
    missed = np.sum(y & ~f)
    false_alarms = np.sum(~y & f)
    return float((missed * costs.missed_failure + false_alarms * costs.false_alarm) / y.size * PER_CYCLES)


def choose_threshold(y_true: npt.ArrayLike, proba: npt.ArrayLike, costs: CostParams, grid_points: int) -> float:
    """The threshold on a uniform grid over (0, 1) that minimises expected cost.

    Ties (a flat cost curve) go to the middle of the cheapest run of thresholds, so a small shift
    in the scores moves the decision as little as possible.
    """
    y = np.asarray(y_true).astype(bool)
    p = np.asarray(proba, dtype=float)
    grid = np.linspace(0.0, 1.0, grid_points + 2)[1:-1]
    flagged = p[None, :] >= grid[:, None]
    missed = (y[None, :] & ~flagged).sum(axis=1)
    alarms = (~y[None, :] & flagged).sum(axis=1)
    cost = missed * costs.missed_failure + alarms * costs.false_alarm
    best = np.flatnonzero(cost == cost.min())
    runs = np.split(best, np.flatnonzero(np.diff(best) != 1) + 1)
    first_run = runs[0]
    return float(np.round(grid[first_run[len(first_run) // 2]], 6))


def failure_categories(labels: pd.DataFrame) -> pd.DataFrame:
    """Per failure (``Machine failure`` = 1 only), which categories it belongs to.

    A failure with several mode flags counts in each; one without any flag is ``unexplained``.
    Rows that are not failures are dropped, even when a mode flag is set on them (the AI4I file
    has 18 such rows, mostly RNF).
    """
    failed = labels[labels[schema.TARGET].astype(int) == 1]
    modes = failed.loc[:, list(schema.FAILURE_MODES)].astype(bool)
    modes[UNEXPLAINED] = ~modes.any(axis=1)
    return modes


def mode_recall(labels: pd.DataFrame, flagged: npt.ArrayLike) -> dict[str, Any]:
    """Recall of the alarm per failure category, over failures only.

    Args:
        labels: ``Machine failure`` and the mode flags of the scored rows.
        flagged: The alarms on the same rows.

    Returns:
        ``recall_<CATEGORY>`` (None where the category has no failure: n/a, never 0) and
        ``failures_<CATEGORY>`` (the count it is measured on), for the modes and ``unexplained``.
    """
    f = pd.Series(np.asarray(flagged).astype(bool), index=labels.index)
    categories = failure_categories(labels)
    out: dict[str, Any] = {}
    for name in MODE_CATEGORIES:
        members = categories.index[categories[name].to_numpy()]
        out[f"recall_{name}"] = float(f.loc[members].mean()) if len(members) else None
        out[f"failures_{name}"] = len(members)
    return out


def metrics(
    y_true: npt.ArrayLike,
    proba: npt.ArrayLike,
    threshold: float,
    costs: CostParams,
    labels: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """All the quality numbers of one model on one data set.

    Args:
        y_true: ``Machine failure`` (0/1).
        proba: Failure probabilities.
        threshold: Probabilities at or above it raise an alarm.
        costs: Cost of a missed failure and of a false alarm.
        labels: The mode flags of the same rows, for recall per failure category (failures only:
            ``Machine failure`` is taken from ``y_true``).

    Returns:
        Flat metric names → values; per-category recall is ``recall_<CATEGORY>`` (None = no
        failures of that category, n/a) with its count ``failures_<CATEGORY>``.
    """
    y = np.asarray(y_true).astype(int)
    p = np.asarray(proba, dtype=float)
    flagged = p >= threshold
    tn, fp, fn, tp = confusion_matrix(y, flagged, labels=[0, 1]).ravel()
    both = len(np.unique(y)) == 2
    out: dict[str, Any] = {
        "rows": int(y.size),
        "positives": int(y.sum()),
        "threshold": float(threshold),
        "pr_auc": float(average_precision_score(y, p)) if both else None,
        "roc_auc": float(roc_auc_score(y, p)) if both else None,
        "brier": float(brier_score_loss(y, p, labels=[0, 1])),
        "f1": float(f1_score(y, flagged, zero_division=0)),
        "precision": float(precision_score(y, flagged, zero_division=0)),
        "recall": float(recall_score(y, flagged, zero_division=0)),
        "expected_cost_per_1000": expected_cost(y, flagged, costs),
        "tn": int(tn),
        "fp": int(fp),
        "fn": int(fn),
        "tp": int(tp),
    }
    if labels is not None:
        framed = labels.loc[:, list(schema.FAILURE_MODES)].reset_index(drop=True).assign(**{schema.TARGET: y})
        out.update(mode_recall(framed, flagged))
    return out


def numeric_only(values: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """The metrics MLflow can log (n/a values left out), optionally prefixed."""
    return {f"{prefix}{k}": float(v) for k, v in values.items() if isinstance(v, int | float)}


def pr_curve_frame(y_true: npt.ArrayLike, proba: npt.ArrayLike) -> pd.DataFrame:
    """Precision and recall by threshold, for ``dvc plots`` and the PR plot."""
    precision, recall, thresholds = precision_recall_curve(np.asarray(y_true).astype(int), proba)
    return pd.DataFrame({"threshold": np.append(thresholds, 1.0), "precision": precision, "recall": recall}).round(6)
