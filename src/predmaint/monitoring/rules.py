"""The trigger's rules: each reads one window's summary and says whether it fires, and why.

Every rule that judges a proportion does it on a one-sided Wilson bound at
``monitoring.performance_confidence`` (0.5 = the point estimate), so a rule fires only when the
window's rows are clear evidence of a change, not when a handful of events happen to cluster.
Baselines are the champion's: its validation metrics and its training data (the reference).

- ``drift``: Evidently's drift share ≥ ``drift_share_threshold`` for ``consecutive_windows`` windows.
- ``recall``: recall's upper bound below the training recall − ``recall_drop``.
- ``error_rate``: the error rate's lower bound above ``error_rate_ratio`` × training.
- ``cost``: the expected cost per 1,000 cycles, bounded from below as
  ``missed_failure`` × lower bound of the miss rate + ``false_alarm`` × lower bound of the false-alarm
  rate (a lower bound of the sum), above ``cost_ratio`` × the training cost (its upper bound, the
  same way, when the baseline carries its counts).
- ``alarm_rate`` (prediction drift, needs no labels): the share of readings alarmed, lower bound
  above ``alarm_rate_ratio`` × the training share.
- ``failure_rate`` (label drift): the share of labelled readings that failed, lower bound above
  ``failure_rate_ratio`` × the training share.
- ``physics_tail``: for a quantity in ``tail_quantities``, the share of readings beyond the
  reference's ``tail_quantile`` (lower bound) above ``tail_ratio`` × the reference's own share.

The champion's baseline comes from its validation slice, where its threshold was chosen: when it
carries its counts, each rule compares with the baseline's own bound in the champion's favour
(:func:`training_value`), so a lucky slice does not turn ordinary windows into retrains.

Only the rules listed in ``monitoring.rules`` can fire; the others are still reported. The four
rules on rare counts (cost, alarm rate, failure rate, physics tails) judge the counts pooled over
``monitoring.evidence_windows`` recent windows (:mod:`predmaint.monitoring.evidence`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from predmaint.config import MonitoringParams
from predmaint.monitoring.performance import wilson_bound
from predmaint.monitoring.summary import MonitoringSummary

RULES: tuple[str, ...] = ("drift", "recall", "error_rate", "cost", "alarm_rate", "failure_rate", "physics_tail")
LABEL_RULES: frozenset[str] = frozenset({"recall", "error_rate", "cost", "failure_rate"})


@dataclass(frozen=True)
class Verdict:
    """One rule on one window: whether it is met and the sentence that says why."""

    rule: str
    met: bool
    reason: str


def drift(summary: MonitoringSummary, policy: MonitoringParams, streak: int) -> Verdict:
    """Feature drift for ``consecutive_windows`` windows in a row (``streak`` counts this one)."""
    drifted = ", ".join(
        f"{c} {v['score']:.3g} ≥ {v['threshold']:.3g}" for c, v in summary.columns.items() if v.get("drifted")
    )
    share = f"drift share {summary.drift_share:.2f} (threshold {policy.drift_share_threshold:.2f})"
    if streak >= policy.consecutive_windows:
        return Verdict("drift", True, f"drift: {share} for {streak} consecutive window(s); drifted: {drifted}")
    if streak:
        return Verdict(
            "drift", False, f"{share}, {streak} of {policy.consecutive_windows} consecutive windows; drifted: {drifted}"
        )
    return Verdict("drift", False, f"no drift: {share}")


COUNTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "recall": (("tp",), ("tp", "fn")),
    "error_rate": (("fn", "fp"), ("rows",)),
    "alarm_rate": (("tp", "fp"), ("rows",)),
    "failure_rate": (("tp", "fn"), ("rows",)),
}
"""Per training metric: the baseline counts that make its numerator and its denominator."""


def training_value(train: dict[str, float], metric: str, conf: float, upper: bool) -> tuple[float | None, str]:
    """The champion's baseline for a rule, and how to say it.

    The baseline is measured on the champion's validation slice (a few thousand rows, where its
    threshold was chosen): when the baseline carries the counts, a rule compares with its Wilson
    bound in the champion's favour (``upper`` for rates that must not rise, lower for recall), so a
    lucky validation slice does not make ordinary windows look worse than training.
    """
    value = train.get(metric)
    num, den = COUNTS[metric]
    if value is None or not all(k in train for k in (*num, *den)):
        return value, f"training {value:.3f}" if value is not None else "training"
    n, k = int(sum(train[c] for c in den)), int(sum(train[c] for c in num))
    bound = wilson_bound(k, n, conf, upper)
    if bound is None:
        return value, f"training {value:.3f}"
    return bound, f"training's {'upper' if upper else 'lower'} bound {bound:.3f} ({k}/{n} = {value:.3f})"


def recall(summary: MonitoringSummary, policy: MonitoringParams) -> Verdict:
    """Recall clearly below the training recall (its lower bound when the baseline has counts)."""
    prod = summary.production
    positives, tp = int(prod["positives"] or 0), int(prod["tp"] or 0)
    upper = wilson_bound(tp, positives, policy.performance_confidence, upper=True)
    train, said = training_value(summary.training, "recall", policy.performance_confidence, upper=False)
    if upper is None or train is None:
        return Verdict("recall", False, "recall not judged: no labelled failures in the window")
    floor = train - policy.recall_drop
    if upper < floor:
        return Verdict(
            "recall",
            True,
            f"recall: {tp}/{positives} = {prod['recall']:.2f}, upper bound {upper:.2f} < {said} "
            f"- {policy.recall_drop:.2f}",
        )
    return Verdict("recall", False, f"recall ok: {tp}/{positives}, upper bound {upper:.2f} ≥ {floor:.2f}")


def _rate_rule(
    name: str, what: str, count: int, rows: int, training: dict[str, float], ratio: float, conf: float
) -> Verdict:
    baseline, said = training_value(training, name, conf, upper=True)
    if baseline is None:
        return Verdict(name, False, f"{what} not judged: the champion's baseline lacks it")
    lower = wilson_bound(count, rows, conf, upper=False) or 0.0
    limit = ratio * baseline
    sign = ">" if lower > limit else "≤"
    share = f"{what} {count}/{rows} = {count / rows:.3f}"
    text = f"{share}, lower bound {lower:.3f} {sign} {ratio:g} × {said}"
    return Verdict(name, lower > limit, text if lower > limit else f"{what} ok: {text}")


def error_rate(summary: MonitoringSummary, policy: MonitoringParams) -> Verdict:
    """The error rate clearly above ``error_rate_ratio`` × training."""
    prod = summary.production
    return _rate_rule(
        "error_rate",
        "error rate",
        int(prod["errors"]),
        summary.labelled_rows,
        summary.training,
        policy.error_rate_ratio,
        policy.performance_confidence,
    )


def _cost_bound(costs: dict[str, float], fn: int, fp: int, rows: int, conf: float, upper: bool) -> float:
    """Expected cost per 1,000 cycles from one-sided Wilson bounds of the miss and false-alarm rates."""
    miss = wilson_bound(fn, rows, conf, upper) or 0.0
    false_alarm = wilson_bound(fp, rows, conf, upper) or 0.0
    return 1000 * (costs["missed_failure"] * miss + costs["false_alarm"] * false_alarm)


def cost(summary: MonitoringSummary, policy: MonitoringParams) -> Verdict:
    """The expected cost per 1,000 cycles clearly above ``cost_ratio`` × training (costs from the summary).

    The training cost is the champion's on its validation slice, where its threshold was chosen by
    minimum cost: an optimistic figure from a few thousand rows. When its counts are known, the
    rule compares the window's lower bound with ``cost_ratio`` × the *upper* bound of the training
    cost, so a lucky validation slice does not make ordinary days look costly.
    """
    prod, n, conf = summary.production, summary.labelled_rows, policy.performance_confidence
    train = summary.training
    baseline = train.get("expected_cost_per_1000")
    if baseline is None or not summary.costs:
        return Verdict("cost", False, "cost not judged: no training cost or unit costs in the summary")
    fn, fp = int(prod["fn"]), int(prod["fp"])
    lower = _cost_bound(summary.costs, fn, fp, n, conf, upper=False)
    training = f"training {baseline:,.0f}"
    if {"rows", "fn", "fp"} <= train.keys() and train["rows"]:
        baseline = _cost_bound(summary.costs, int(train["fn"]), int(train["fp"]), int(train["rows"]), conf, upper=True)
        training = f"training's upper bound {baseline:,.0f} ({training} on {int(train['rows']):,} validation rows)"
    limit = policy.cost_ratio * baseline
    text = (
        f"cost per 1,000 cycles {prod['expected_cost_per_1000']:,.0f} ({fn} missed, {fp} false alarms in {n}), "
        f"lower bound {lower:,.0f} {'>' if lower > limit else '≤'} {policy.cost_ratio:g} × {training}"
    )
    return Verdict("cost", lower > limit, f"cost: {text}" if lower > limit else f"cost ok: {text}")


def alarm_rate(summary: MonitoringSummary, policy: MonitoringParams) -> Verdict:
    """Prediction drift: the share of readings alarmed clearly above ``alarm_rate_ratio`` × training."""
    if summary.alarms is None:
        return Verdict("alarm_rate", False, "alarm rate not judged: the window has no served decisions")
    return _rate_rule(
        "alarm_rate",
        "alarm rate",
        summary.alarms,
        summary.rows,
        summary.training,
        policy.alarm_rate_ratio,
        policy.performance_confidence,
    )


def failure_rate(summary: MonitoringSummary, policy: MonitoringParams) -> Verdict:
    """Label drift: the share of labelled readings that failed clearly above ``failure_rate_ratio`` × training."""
    return _rate_rule(
        "failure_rate",
        "failure rate",
        int(summary.production["positives"] or 0),
        summary.labelled_rows,
        summary.training,
        policy.failure_rate_ratio,
        policy.performance_confidence,
    )


def physics_tail(summary: MonitoringSummary, policy: MonitoringParams) -> Verdict:
    """A physics quantity clearly more often beyond the reference's tail than the reference itself."""
    if not summary.tails:
        return Verdict("physics_tail", False, "physics tails not measured")
    parts, fired = [], []
    for name, t in summary.tails.items():
        lower = wilson_bound(t["beyond"], t["rows"], policy.performance_confidence, upper=False) or 0.0
        limits = " / ".join(f"{k} {t[k]:.4g}" for k in ("low", "high") if t[k] is not None)
        part = f"{name} beyond {limits}: {t['beyond']}/{t['rows']}, lower bound {lower:.3f}"
        if lower > policy.tail_ratio * t["expected_share"]:
            fired.append(f"{part} > {policy.tail_ratio:g} × reference {t['expected_share']:.3f}")
        else:
            parts.append(part)
    if fired:
        return Verdict("physics_tail", True, "physics tail: " + "; ".join(fired))
    return Verdict("physics_tail", False, "physics tails ok: " + "; ".join(parts))


def evaluate(
    summary: MonitoringSummary, policy: MonitoringParams, streak: int, pooled: MonitoringSummary | None = None
) -> list[Verdict]:
    """Every rule's verdict on the window; label rules only with ``min_labelled_rows`` labels.

    Args:
        summary: The window's monitoring summary.
        policy: The ``monitoring`` section of params.yaml.
        streak: Consecutive drifted windows, this one included.
        pooled: The counts pooled over recent windows (:func:`predmaint.monitoring.evidence.pooled`)
            for the rules on rare counts (cost, alarm rate, failure rate, physics tails); default
            this window alone.
    """
    pool = pooled or summary
    scope = "" if pool is summary else f"[{pool.window_id}] "

    def on_pool(verdict: Verdict) -> Verdict:
        return dataclasses.replace(verdict, reason=scope + verdict.reason)

    verdicts = [drift(summary, policy, streak), on_pool(alarm_rate(pool, policy)), on_pool(physics_tail(pool, policy))]
    if summary.labelled_rows < policy.min_labelled_rows or summary.production.get("errors") is None:
        need = policy.min_labelled_rows
        reason = f"performance not judged: {summary.labelled_rows} labelled rows (needs ≥ {need})"
        return [*verdicts, Verdict("performance", False, reason)]
    return [
        *verdicts,
        recall(summary, policy),
        error_rate(summary, policy),
        on_pool(cost(pool, policy)),
        on_pool(failure_rate(pool, policy)),
    ]
