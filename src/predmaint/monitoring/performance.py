"""Production performance of the served alarms on the labelled rows, beside the training baseline.

Computed with numpy on *all* labelled rows (cheap at any size), from the decisions that were
actually served, so a window served by two model versions is scored as it happened. The expected
cost uses :func:`predmaint.model.metrics.expected_cost`, the same definition training and the promotion
gate use.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from predmaint.config import CostParams
from predmaint.model.metrics import expected_cost

METRICS: tuple[str, ...] = ("error_rate", "recall", "precision", "f1", "expected_cost_per_1000")
RATES: tuple[str, ...] = ("alarm_rate", "failure_rate")


def performance(y: pd.Series, alarm: pd.Series | None, costs: CostParams) -> dict[str, float | int | None]:
    """Error rate, recall, precision, F1, expected cost and the counts behind them.

    Args:
        y: Labels (NaN = not arrived); only labelled rows count.
        alarm: The served alarm (0/1) per row, or None when the window has no predictions.
        costs: Cost of a missed failure and of a false alarm.

    Returns:
        ``labelled``, ``positives``, ``tp``, ``fp``, ``fn``, ``errors`` and the :data:`METRICS`;
        a metric is None when undefined (no labelled rows, no positives for recall, no alarms
        for precision).
    """
    known = y.notna().to_numpy()
    out: dict[str, float | int | None] = {"labelled": int(known.sum())}
    out.update(dict.fromkeys(("positives", "tp", "fp", "fn", "errors", *METRICS)))
    if alarm is None or not known.any():
        if known.any():
            out["positives"] = int(y[known].sum())
        return out
    truth = y.to_numpy()[known].astype(bool)
    flag = alarm.to_numpy()[known].astype(bool)
    tp, fp, fn = int(np.sum(truth & flag)), int(np.sum(~truth & flag)), int(np.sum(truth & ~flag))
    n = int(truth.size)
    out.update(positives=int(truth.sum()), tp=tp, fp=fp, fn=fn, errors=fp + fn)
    out["error_rate"] = (fp + fn) / n
    out["recall"] = tp / (tp + fn) if tp + fn else None
    out["precision"] = tp / (tp + fp) if tp + fp else None
    out["f1"] = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None
    out["expected_cost_per_1000"] = expected_cost(truth, flag, costs)
    return out


def baseline_from_metrics(metrics: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """The training baseline from a model version's metrics (e.g. its validation metrics).

    Accepts the keys :func:`predmaint.model.metrics.metrics` produces; ``error_rate`` is derived from
    ``tn/fp/fn/tp`` (or ``rows/fp/fn``) when it is not given, and so are the share of readings
    alarmed (``alarm_rate``, from ``tp + fp``) and the share that failed (``failure_rate``, from
    ``positives`` or ``tp + fn``), which the prediction- and label-drift rules compare against.
    The counts ``rows``/``tp``/``fn``/``fp`` are kept when given, so the rules can bound the baseline
    (measured on a few thousand rows, at the threshold chosen on them) instead of trusting it exactly.

    Args:
        metrics: Metric name → value.
        prefix: A prefix the names carry (e.g. ``"val_"``).

    Raises:
        ValueError: ``recall`` or the error rate cannot be found; the message lists the keys seen.
    """
    get = {k[len(prefix) :]: v for k, v in metrics.items() if k.startswith(prefix)}
    out = {k: float(get[k]) for k in (*METRICS, *RATES, "threshold") if get.get(k) is not None}
    counts = {k: float(get[k]) for k in ("tn", "fp", "fn", "tp") if get.get(k) is not None}
    rows = float(get.get("rows") or sum(counts.values()))
    if rows and {"fp", "fn"} <= counts.keys():
        out.setdefault("error_rate", (counts["fp"] + counts["fn"]) / rows)
    if rows and {"tp", "fp"} <= counts.keys():
        out.setdefault("alarm_rate", (counts["tp"] + counts["fp"]) / rows)
    if rows and {"fp", "fn"} <= counts.keys():  # the cost rule bounds the baseline's own uncertainty
        out.update(rows=rows, **{k: counts[k] for k in ("tp", "fp", "fn") if k in counts})
    positives = get.get("positives")
    if positives is None and {"tp", "fn"} <= counts.keys():
        positives = counts["tp"] + counts["fn"]
    if rows and positives is not None:
        out.setdefault("failure_rate", float(positives) / rows)
    missing = [k for k in ("recall", "error_rate") if k not in out]
    if missing:
        raise ValueError(
            f"training baseline lacks {', '.join(prefix + k for k in missing)} "
            f"(give them, or tn/fp/fn/tp); keys seen: {sorted(metrics)}"
        )
    return out


def compare(production: Mapping[str, Any], training: Mapping[str, float]) -> dict[str, float | None]:
    """Production ÷ training for each metric (None when either side is missing or training is 0)."""
    out: dict[str, float | None] = {}
    for key in METRICS:
        prod, train = production.get(key), training.get(key)
        out[key] = None if prod is None or train is None or train == 0 else float(prod) / float(train)
    return out


def wilson_bound(successes: int, n: int, confidence: float, upper: bool) -> float | None:
    """One-sided Wilson score bound of a proportion (None for ``n == 0``).

    At ``confidence`` 0.5 the bound is the point estimate; higher levels widen it, so a rule
    based on the bound fires only when the evidence of a change is clear for this many rows.
    """
    if n <= 0:
        return None
    z = NormalDist().inv_cdf(confidence)
    p = successes / n
    centre = p + z * z / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    bound = (centre + margin if upper else centre - margin) / (1 + z * z / n)
    return min(max(bound, 0.0), 1.0)
