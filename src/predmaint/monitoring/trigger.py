"""The retraining trigger: a policy over the history of monitored windows, every decision recorded.

Rules (any one of those listed in ``monitoring.rules`` fires): feature drift, recall, error rate,
expected cost, alarm rate, failure rate and physics tails, each defined in
:mod:`predmaint.monitoring.rules`. The drift streak is counted since the last retrain (a new model
resets it); the label rules need ≥ ``min_labelled_rows`` labelled rows. The rules on rare counts
judge them pooled over the recent windows on the same reference (:mod:`predmaint.monitoring.evidence`).

Gates (all must pass for a rule to fire): ``cooldown_windows`` windows must have passed since the
last retrain, and ``min_new_labelled_rows`` labelled rows must have arrived since it (a retrain
needs new labels to learn from). A fired decision counts as a retrain. Windows are taken to be
disjoint; deciding a window id again supersedes its earlier decision unless that one fired.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from predmaint.config import MonitoringParams
from predmaint.monitoring import evidence, rules
from predmaint.monitoring.summary import MonitoringSummary

YES, NO = "yes", "no"
DECISION_COLUMNS: tuple[str, ...] = (
    "window_id", "decided_at", "window_start", "window_end", "rows", "labelled_rows",
    "drift_share", "drift_share_threshold", "drifted_features", "consecutive_drift_windows",
    "error_rate", "training_error_rate", "error_rate_ratio", "recall", "training_recall",
    "expected_cost_per_1000", "training_expected_cost_per_1000", "alarm_rate", "training_alarm_rate",
    "failure_rate", "training_failure_rate", "reference", *evidence.COUNT_COLUMNS,
    "new_labelled_rows", "windows_since_retrain", "model_versions", "fire", "rules_met",
    "blocked_by", "reasons", "report",
)  # fmt: skip


@dataclass
class TriggerDecision:
    """Whether to retrain after a window, and why (or why not)."""

    window_id: str
    fire: bool
    reasons: list[str]
    rules_met: list[str] = field(default_factory=list)
    signals_met: list[str] = field(default_factory=list)
    blocked_by: list[str] = field(default_factory=list)
    headline: list[str] = field(default_factory=list)
    consecutive_drift_windows: int = 0
    windows_since_retrain: int | None = None
    new_labelled_rows: int = 0
    decided_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def to_row(self, summary: MonitoringSummary) -> dict[str, Any]:
        """The ``decisions.csv`` row of this decision for ``summary``'s window."""
        return {
            "window_id": self.window_id,
            "decided_at": self.decided_at,
            "window_start": summary.window_start or "",
            "window_end": summary.window_end or "",
            "rows": summary.rows,
            "labelled_rows": summary.labelled_rows,
            "drift_share": round(summary.drift_share, 4),
            "drift_share_threshold": summary.drift_share_threshold,
            "drifted_features": "; ".join(summary.drifted),
            "consecutive_drift_windows": self.consecutive_drift_windows,
            "error_rate": _fmt(summary.production.get("error_rate")),
            "training_error_rate": _fmt(summary.training.get("error_rate")),
            "error_rate_ratio": _fmt(summary.ratio.get("error_rate")),
            "recall": _fmt(summary.production.get("recall")),
            "training_recall": _fmt(summary.training.get("recall")),
            "expected_cost_per_1000": _fmt(summary.production.get("expected_cost_per_1000")),
            "training_expected_cost_per_1000": _fmt(summary.training.get("expected_cost_per_1000")),
            "alarm_rate": _fmt(summary.alarm_rate),
            "training_alarm_rate": _fmt(summary.training.get("alarm_rate")),
            "failure_rate": _fmt(summary.failure_rate),
            "training_failure_rate": _fmt(summary.training.get("failure_rate")),
            "reference": evidence.reference_key(summary),
            **evidence.counts(summary),
            "new_labelled_rows": self.new_labelled_rows,
            "windows_since_retrain": "" if self.windows_since_retrain is None else self.windows_since_retrain,
            "model_versions": "; ".join(summary.model_versions),
            "fire": YES if self.fire else NO,
            "rules_met": "; ".join(self.rules_met),
            "blocked_by": "; ".join(self.blocked_by),
            "reasons": " | ".join(self.reasons),
            "report": summary.files.get("drift_html", ""),
        }


def _fmt(value: Any) -> Any:
    return "" if value is None else round(float(value), 4)


def _state(history: pd.DataFrame, window_id: str) -> pd.DataFrame:
    """History rows that still count: earlier non-fired decisions of this window are superseded."""
    if history.empty:
        return history
    superseded = (history["window_id"].astype(str) == window_id) & (history["fire"] != YES)
    return history[~superseded].reset_index(drop=True)


def decide(
    summary: MonitoringSummary,
    history: pd.DataFrame,
    policy: MonitoringParams,
    new_labelled_rows: int | None = None,
) -> TriggerDecision:
    """Apply the trigger policy to a window given the earlier decisions.

    Args:
        summary: The window's monitoring summary.
        history: Earlier decisions (:func:`read_decisions`), oldest first.
        policy: The ``monitoring`` section of params.yaml.
        new_labelled_rows: Labelled rows that arrived since the last retrain, if the caller knows
            them (e.g. from the prediction log); otherwise summed over the windows since then.

    Returns:
        The decision with the rules met, the gates that blocked it and a reason for each.
    """
    past = _state(history, summary.window_id)
    fired = [i for i, f in enumerate(past["fire"].astype(str)) if f == YES] if not past.empty else []
    windows_since_retrain: int | None = None
    since = past
    if fired:
        since = past.iloc[fired[-1] + 1 :]
        same = str(past.iloc[fired[-1]]["window_id"]) == summary.window_id
        windows_since_retrain = 0 if same else since["window_id"].nunique() + 1
    since = since.drop_duplicates("window_id", keep="last") if not since.empty else since
    if new_labelled_rows is None:
        counted = pd.to_numeric(since["labelled_rows"]).sum() if not since.empty else 0
        new_labelled_rows = int(counted) + summary.labelled_rows
    streak = 0
    shares = pd.to_numeric(since["drift_share"]).tolist() if not since.empty else []
    for share in reversed(shares):
        if share < policy.drift_share_threshold:
            break
        streak += 1
    drifting = summary.drift_share >= policy.drift_share_threshold
    streak = streak + 1 if drifting else 0

    pool = evidence.pooled(summary, past, policy.evidence_windows)
    verdicts = rules.evaluate(summary, policy, streak, pool)
    met: list[str] = [v.rule for v in verdicts if v.met and v.rule in policy.rules]
    rule_reasons = [
        v.reason if v.rule in policy.rules or not v.met else f"(not a trigger rule) {v.reason}" for v in verdicts
    ]
    blocked: list[str] = []
    checks: list[str] = []
    if windows_since_retrain is not None and windows_since_retrain <= policy.cooldown_windows:
        blocked.append("cooldown")
        checks.append(
            f"cooldown: {windows_since_retrain} window(s) since the last retrain (needs > {policy.cooldown_windows})"
        )
    if new_labelled_rows < policy.min_new_labelled_rows:
        blocked.append("new_labels")
        checks.append(
            f"{new_labelled_rows} new labelled rows since the last retrain (needs ≥ {policy.min_new_labelled_rows})"
        )
    fire = bool(met) and not blocked
    verdict = [f"not fired although {', '.join(met)} met: blocked by {', '.join(blocked)}"] if met and blocked else []
    headline = verdict + [r for v, r in zip(verdicts, rule_reasons, strict=True) if v.met] + (checks if met else [])
    return TriggerDecision(
        window_id=summary.window_id,
        fire=fire,
        reasons=verdict + rule_reasons + checks,
        headline=headline,
        rules_met=met,
        signals_met=[v.rule for v in verdicts if v.met],
        blocked_by=blocked,
        consecutive_drift_windows=streak,
        windows_since_retrain=windows_since_retrain,
        new_labelled_rows=new_labelled_rows,
    )


def read_decisions(path: Path) -> pd.DataFrame:
    """Earlier decisions from ``decisions.csv`` (an empty frame when there are none).

    Raises:
        ValueError: The file lacks columns the policy needs; the message names the file and them.
    """
    if not path.exists() or path.stat().st_size == 0:
        return pd.DataFrame(columns=list(DECISION_COLUMNS))
    frame = pd.read_csv(path, dtype={"window_id": str, "fire": str}, keep_default_na=False)
    missing = [c for c in ("window_id", "labelled_rows", "drift_share", "fire") if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
    return frame


def append_decision(path: Path, decision: TriggerDecision, summary: MonitoringSummary) -> Path:
    """Append one decision row to ``decisions.csv`` (header written on first use).

    A file written with other columns (an earlier version) is first rewritten with the current
    ones, its rows kept and new cells left empty, so the history stays one table.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    row = pd.DataFrame([decision.to_row(summary)], columns=list(DECISION_COLUMNS))
    new = not path.exists() or path.stat().st_size == 0
    if not new and path.open(encoding="utf-8").readline().strip() != ",".join(DECISION_COLUMNS):
        old = pd.read_csv(path, dtype=str, keep_default_na=False)
        old.reindex(columns=list(DECISION_COLUMNS), fill_value="").to_csv(path, index=False, lineterminator="\n")
    row.to_csv(path, mode="a", header=new, index=False, lineterminator="\n")
    return path


def decide_and_record(
    summary: MonitoringSummary, policy: MonitoringParams, path: Path, new_labelled_rows: int | None = None
) -> TriggerDecision:
    """Read the history at ``path``, :func:`decide`, and append the decision to it."""
    decision = decide(summary, read_decisions(path), policy, new_labelled_rows)
    append_decision(path, decision, summary)
    return decision
