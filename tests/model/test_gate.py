"""The promotion rule as pure functions: which rows, the paired bootstrap and the decision (no MLflow)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from predmaint import schema
from predmaint.config import CostParams, PromotionParams
from predmaint.model.gate import compare, decide, gate_rows

COSTS = CostParams(missed_failure=10_000.0, false_alarm=1_000.0)
RULE = PromotionParams(
    confidence=0.95, recall_margin=0.1, bootstrap_samples=2000, minimums={"f1": 0.5}, recent_window_rows=100
)


def _frame(udi: range, failures: set[int]) -> pd.DataFrame:
    n = len(udi)
    frame = pd.DataFrame({schema.UDI: list(udi), schema.TYPE: ["L"] * n, schema.TARGET: [0] * n})
    for col in (*schema.NUMERIC_FEATURES, *schema.FAILURE_MODES):
        frame[col] = 0
    frame.loc[frame[schema.UDI].isin(failures), schema.TARGET] = 1
    return frame


def test_gate_rows_leave_out_every_fitted_and_tuned_row() -> None:
    candidates = _frame(range(1, 201), failures={150, 190, 30})
    # Champion fitted on 1-50 and tuned on 51-80; challenger fitted on 1-100, tuned (validation) on 101-140.
    rows = gate_rows(candidates, [(1, 80), (1, 140)])
    assert rows[schema.UDI].min() == 141 and rows[schema.UDI].max() == 200
    assert rows[schema.UDI].between(101, 140).sum() == 0  # the challenger's validation slice never leaks in
    with pytest.raises(ValueError, match="fitted or tuned"):
        gate_rows(candidates, [(1, 200)])
    with pytest.raises(ValueError, match="lack column"):
        gate_rows(candidates.drop(columns=[schema.TYPE]), [])


def _alarms(y: np.ndarray, caught: int, false_alarms: int) -> np.ndarray:
    flags = np.zeros(y.size, dtype=bool)
    flags[np.flatnonzero(y)[:caught]] = True
    flags[np.flatnonzero(~y)[:false_alarms]] = True
    return flags


def test_clearly_cheaper_challenger_is_promoted() -> None:
    y = np.zeros(1000, dtype=bool)
    y[::25] = True  # 40 failures
    champion = _alarms(y, caught=30, false_alarms=10)
    challenger = _alarms(y, caught=40, false_alarms=12)
    c = compare(y, challenger, champion, COSTS, RULE, seed=1)
    assert c.saving == pytest.approx((10 * 10_000 - 2 * 1_000) / 1000 * 1000)
    assert c.saving_lower > 0 and c.recall_diff == pytest.approx(0.25)
    promoted, reasons = decide(RULE, {"f1": 0.9}, c)
    assert promoted, reasons


def test_a_difference_within_noise_or_bought_with_recall_is_refused() -> None:
    y = np.zeros(1000, dtype=bool)
    y[::25] = True
    champion = _alarms(y, caught=30, false_alarms=10)
    noise = _alarms(y, caught=31, false_alarms=14)  # one more catch, four more alarms: not clearly cheaper
    c = compare(y, noise, champion, COSTS, RULE, seed=1)
    assert c.saving > 0 and c.saving_lower <= 0
    assert not decide(RULE, {"f1": 0.9}, c)[0]
    # Much cheaper by dropping 60 alarms, but it misses 8 more of 40 failures: recall not non-inferior.
    noisy = _alarms(y, caught=30, false_alarms=60)
    quiet = _alarms(y, caught=22, false_alarms=0)
    cheap_misses = CostParams(missed_failure=1_000.0, false_alarm=1_000.0)
    c = compare(y, quiet, noisy, cheap_misses, RULE, seed=1)
    assert c.saving_lower > 0 and c.recall_diff_lower <= -RULE.recall_margin
    promoted, reasons = decide(RULE, {"f1": 0.9}, c)
    assert not promoted and "non-inferiority" in reasons[-1]


def test_first_model_needs_only_the_minimums() -> None:
    assert decide(RULE, {"f1": 0.6}, None)[0]
    assert not decide(RULE, {"f1": 0.4}, None)[0]
    with pytest.raises(KeyError, match="unknown metric"):
        decide(PromotionParams(**{**RULE.model_dump(), "minimums": {"nope": 1.0}}), {"f1": 0.6}, None)


def test_the_verdict_reads_as_one_plain_sentence() -> None:
    from predmaint.model.gate import PromotionDecision

    y = np.zeros(1000, dtype=bool)
    y[::25] = True
    champion = _alarms(y, caught=30, false_alarms=10)

    def plain(challenger: np.ndarray, f1: float = 0.9) -> str:
        c = compare(y, challenger, champion, COSTS, RULE, seed=1)
        promoted, reasons = decide(RULE, {"f1": f1}, c)
        return PromotionDecision(promoted, "2", "1", tuple(reasons), "cost", 1000, comparison=c).plain

    better = plain(_alarms(y, caught=40, false_alarms=12))
    assert better.startswith("v2 replaces v1: cheaper on 1,000 labelled rows neither model saw (40 failures)")
    assert "could be chance" in plain(_alarms(y, caught=31, false_alarms=14))
    assert "not cheaper than v1" in plain(_alarms(y, caught=29, false_alarms=10))
    assert "its f1 0.3 is below the minimum 0.5" in plain(_alarms(y, caught=40, false_alarms=12), f1=0.3)
