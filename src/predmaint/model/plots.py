"""Diagnostic plots of a model (matplotlib Figures, for MLflow): PR curve, confusion, calibration, importance."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.metrics import brier_score_loss, precision_score, recall_score

from predmaint.model.metrics import pr_curve_frame

if TYPE_CHECKING:
    from matplotlib.figure import Figure


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
    """Reliability diagram: observed failure rate per probability bin, with the Brier score."""
    from sklearn.calibration import calibration_curve

    y = np.asarray(y_true).astype(int)
    observed, predicted = calibration_curve(y, proba, n_bins=bins, strategy="quantile")
    brier = brier_score_loss(y, proba, labels=[0, 1])
    fig, ax = _figure()
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    ax.plot(predicted, observed, marker="o", label=f"model (Brier {brier:.4f})")
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
