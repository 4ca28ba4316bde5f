"""Model evaluation: cost-based threshold, metrics, per-mode recall and the diagnostic plots.

Everything here is a pure function of labels and probabilities (plots return a matplotlib Figure),
so training, the promotion gate and the offline evaluation all score models the same way.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.metrics import (
    average_precision_score,
    confusion_matrix,
    f1_score,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
)

from predmaint import schema
from predmaint.config import CostParams, Params

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PER_CYCLES = 1000
LOWER_IS_BETTER: frozenset[str] = frozenset({"expected_cost_per_1000", "false_alarm_rate"})


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


def mode_recall(labels: pd.DataFrame, flagged: npt.ArrayLike) -> dict[str, float | None]:
    """Recall of the failure flag per failure mode; None where the mode has no positives."""
    f = np.asarray(flagged).astype(bool)
    out: dict[str, float | None] = {}
    for mode in schema.FAILURE_MODES:
        positives = labels[mode].to_numpy().astype(bool)
        out[mode] = float(f[positives].mean()) if positives.any() else None
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
        labels: The failure-mode flags of the same rows, for recall per mode.

    Returns:
        Flat metric names → values; per-mode recall is ``recall_<MODE>`` (None = no positives, n/a).
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
        out.update({f"recall_{m}": v for m, v in mode_recall(labels, flagged).items()})
    return out


def numeric_only(values: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """The metrics MLflow can log (n/a values left out), optionally prefixed."""
    return {f"{prefix}{k}": float(v) for k, v in values.items() if isinstance(v, int | float)}


def pr_curve_frame(y_true: npt.ArrayLike, proba: npt.ArrayLike) -> pd.DataFrame:
    """Precision and recall by threshold, for ``dvc plots`` and the PR plot."""
    precision, recall, thresholds = precision_recall_curve(np.asarray(y_true).astype(int), proba)
    return pd.DataFrame({"threshold": np.append(thresholds, 1.0), "precision": precision, "recall": recall}).round(6)


def _figure(size: tuple[float, float] = (5.0, 4.0)) -> tuple[Figure, Any]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.add_subplot()


def plot_pr_curve(y_true: npt.ArrayLike, proba: npt.ArrayLike, threshold: float, title: str) -> Figure:
    """Precision-recall curve with the operating point marked."""
    curve = pr_curve_frame(y_true, proba)
    fig, ax = _figure()
    ax.plot(curve["recall"], curve["precision"], label="PR curve")
    y = np.asarray(y_true).astype(int)
    flagged = np.asarray(proba) >= threshold
    ax.scatter(
        [recall_score(y, flagged, zero_division=0)],
        [precision_score(y, flagged, zero_division=0)],
        color="red",
        zorder=3,
        label=f"threshold {threshold:.3f}",
    )
    ax.set(xlabel="recall", ylabel="precision", title=title, xlim=(0, 1.02), ylim=(0, 1.02))
    ax.legend(loc="lower left")
    return fig


def plot_confusion(values: dict[str, Any], title: str) -> Figure:
    """Confusion matrix from the ``tn/fp/fn/tp`` entries of :func:`metrics`."""
    matrix = np.array([[values["tn"], values["fp"]], [values["fn"], values["tp"]]])
    fig, ax = _figure((4.0, 3.6))
    ax.imshow(matrix, cmap="Blues")
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(j, i, str(count), ha="center", va="center", color="black")
    ax.set(xticks=[0, 1], yticks=[0, 1], xticklabels=["no alarm", "alarm"], yticklabels=["ok", "failure"])
    ax.set(xlabel="predicted", ylabel="actual", title=title)
    return fig


def plot_calibration(y_true: npt.ArrayLike, proba: npt.ArrayLike, title: str, bins: int = 10) -> Figure:
    """Reliability diagram: observed failure rate per probability bin."""
    from sklearn.calibration import calibration_curve

    observed, predicted = calibration_curve(np.asarray(y_true).astype(int), proba, n_bins=bins)
    fig, ax = _figure()
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    ax.plot(predicted, observed, marker="o", label="model")
    ax.set(xlabel="predicted probability", ylabel="observed failure rate", title=title)
    ax.legend(loc="upper left")
    return fig


def plot_importance(importance: pd.Series, title: str) -> Figure:
    """Horizontal bar chart of feature importances (largest on top)."""
    ordered = importance.sort_values()
    fig, ax = _figure((6.0, 4.0))
    ax.barh(ordered.index.astype(str), ordered.to_numpy())
    ax.set(xlabel="mean drop in average precision", title=title)
    return fig


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

    from predmaint import registry
    from predmaint.train import production_stream

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
        mlflow.log_metrics(numeric_only(values, "offline_"))
        mlflow.log_figure(
            plot_pr_curve(stream[schema.TARGET], proba, model.threshold, "PR (offline)"),
            "plots/pr_curve_offline.png",
        )
    payload = {"model": model.name, "version": model.version, **values}
    write_report(params, "evaluate", payload, pr_curve_frame(stream[schema.TARGET], proba))
    return payload
