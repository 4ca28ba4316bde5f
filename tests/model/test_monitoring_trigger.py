"""The retraining trigger policy and its decision log (pure: hand-made window summaries)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from predmaint.config import MonitoringParams, Params
from predmaint.monitoring.performance import baseline_from_metrics, wilson_bound
from predmaint.monitoring.summary import MonitoringSummary
from predmaint.monitoring.trigger import (
    DECISION_COLUMNS,
    append_decision,
    decide,
    decide_and_record,
    read_decisions,
)

TRAINING = {"error_rate": 0.03, "recall": 0.9, "precision": 0.5, "f1": 0.6, "expected_cost_per_1000": 40000.0}


def window(
    wid: str,
    drift_share: float = 0.0,
    *,
    labelled: int = 500,
    positives: int = 10,
    tp: int = 9,
    errors: int = 10,
) -> MonitoringSummary:
    """A summary as monitor_window would return it, with chosen drift and confusion counts."""
    drifted = drift_share > 0
    production: dict[str, Any] = {
        "labelled": labelled,
        "positives": positives,
        "tp": tp,
        "fn": positives - tp,
        "fp": errors - (positives - tp),
        "errors": errors,
        "error_rate": errors / labelled if labelled else None,
        "recall": tp / positives if positives else None,
    }
    return MonitoringSummary(
        window_id=wid,
        created_at="2025-01-01T00:00:00+00:00",
        rows=500,
        labelled_rows=labelled,
        reference_rows=7000,
        drift_rows=500,
        drift_share=drift_share,
        drifted_columns=1 if drifted else 0,
        dataset_drift=drifted,
        drift_share_threshold=0.15,
        columns={
            "Torque [Nm]": {
                "score": 0.5 if drifted else 0.05,
                "threshold": 0.2,
                "method": "w",
                "drifted": drifted,
            }
        },
        production=production,
        training=dict(TRAINING),
        ratio={"error_rate": production["error_rate"] / TRAINING["error_rate"] if labelled else None},
        threshold=0.3,
    )


@pytest.fixture
def policy(sim_params: Params) -> MonitoringParams:
    return sim_params.monitoring.model_copy(
        update={
            "drift_share_threshold": 0.15,
            "consecutive_windows": 1,
            "cooldown_windows": 1,
            "min_new_labelled_rows": 300,
            "min_labelled_rows": 200,
            "recall_drop": 0.15,
            "error_rate_ratio": 2.0,
            "performance_confidence": 0.95,
        }
    )


def run(policy: MonitoringParams, path: Path, *summaries: MonitoringSummary) -> list[bool]:
    return [decide_and_record(s, policy, path).fire for s in summaries]


def test_drift_fires_with_reasons_and_no_drift_does_not(policy: MonitoringParams, tmp_path: Path) -> None:
    calm = decide(window("calm"), read_decisions(tmp_path / "none.csv"), policy)
    assert not calm.fire and calm.rules_met == []
    assert any("no drift" in r for r in calm.reasons)
    hot = decide(window("hot", drift_share=1 / 6), read_decisions(tmp_path / "none.csv"), policy)
    assert hot.fire and hot.rules_met == ["drift"]
    assert any("Torque [Nm]" in r and "consecutive" in r for r in hot.reasons)


def test_consecutive_windows(policy: MonitoringParams, tmp_path: Path) -> None:
    two = policy.model_copy(update={"consecutive_windows": 2})
    log = tmp_path / "decisions.csv"
    assert run(two, log, window("d1", 0.3), window("d2", 0.0), window("d3", 0.3), window("d4", 0.3)) == [
        False,
        False,
        False,
        True,
    ]
    assert read_decisions(log)["consecutive_drift_windows"].tolist() == [1, 0, 1, 2]


def test_cooldown_and_new_labels_suppress_a_second_trigger(policy: MonitoringParams, tmp_path: Path) -> None:
    log = tmp_path / "decisions.csv"
    fires = run(
        policy,
        log,
        window("d1", 0.5),  # fires
        window("d2", 0.5),  # cooldown: 1 window since the retrain
        window("d3", 0.5, labelled=100, positives=2, tp=2, errors=2),  # 2 windows on: fires again
    )
    history = read_decisions(log)
    assert fires[:2] == [True, False]
    assert history.loc[1, "blocked_by"] == "cooldown"
    assert "cooldown" in str(history.loc[1, "reasons"])
    assert fires[2] is True  # d2's 500 labels + d3's 100 since the retrain
    few = policy.model_copy(update={"min_new_labelled_rows": 700})
    log2 = tmp_path / "few.csv"
    assert run(few, log2, window("a", 0.5, labelled=800), window("b", 0.0), window("c", 0.5, labelled=100)) == [
        True,
        False,
        False,
    ]
    last = read_decisions(log2).iloc[-1]
    assert last["blocked_by"] == "new_labels" and last["new_labelled_rows"] == 600
    assert "not fired although drift met" in last["reasons"]


def test_decisions_csv_one_row_per_decision(policy: MonitoringParams, tmp_path: Path) -> None:
    log = tmp_path / "monitoring" / "decisions.csv"
    run(policy, log, window("day_01"), window("day_02", 0.5), window("day_03"))
    frame = pd.read_csv(log, keep_default_na=False)
    assert list(frame.columns) == list(DECISION_COLUMNS)
    assert frame["window_id"].tolist() == ["day_01", "day_02", "day_03"]
    assert frame["fire"].tolist() == ["no", "yes", "no"]
    assert (frame["reasons"].str.len() > 0).all()
    assert frame.loc[1, "drifted_features"] == "Torque [Nm]"
    assert frame.loc[1, "training_recall"] == 0.9


def test_redeciding_a_window_supersedes_unless_it_fired(policy: MonitoringParams, tmp_path: Path) -> None:
    log = tmp_path / "decisions.csv"
    run(policy, log, window("d1", labelled=0, positives=0, tp=0, errors=0))
    again = decide(window("d1", labelled=400), read_decisions(log), policy)
    assert again.new_labelled_rows == 400  # the earlier, unlabelled d1 is not counted twice
    run(policy, log, window("d2", 0.5, labelled=400))
    refire = decide(window("d2", 0.5, labelled=450), read_decisions(log), policy)
    assert not refire.fire and refire.blocked_by == ["cooldown"] and refire.windows_since_retrain == 0


def test_recall_rule_needs_clear_evidence(policy: MonitoringParams, tmp_path: Path) -> None:
    empty = read_decisions(tmp_path / "none.csv")
    collapsed = decide(window("r", positives=20, tp=6, errors=14), empty, policy)
    assert collapsed.fire and "recall" in collapsed.rules_met
    one_miss = decide(window("r", positives=10, tp=7, errors=3), empty, policy)  # 0.70 on 10 failures
    assert "recall" not in one_miss.rules_met
    point = policy.model_copy(update={"performance_confidence": 0.5})
    assert "recall" in decide(window("r", positives=10, tp=7, errors=3), empty, point).rules_met
    few = decide(window("r", labelled=100, positives=20, tp=2, errors=18), empty, policy)
    assert few.rules_met == [] and any("performance not judged" in r for r in few.reasons)


def test_error_rate_rule(policy: MonitoringParams, tmp_path: Path) -> None:
    empty = read_decisions(tmp_path / "none.csv")
    assert "error_rate" in decide(window("e", errors=60, tp=9), empty, policy).rules_met  # 12 % vs 3 %
    assert "error_rate" not in decide(window("e", errors=20, tp=9), empty, policy).rules_met  # 4 %


def test_wilson_bound() -> None:
    assert wilson_bound(7, 10, 0.5, upper=True) == pytest.approx(0.7)
    upper, lower = wilson_bound(7, 10, 0.95, upper=True), wilson_bound(7, 10, 0.95, upper=False)
    assert upper is not None and lower is not None
    assert upper > 0.85 and lower < 0.45
    assert wilson_bound(0, 0, 0.95, upper=True) is None


def test_baseline_from_metrics() -> None:
    b = baseline_from_metrics({"val_recall": 0.8, "val_tn": 90, "val_fp": 6, "val_fn": 2, "val_tp": 2}, "val_")
    assert b["error_rate"] == pytest.approx(0.08) and b["recall"] == 0.8
    with pytest.raises(ValueError, match="error_rate"):
        baseline_from_metrics({"recall": 0.8})


def test_append_writes_header_once(policy: MonitoringParams, tmp_path: Path) -> None:
    log = tmp_path / "d.csv"
    s = window("x")
    for _ in range(2):
        append_decision(log, decide(s, read_decisions(log), policy), s)
    assert log.read_text().count("window_id,") == 1


def test_the_headline_names_only_the_signals_met_and_what_blocked_them(policy: MonitoringParams) -> None:
    quiet = decide(window("d1", 0.0), pd.DataFrame(), policy)
    assert quiet.headline == [] and len(quiet.reasons) >= 3
    drifted = decide(window("d2", 0.5), pd.DataFrame(), policy)
    assert drifted.fire and len(drifted.headline) == 1 and drifted.headline[0].startswith("drift:")
    few = policy.model_copy(update={"min_new_labelled_rows": 10_000})
    blocked = decide(window("d3", 0.5), pd.DataFrame(), few)
    assert not blocked.fire
    assert blocked.headline[0].startswith("not fired although drift met")
    assert "new labelled rows" in blocked.headline[-1]
