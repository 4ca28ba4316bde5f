"""The cost-following trigger rules: each fires on a crafted window and not on a clean one (pure)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from predmaint import schema
from predmaint.config import MonitoringParams, Params
from predmaint.data.simulate import simulate
from predmaint.monitoring import rules
from predmaint.monitoring.performance import baseline_from_metrics
from predmaint.monitoring.summary import MonitoringSummary
from predmaint.monitoring.tails import tail_counts, tail_limits
from predmaint.monitoring.trigger import decide, decide_and_record, read_decisions
from tests.model.test_monitoring_trigger import window

TRAINING_RATES = {"alarm_rate": 0.02, "failure_rate": 0.02}
CLEAN_TAILS = {
    "tool_wear_min": {"side": "upper", "low": None, "high": 223.0, "expected_share": 0.01, "rows": 500, "beyond": 5}
}


@pytest.fixture
def policy(sim_params: Params) -> MonitoringParams:
    return sim_params.monitoring.model_copy(
        update={
            "rules": ["drift", "recall", "error_rate", "cost", "alarm_rate", "failure_rate", "physics_tail"],
            "performance_confidence": 0.95,
            "min_labelled_rows": 200,
            "min_new_labelled_rows": 300,
            "evidence_windows": 1,
            "cost_ratio": 1.25,
            "alarm_rate_ratio": 2.0,
            "failure_rate_ratio": 2.0,
            "tail_ratio": 3.0,
        }
    )


def crafted(wid: str = "w", *, fn: int = 1, fp: int = 1, positives: int = 10, alarms: int = 10, beyond: int = 5,
            reference: str = "v1") -> MonitoringSummary:  # fmt: skip
    """A 500-row, fully labelled window with chosen misses, false alarms, failures, alarms and tail count."""
    s = window(wid, positives=positives, tp=positives - fn, errors=fn + fp)
    prod: dict[str, Any] = dict(s.production, fn=fn, fp=fp)
    prod["expected_cost_per_1000"] = 1000 * (10_000 * fn + 1_000 * fp) / 500
    tails = {"tool_wear_min": {**CLEAN_TAILS["tool_wear_min"], "beyond": beyond}}
    return dataclasses.replace(
        s,
        production=prod,
        training={**s.training, **TRAINING_RATES},
        alarms=alarms,
        alarm_rate=alarms / 500,
        tails=tails,
        costs={"missed_failure": 10_000.0, "false_alarm": 1_000.0},
        reference={"version_id": reference},
    )


def met(summary: MonitoringSummary, policy: MonitoringParams, history: pd.DataFrame | None = None) -> list[str]:
    return decide(summary, pd.DataFrame() if history is None else history, policy, new_labelled_rows=500).rules_met


def test_the_clean_window_meets_no_rule(policy: MonitoringParams) -> None:
    assert met(crafted(), policy) == []  # cost 22,000 vs 40,000; 2 % alarms and failures; 1 % in the tail


@pytest.mark.parametrize(
    ("rule", "change", "phrase"),
    [
        ("cost", {"fn": 8, "positives": 12}, "cost: cost per 1,000 cycles 162,000"),  # 8 misses in 500
        ("alarm_rate", {"alarms": 60}, "alarm rate 60/500"),  # 12 % of readings alarmed vs 2 %
        ("failure_rate", {"positives": 60, "alarms": 10}, "failure rate 60/500"),  # 12 % failed vs 2 %
        ("physics_tail", {"beyond": 40}, "physics tail: tool_wear_min beyond high 223: 40/500"),  # 8 % vs 1 %
    ],
)
def test_each_rule_fires_on_its_crafted_window(
    policy: MonitoringParams, rule: str, change: dict[str, int], phrase: str
) -> None:
    decision = decide(crafted(**change), pd.DataFrame(), policy, new_labelled_rows=500)
    assert rule in decision.rules_met and decision.fire
    assert any(
        r.startswith(phrase.split(":", maxsplit=1)[0]) and phrase.split(": ", 1)[-1] in r for r in decision.reasons
    ), decision.reasons


def test_rules_need_clear_evidence(policy: MonitoringParams) -> None:
    assert "cost" not in met(crafted(fn=3, positives=10), policy)  # 62,000 on 500 rows: lower bound < 50,000
    assert "physics_tail" not in met(crafted(beyond=12), policy)  # 2.4 %: lower bound 1.5 % < 3 × 1 %
    lenient = policy.model_copy(update={"performance_confidence": 0.5})
    assert "physics_tail" in met(crafted(beyond=16), lenient)  # the point estimate 3.2 % > 3 %


def test_the_cost_rule_bounds_a_lucky_training_cost(policy: MonitoringParams) -> None:
    # The simulator demo's v1: 28,667 per 1,000 on its 2,093 validation rows (5 missed, 10 false alarms),
    # where its threshold was chosen by minimum cost; five ordinary days cost 72,000 (18 missed in 2,500).
    lucky = baseline_from_metrics({"recall": 0.89, "tn": 2038, "fp": 10, "fn": 5, "tp": 40})
    lucky["expected_cost_per_1000"] = 28_667.0
    assert (lucky["rows"], lucky["fn"], lucky["fp"]) == (2093, 5, 10)

    def pooled(fn: int) -> MonitoringSummary:
        s = crafted(fn=fn, fp=0, positives=60)
        prod = {**s.production, "expected_cost_per_1000": 1000 * 10_000 * fn / 2500}
        return dataclasses.replace(s, rows=2500, labelled_rows=2500, production=prod, training=lucky)

    point = {k: v for k, v in lucky.items() if k not in ("rows", "fn", "fp")}
    assert rules.cost(dataclasses.replace(pooled(18), training=point), policy).met  # the old, exact baseline
    ordinary = rules.cost(pooled(18), policy)
    assert not ordinary.met, ordinary.reason
    assert "≤ 1.25 × training's upper bound 56,9" in ordinary.reason and "on 2,093 validation rows" in ordinary.reason
    assert rules.cost(pooled(40), policy).met  # 160,000 per 1,000: clearly above


def test_the_performance_rules_bound_a_lucky_training_baseline(policy: MonitoringParams) -> None:
    # v1 caught 41 of 46 validation failures (0.89) and erred on 15 of 2,093 rows. A day catching 5 of 10
    # (upper bound 0.73) is below 0.89 - 0.15, but not below the baseline's lower bound 0.79 - 0.15.
    lucky = baseline_from_metrics({"recall": 41 / 46, "tn": 2037, "fp": 10, "fn": 5, "tp": 41})
    exact = {k: v for k, v in lucky.items() if k not in ("rows", "tp", "fn", "fp")}
    day = crafted(fn=5, fp=1, positives=10)
    assert rules.recall(dataclasses.replace(day, training=exact), policy).met
    verdict = rules.recall(dataclasses.replace(day, training=lucky), policy)
    assert not verdict.met and "upper bound 0.73 ≥ 0.64" in verdict.reason, verdict.reason
    assert rules.recall(dataclasses.replace(crafted(fn=8, positives=10), training=lucky), policy).met
    # 12 errors in 500 (lower bound 0.015): above 2 × 0.007, not above 2 × the baseline's upper bound 0.011
    errors = crafted(fn=4, fp=8, positives=10)
    assert rules.error_rate(dataclasses.replace(errors, training=exact), policy).met
    verdict = rules.error_rate(dataclasses.replace(errors, training=lucky), policy)
    assert not verdict.met and "training's upper bound 0.011 (15/2093 = 0.007)" in verdict.reason, verdict.reason


def test_a_rule_not_listed_is_reported_but_does_not_fire(policy: MonitoringParams) -> None:
    only_drift = policy.model_copy(update={"rules": ["drift"]})
    decision = decide(crafted(alarms=60), pd.DataFrame(), only_drift, new_labelled_rows=500)
    assert not decision.fire and decision.rules_met == [] and decision.signals_met == ["alarm_rate"]
    assert any(r.startswith("(not a trigger rule) alarm rate 60/500") for r in decision.reasons)


def test_evidence_pools_recent_windows_on_the_same_reference(policy: MonitoringParams, tmp_path: Path) -> None:
    pooling = policy.model_copy(update={"evidence_windows": 3, "cooldown_windows": 0})
    log = tmp_path / "decisions.csv"
    days = [crafted(f"d{i}", fn=4, positives=10) for i in range(3)]  # 4 misses a day: none alone is clear
    fired = [decide_and_record(d, pooling, log).rules_met for d in days]
    assert fired[:2] == [[], []] and fired[2] == ["cost"]
    history = read_decisions(log)
    assert history["fn"].tolist() == [4, 4, 4]
    reason = next(r for r in decide(days[2], history.iloc[:2], pooling).reasons if "cost" in r)
    assert reason.startswith("[d2 and 2 earlier window(s)] cost: cost per 1,000 cycles 82,000 (12 missed")
    other = crafted("d3", fn=4, positives=10, reference="v2")  # a promotion moved the reference
    assert "cost" not in decide(other, history, pooling).rules_met


def test_baseline_gives_alarm_and_failure_rates() -> None:
    b = baseline_from_metrics({"recall": 0.8, "tn": 90, "fp": 6, "fn": 2, "tp": 2, "positives": 4})
    assert b["alarm_rate"] == pytest.approx(0.08) and b["failure_rate"] == pytest.approx(0.04)


def test_tails_count_readings_beyond_the_reference(sim_params: Params) -> None:
    reference = simulate(sim_params.simulator, sim_params.physics, rows=7000, seed=1)
    limits = tail_limits(reference, {"tool_wear_min": "upper", "power_w": "both"}, 0.99, sim_params.physics)
    wear = limits["tool_wear_min"]
    assert wear["low"] is None and wear["high"] == pytest.approx(reference[schema.TOOL_WEAR].quantile(0.99))
    assert 0 < wear["expected_share"] <= 0.01 and limits["power_w"]["expected_share"] <= 0.02
    worn = reference.head(500).assign(**{schema.TOOL_WEAR: np.where(np.arange(500) < 50, 260, 10)})
    counted = tail_counts(worn, limits, sim_params.physics)
    assert counted["tool_wear_min"]["beyond"] == 50 and counted["tool_wear_min"]["rows"] == 500


def test_an_older_decisions_file_is_upgraded_in_place(policy: MonitoringParams, tmp_path: Path) -> None:
    log = tmp_path / "decisions.csv"
    log.write_text("window_id,labelled_rows,drift_share,fire\nold,500,0.5,yes\n")
    decide_and_record(crafted("new"), policy, log)
    history = read_decisions(log)
    assert history["window_id"].tolist() == ["old", "new"] and history.loc[0, "fire"] == "yes"
    assert history.loc[0, "fn"] == "" and str(history.loc[1, "fn"]) == "1"
