"""The champion/challenger promotion rule, as pure functions of metrics and the gate data.

Both models are scored on the same rows: the challenger's pinned holdout (the chronological
validation slice it never fitted on) plus an optional labelled production window, minus any row
that either model was fitted on. :func:`decide` then applies ``promotion`` from params.yaml.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from predmaint import schema
from predmaint.config import PromotionParams
from predmaint.model.metrics import LOWER_IS_BETTER


@dataclass(frozen=True)
class PromotionDecision:
    """What the gate decided and why."""

    promoted: bool
    challenger: str
    champion: str | None
    reasons: tuple[str, ...]
    primary_metric: str
    rows: int
    challenger_metrics: dict[str, Any] = field(default_factory=dict)
    champion_metrics: dict[str, Any] | None = None

    @property
    def summary(self) -> str:
        """One line for logs and tags."""
        verdict = "PROMOTE" if self.promoted else "REFUSE"
        return f"{verdict} v{self.challenger} over {self._champ}: " + "; ".join(self.reasons)

    @property
    def _champ(self) -> str:
        return f"v{self.champion}" if self.champion else "no champion"


def relative_gain(metric: str, challenger: float, champion: float) -> float:
    """Improvement of the challenger over the champion as a fraction of the champion's value."""
    better = champion - challenger if metric in LOWER_IS_BETTER else challenger - champion
    if champion == 0:
        return 0.0 if better == 0 else (float("inf") if better > 0 else float("-inf"))
    return better / abs(champion)


def decide(
    rule: PromotionParams, challenger: dict[str, Any], champion: dict[str, Any] | None
) -> tuple[bool, list[str]]:
    """Apply the promotion rule.

    Args:
        rule: The ``promotion`` section of params.yaml.
        challenger: Challenger metrics on the gate data (from :func:`predmaint.model.metrics.metrics`).
        champion: Champion metrics on the same rows, or None when there is no champion yet.

    Returns:
        Whether to promote, and one reason per check (passed or failed).

    Raises:
        KeyError: ``primary_metric`` or a minimum names a metric the evaluation does not produce.
    """
    ok = True
    reasons: list[str] = []
    for name, minimum in sorted(rule.minimums.items()):
        if name not in challenger:
            raise KeyError(f"promotion.minimums names unknown metric {name!r}")
        value = challenger[name]
        passed = value is not None and value >= minimum
        ok &= passed
        reasons.append(f"{name} {_fmt(value)} {'>=' if passed else '<'} minimum {minimum:g}")
    if champion is None:
        reasons.append("no champion yet: minimums only")
        return ok, reasons
    metric = rule.primary_metric
    if metric not in challenger:
        raise KeyError(f"promotion.primary_metric names unknown metric {metric!r}")
    gain = relative_gain(metric, challenger[metric], champion[metric])
    passed = gain >= rule.min_gain
    ok &= passed
    reasons.append(
        f"{metric} {_fmt(challenger[metric])} vs {_fmt(champion[metric])}: gain {gain:+.1%} "
        f"{'>=' if passed else '<'} min_gain {rule.min_gain:.1%}"
    )
    drop = champion["recall"] - challenger["recall"]
    passed = drop <= rule.recall_tolerance
    ok &= passed
    reasons.append(
        f"recall {challenger['recall']:.3f} vs {champion['recall']:.3f}: drop {drop:+.3f} "
        f"{'<=' if passed else '>'} tolerance {rule.recall_tolerance:g}"
    )
    return ok, reasons


def _fmt(value: Any) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def gate_rows(
    holdout: pd.DataFrame, window: pd.DataFrame | None, fitted_udi_ranges: Iterable[tuple[int, int]]
) -> pd.DataFrame:
    """The rows both models are scored on: holdout + window, minus rows inside any fitted UDI range.

    Raises:
        ValueError: Nothing is left, or the window lacks the AI4I columns.
    """
    frames = [holdout]
    if window is not None:
        missing = [c for c in (schema.UDI, *schema.FEATURE_COLUMNS, *schema.LABEL_COLUMNS) if c not in window]
        if missing:
            raise ValueError(f"the production window lacks column(s): {', '.join(missing)}")
        frames.append(window)
    rows = pd.concat(frames, ignore_index=True).drop_duplicates(subset=[schema.UDI], keep="last")
    keep = pd.Series(True, index=rows.index)
    for low, high in fitted_udi_ranges:
        keep &= ~rows[schema.UDI].between(low, high)
    rows = rows[keep].reset_index(drop=True)
    if rows.empty or rows[schema.TARGET].nunique() < 2:
        raise ValueError("the gate has no rows with both classes that neither model was fitted on")
    return rows
