"""The champion/challenger promotion rule, as pure functions of the gate rows and both models' alarms.

**Which rows.** Both models are judged on labelled rows that neither was fitted on *and* neither
had its threshold or calibration tuned on: every row whose ``UDI`` lies in either model's
``fit_udi_range`` or ``holdout_udi_range`` (the validation slice that chose its threshold and
calibration) is removed (:func:`gate_rows`). The candidates are the newest labelled production
window held out of the challenger's training (retraining flow) or, without one, the labelled
production stream.

**How.** Each model decides at its own registered threshold (the decision it would serve).
:func:`compare` draws a paired bootstrap of the rows: the challenger must be cheaper with
probability ≥ ``promotion.confidence`` (the one-sided lower bound of the cost saving per 1,000
cycles above 0) and non-inferior on recall: the same lower bound of recall(challenger) −
recall(champion) above −``promotion.recall_margin``. The paired draw keeps the failures both models
catch from adding noise, so a handful of failures is judged by its uncertainty, not by a fixed drop.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from predmaint import schema
from predmaint.config import CostParams, PromotionParams
from predmaint.model.metrics import PER_CYCLES


@dataclass(frozen=True)
class Comparison:
    """The paired bootstrap of one gate: point values and intervals at ``promotion.confidence``."""

    rows: int
    failures: int
    cost: dict[str, float]
    cost_interval: dict[str, tuple[float, float]]
    recall: dict[str, float]
    recall_interval: dict[str, tuple[float, float]]
    saving: float
    saving_lower: float
    recall_diff: float
    recall_diff_lower: float
    p_cheaper: float


@dataclass(frozen=True)
class PromotionDecision:
    """What the gate decided, on which rows, and why."""

    promoted: bool
    challenger: str
    champion: str | None
    reasons: tuple[str, ...]
    primary_metric: str
    rows: int
    rows_source: str = ""
    udi_range: tuple[int, int] | None = None
    challenger_metrics: dict[str, Any] = field(default_factory=dict)
    champion_metrics: dict[str, Any] | None = None
    comparison: Comparison | None = None

    @property
    def summary(self) -> str:
        """One line for logs and tags."""
        verdict = "PROMOTE" if self.promoted else "REFUSE"
        return f"{verdict} v{self.challenger} over {self._champ}: " + "; ".join(self.reasons)

    @property
    def plain(self) -> str:
        """The verdict in one sentence for people (the demo's closing summary), from the deciding check."""
        c, new, old = self.comparison, f"v{self.challenger}", self._champ
        low = next((r for r in self.reasons if "< minimum" in r), None)
        if c is None:
            return f"{new} {'promoted' if self.promoted else 'not promoted'} ({old}): " + (low or "minimums met")
        unseen = f"{c.rows:,} labelled rows neither model saw ({c.failures} failures)"
        costs = f"{c.cost['challenger']:,.0f} vs {c.cost['champion']:,.0f} per 1,000 cycles"
        if self.promoted:
            bound = f"saving at least {c.saving_lower:,.0f} at the gate's confidence"
            return f"{new} replaces {old}: cheaper on {unseen}, {costs}, {bound}"
        if low:
            return f"{new} kept out: on {unseen} its {low.replace(' < ', ' is below the ')}"
        if c.saving <= 0:
            return f"{new} kept out: not cheaper than {old} on {unseen} ({costs})"
        if c.saving_lower <= 0:
            return (
                f"{new} kept out: {c.saving:,.0f} cheaper per 1,000 cycles on {unseen}, but with so few failures "
                f"that could be chance (bound {c.saving_lower:+,.0f})"
            )
        return (
            f"{new} kept out: it may catch fewer failures than {old} on {unseen} "
            f"(recall {c.recall['challenger']:.2f} vs {c.recall['champion']:.2f})"
        )

    @property
    def _champ(self) -> str:
        return f"v{self.champion}" if self.champion else "no champion"

    @property
    def winner(self) -> str | None:
        """The version that won (the challenger when promoted, else the champion)."""
        return self.challenger if self.promoted else self.champion

    @property
    def loser(self) -> str | None:
        """The version that lost (the champion when the challenger is promoted, else the challenger)."""
        return self.champion if self.promoted else self.challenger


def row_costs(y_true: npt.ArrayLike, flagged: npt.ArrayLike, costs: CostParams) -> npt.NDArray[np.float64]:
    """The cost of each row's decision: a missed failure, a false alarm or nothing."""
    y = np.asarray(y_true).astype(bool)
    f = np.asarray(flagged).astype(bool)
    return np.where(y & ~f, costs.missed_failure, 0.0) + np.where(~y & f, costs.false_alarm, 0.0)


def resample_sums(
    columns: dict[str, npt.NDArray[np.float64]], samples: int, rng: np.random.Generator, chunk: int = 100
) -> dict[str, npt.NDArray[np.float64]]:
    """Per bootstrap resample of the rows (drawn with replacement, the same rows for every column), the column sums.

    Resamples are drawn ``chunk`` at a time, so memory stays ``chunk`` × rows whatever ``samples`` is.
    """
    n = len(next(iter(columns.values())))
    parts: dict[str, list[npt.NDArray[np.float64]]] = {k: [] for k in columns}
    for start in range(0, samples, chunk):
        idx = rng.integers(0, n, size=(min(chunk, samples - start), n))
        for name, values in columns.items():
            parts[name].append(values[idx].sum(axis=1))
    return {k: np.concatenate(v) for k, v in parts.items()}


def compare(
    y_true: npt.ArrayLike,
    challenger_flags: npt.ArrayLike,
    champion_flags: npt.ArrayLike,
    costs: CostParams,
    rule: PromotionParams,
    seed: int,
) -> Comparison:
    """Paired bootstrap of cost per 1,000 cycles and recall of two models on the same rows.

    Args:
        y_true: ``Machine failure`` of the gate rows.
        challenger_flags: The challenger's alarms at its registered threshold.
        champion_flags: The champion's alarms at its registered threshold.
        costs: The ``costs`` section.
        rule: The ``promotion`` section (``confidence``, ``bootstrap_samples``).
        seed: Seed of the resampling (``project.seed``).
    """
    y = np.asarray(y_true).astype(bool)
    flags = {"challenger": np.asarray(challenger_flags, bool), "champion": np.asarray(champion_flags, bool)}
    cost = {k: row_costs(y, f, costs) * PER_CYCLES for k, f in flags.items()}
    caught = {k: (f & y).astype(float) for k, f in flags.items()}
    sums = resample_sums(
        {"y": y.astype(float), **{f"cost_{k}": v for k, v in cost.items()}, **caught},
        rule.bootstrap_samples,
        np.random.default_rng(seed),
    )
    boot_cost = {k: sums[f"cost_{k}"] / y.size for k in cost}
    pos = sums["y"]
    with np.errstate(invalid="ignore", divide="ignore"):
        boot_recall = {k: np.where(pos > 0, sums[k] / pos, np.nan) for k in caught}
    alpha = 1.0 - rule.confidence
    saving = boot_cost["champion"] - boot_cost["challenger"]
    recall_diff = boot_recall["challenger"] - boot_recall["champion"]
    failures = int(y.sum())

    def interval(values: npt.NDArray[np.float64]) -> tuple[float, float]:
        lo, hi = np.nanquantile(values, [alpha / 2, 1 - alpha / 2])
        return float(lo), float(hi)

    return Comparison(
        rows=int(y.size),
        failures=failures,
        cost={k: float(v.mean()) for k, v in cost.items()},
        cost_interval={k: interval(v) for k, v in boot_cost.items()},
        recall={k: float(v.sum() / failures) if failures else float("nan") for k, v in caught.items()},
        recall_interval={k: interval(v) for k, v in boot_recall.items()},
        saving=float(cost["champion"].mean() - cost["challenger"].mean()),
        saving_lower=float(np.quantile(saving, alpha)),
        recall_diff=float((caught["challenger"].sum() - caught["champion"].sum()) / failures) if failures else 0.0,
        recall_diff_lower=float(np.nanquantile(recall_diff, alpha)) if failures else 0.0,
        p_cheaper=float(np.mean(saving > 0)),
    )


def check_minimums(rule: PromotionParams, metrics: dict[str, Any]) -> tuple[bool, list[str]]:
    """The challenger's own minimums (``promotion.minimums``) on the gate rows.

    Raises:
        KeyError: A minimum names a metric the evaluation does not produce.
    """
    ok, reasons = True, []
    for name, minimum in sorted(rule.minimums.items()):
        if name not in metrics:
            raise KeyError(f"promotion.minimums names unknown metric {name!r}")
        value = metrics[name]
        passed = value is not None and value >= minimum
        ok &= passed
        reasons.append(f"{name} {_fmt(value)} {'>=' if passed else '<'} minimum {minimum:g}")
    return ok, reasons


def decide(rule: PromotionParams, challenger: dict[str, Any], comparison: Comparison | None) -> tuple[bool, list[str]]:
    """Apply the promotion rule.

    Args:
        rule: The ``promotion`` section of params.yaml.
        challenger: Challenger metrics on the gate rows (for the minimums).
        comparison: The paired bootstrap against the champion, or None when there is no champion yet.

    Returns:
        Whether to promote, and one reason per check (passed or failed).
    """
    ok, reasons = check_minimums(rule, challenger)
    if comparison is None:
        reasons.append("no champion yet: minimums only")
        return ok, reasons
    c, level = comparison, f"{rule.confidence:.0%}"
    cheaper = c.saving_lower > 0
    reasons.append(
        f"cost/1000 {c.cost['challenger']:,.0f} vs {c.cost['champion']:,.0f}: saving {c.saving:+,.0f}, "
        f"{level} lower bound {c.saving_lower:+,.0f} {'>' if cheaper else '<='} 0 (P(cheaper) {c.p_cheaper:.2f})"
    )
    non_inferior = c.recall_diff_lower > -rule.recall_margin
    reasons.append(
        f"recall {c.recall['challenger']:.3f} vs {c.recall['champion']:.3f} on {c.failures} failures: "
        f"difference {c.recall_diff:+.3f}, {level} lower bound {c.recall_diff_lower:+.3f} "
        f"{'>' if non_inferior else '<='} -{rule.recall_margin:g} (non-inferiority margin)"
    )
    return ok and cheaper and non_inferior, reasons


def _fmt(value: Any) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def gate_rows(candidates: pd.DataFrame, used_udi_ranges: Iterable[tuple[int, int]]) -> pd.DataFrame:
    """The rows both models are judged on: the candidates minus every row either model fitted or tuned on.

    Args:
        candidates: Labelled AI4I rows with ``UDI``.
        used_udi_ranges: Per model, the UDI range from its first fitted row to its last validation row.

    Raises:
        ValueError: The candidates lack the AI4I columns, or no row with both classes is left.
    """
    missing = [c for c in (schema.UDI, *schema.FEATURE_COLUMNS, *schema.LABEL_COLUMNS) if c not in candidates]
    if missing:
        raise ValueError(f"the gate rows lack column(s): {', '.join(missing)}")
    rows = candidates.drop_duplicates(subset=[schema.UDI], keep="last")
    keep = pd.Series(True, index=rows.index)
    for low, high in used_udi_ranges:
        keep &= ~rows[schema.UDI].between(low, high)
    rows = rows[keep].reset_index(drop=True)
    if rows.empty or rows[schema.TARGET].nunique() < 2:
        raise ValueError("the gate has no rows with both classes that neither model was fitted or tuned on")
    return rows
