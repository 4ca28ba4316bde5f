"""Evidence pooled over the recent windows monitored against the same champion.

A 500-row window holds two or three missed failures; a change that doubles them cannot be told
from chance in one window (Poisson 2.5 against 5), whatever the rule. The rules on rare counts
(cost, alarm rate, failure rate, physics tails) therefore judge the counts summed over this window
and up to ``monitoring.evidence_windows - 1`` earlier ones measured against the same reference,
i.e. served by the same champion: a promotion moves the reference and starts the pooling afresh.
The counts each decision needs are stored in ``decisions.csv`` (:data:`COUNT_COLUMNS`).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pandas as pd

from predmaint.monitoring.summary import MonitoringSummary

COUNT_COLUMNS: tuple[str, ...] = ("fn", "fp", "positives", "alarms", "tail_counts")


def reference_key(summary: MonitoringSummary) -> str:
    """What identifies the reference a window was measured against (its data version, else path)."""
    return str(summary.reference.get("version_id") or summary.reference.get("path") or "")


def counts(summary: MonitoringSummary) -> dict[str, Any]:
    """The ``decisions.csv`` cells pooling needs from one window."""
    prod = summary.production
    return {
        "fn": "" if prod.get("fn") is None else int(prod["fn"]),
        "fp": "" if prod.get("fp") is None else int(prod["fp"]),
        "positives": "" if prod.get("positives") is None else int(prod["positives"]),
        "alarms": "" if summary.alarms is None else summary.alarms,
        "tail_counts": json.dumps({k: v["beyond"] for k, v in summary.tails.items()}, sort_keys=True),
    }


def _number(value: Any) -> int:
    return 0 if value in ("", None) or pd.isna(value) else int(float(value))


def pooled(summary: MonitoringSummary, past: pd.DataFrame, windows: int) -> MonitoringSummary:
    """``summary`` with its counts summed over up to ``windows - 1`` earlier windows on the same reference.

    Args:
        summary: This window.
        past: Earlier decisions (``decisions.csv`` rows, oldest first, one per window).
        windows: How many windows to pool, this one included (1 = no pooling).

    Returns:
        A summary whose ``rows``, ``labelled_rows``, confusion counts, expected cost, ``alarms`` and
        tail counts cover the pooled windows; ``window_id`` names how many were pooled.
    """
    if windows <= 1 or past.empty or not set(COUNT_COLUMNS) <= set(past.columns):
        return summary
    same = past[past["reference"].astype(str) == reference_key(summary)] if "reference" in past else past.iloc[:0]
    earlier = same.drop_duplicates("window_id", keep="last").tail(windows - 1)
    earlier = earlier[earlier["window_id"].astype(str) != summary.window_id]
    if earlier.empty:
        return summary
    prod = dict(summary.production)
    labelled = summary.labelled_rows + sum(_number(v) for v in earlier["labelled_rows"])
    for key in ("fn", "fp", "positives"):
        if prod.get(key) is not None:
            prod[key] = int(prod[key]) + sum(_number(v) for v in earlier[key])
    if prod.get("fn") is not None and prod.get("fp") is not None and labelled and summary.costs:
        prod["errors"] = prod["fn"] + prod["fp"]
        missed, alarm = summary.costs["missed_failure"], summary.costs["false_alarm"]
        prod["expected_cost_per_1000"] = 1000 * (missed * prod["fn"] + alarm * prod["fp"]) / labelled
    prod["labelled"] = labelled
    rows = summary.rows + sum(_number(v) for v in earlier["rows"])
    tails = {}
    for name, t in summary.tails.items():
        beyond = sum(_number(json.loads(c or "{}").get(name)) for c in earlier["tail_counts"])
        tails[name] = {**t, "beyond": t["beyond"] + beyond, "rows": rows}
    alarms = None if summary.alarms is None else summary.alarms + sum(_number(v) for v in earlier["alarms"])
    return dataclasses.replace(
        summary,
        window_id=f"{summary.window_id} and {len(earlier)} earlier window(s)",
        rows=rows,
        labelled_rows=labelled,
        production=prod,
        alarms=alarms,
        tails=tails,
    )
