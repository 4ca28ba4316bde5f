"""Monitoring: Evidently drift and performance reports per window, and the retraining trigger.

Pure functions over DataFrames with the I/O at the edges; orchestration (when to run, on which
window) belongs to the flows. Importing this package does not import Evidently or MLflow.

Typical use (what the monitoring flow does)::

    summary = monitor_window(params, reference, window, baseline, window_id="day_07")
    decision = decide_and_record(summary, params.monitoring, params.path(params.monitoring.decisions_log))
    log_window(params, summary, decision)
"""

from predmaint.monitoring.performance import baseline_from_metrics
from predmaint.monitoring.summary import MonitoringSummary, monitor_window, read_summary, summarise
from predmaint.monitoring.tracking import log_window
from predmaint.monitoring.trigger import (
    TriggerDecision,
    append_decision,
    decide,
    decide_and_record,
    read_decisions,
)

__all__ = [
    "MonitoringSummary",
    "TriggerDecision",
    "append_decision",
    "baseline_from_metrics",
    "decide",
    "decide_and_record",
    "log_window",
    "monitor_window",
    "read_decisions",
    "read_summary",
    "summarise",
]
