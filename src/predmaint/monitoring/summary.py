"""One monitoring pass over a window: reports on disk and a compact :class:`MonitoringSummary`.

:func:`summarise` is pure (frames in, summary + Evidently snapshots out); :func:`monitor_window`
adds the I/O: it writes ``<monitoring_dir>/<window_id>/`` with ``drift.html``/``drift.json``
(feature drift + data summary), ``performance.html``/``performance.json`` (when the window has
labelled predictions of both classes) and ``summary.json``.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from predmaint.config import Params
from predmaint.monitoring import performance as perf
from predmaint.monitoring import report as rep
from predmaint.monitoring import tails
from predmaint.monitoring import window as w
from predmaint.quality.contract import load_contract, sensor_health

if TYPE_CHECKING:
    from evidently.core.report import Snapshot

WINDOW_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
SUMMARY_FILE = "summary.json"


@dataclass
class MonitoringSummary:
    """What one window looked like, each performance number beside the training baseline.

    ``production``/``training``/``ratio`` hold ``error_rate``, ``recall``, ``precision``, ``f1`` and
    ``expected_cost_per_1000`` (ratio = production ÷ training); ``production`` also holds the counts
    (``labelled``, ``positives``, ``tp``, ``fp``, ``fn``, ``errors``). ``columns`` maps each feature
    to its drift ``score``, ``method``, ``threshold`` and ``drifted`` flag; ``tails`` each watched
    physics quantity's limits and count beyond them (:mod:`predmaint.monitoring.tails`);
    ``costs`` the unit costs the expected cost used; ``reference`` what the reference data was
    (path, md5, manifest version, whose training window). ``sensor_health`` maps each sensor that
    looks frozen or flat-lined in the served window to the reason (the contract's sensor-health
    limits, as the data gate applies them).
    """

    window_id: str
    created_at: str
    rows: int
    labelled_rows: int
    reference_rows: int
    drift_rows: int
    drift_share: float
    drifted_columns: int
    dataset_drift: bool
    drift_share_threshold: float
    columns: dict[str, dict[str, Any]]
    production: dict[str, Any]
    training: dict[str, float]
    ratio: dict[str, float | None]
    threshold: float | None
    window_start: str | None = None
    window_end: str | None = None
    model_versions: list[str] = field(default_factory=list)
    mean_prediction: float | None = None
    alarm_rate: float | None = None
    alarms: int | None = None
    tails: dict[str, dict[str, Any]] = field(default_factory=dict)
    costs: dict[str, float] = field(default_factory=dict)
    reference: dict[str, Any] = field(default_factory=dict)
    evidently_classification: dict[str, float] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    sensor_health: dict[str, str] = field(default_factory=dict)

    @property
    def failure_rate(self) -> float | None:
        """Share of the labelled rows that failed (None without labels)."""
        positives = self.production.get("positives")
        return None if not self.labelled_rows or positives is None else positives / self.labelled_rows

    @property
    def drifted(self) -> list[str]:
        """Names of the drifted features."""
        return [c for c, v in self.columns.items() if v.get("drifted")]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MonitoringSummary:
        """Rebuild from :meth:`to_dict` output (e.g. a ``summary.json``)."""
        return cls(**data)


def default_window_id(now: datetime | None = None) -> str:
    """A window id from the UTC time, e.g. ``20250101T120000Z``."""
    return (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")


def summarise(
    params: Params,
    reference: pd.DataFrame,
    window: pd.DataFrame,
    baseline: dict[str, float],
    *,
    window_id: str,
    threshold: float | None = None,
    reference_info: dict[str, Any] | None = None,
) -> tuple[MonitoringSummary, Snapshot, Snapshot | None]:
    """Measure a window against the reference and the training baseline (no files written).

    Args:
        params: The project parameters (``monitoring``, ``costs``, project seed).
        reference: The training features, optionally with ``prediction`` and labels.
        window: The current window (see :mod:`predmaint.monitoring.window` for its columns).
        baseline: The serving model's training/validation metrics; at least ``recall`` and
            ``error_rate`` (see :func:`~predmaint.monitoring.performance.baseline_from_metrics`).
        window_id: A file-name-safe id of the window.
        threshold: The alarm threshold, if the window has no ``decision``/``threshold`` columns.
        reference_info: What the reference is (path, md5, version), recorded in the summary.

    Returns:
        The summary, the drift snapshot and the classification snapshot (or None).

    Raises:
        SchemaError: A frame lacks features or holds invalid predictions/labels.
        ValueError: The window id is not file-name-safe or the baseline lacks recall/error rate.
    """
    if not WINDOW_ID.match(window_id):
        raise ValueError(f"window id {window_id!r} must match {WINDOW_ID.pattern}")
    w.check_frame(window, "window")
    w.check_frame(reference, "reference")
    training = perf.baseline_from_metrics(baseline)
    settings = rep.DriftSettings.from_params(params)
    notes: list[str] = [f"reference: {reference_info['note']}"] if reference_info and reference_info.get("note") else []
    cur = w.sample_rows(window, settings.max_rows, settings.seed)
    ref = w.sample_rows(reference, settings.max_rows, settings.seed)
    if len(cur) < len(window) or len(ref) < len(reference):
        notes.append(
            f"Evidently ran on seeded samples: window {len(cur)} of {len(window)} rows, "
            f"reference {len(ref)} of {len(reference)} rows (monitoring.max_rows_for_drift)"
        )
    drift_snap = rep.drift_report(ref, cur, settings)
    drift = rep.drift_summary(drift_snap)

    thr = w.resolve_threshold(window, threshold, training)
    alarm = w.served_decisions(window, thr)
    production = perf.performance(w.labels(window), alarm, params.costs)
    perf_snap = None
    if thr is not None and w.PREDICTION in window.columns:
        perf_snap, skipped = rep.performance_report(ref, cur, thr)
        if skipped:
            notes.append(skipped)
    elif w.PREDICTION not in window.columns:
        notes.append("no 'prediction' column: performance not measured")
    start, end = w.time_span(window)
    stuck = sensor_health(window, load_contract(params))
    notes += [f"sensor health: {column}: {problem}" for column, problem in stuck.items()]
    m = params.monitoring
    limits = tails.tail_limits(reference, m.tail_quantities, m.tail_quantile, params.physics)
    summary = MonitoringSummary(
        window_id=window_id,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        rows=len(window),
        labelled_rows=int(production["labelled"] or 0),
        reference_rows=len(reference),
        drift_rows=len(cur),
        drift_share=drift["drift_share"],
        drifted_columns=drift["drifted_columns"],
        dataset_drift=bool(drift.get("dataset_drift", False)),
        drift_share_threshold=settings.share_threshold,
        columns=drift["columns"],
        production=production,
        training=training,
        ratio=perf.compare(production, training),
        threshold=thr,
        window_start=start,
        window_end=end,
        model_versions=w.model_versions(window),
        mean_prediction=float(window[w.PREDICTION].mean()) if w.PREDICTION in window.columns else None,
        alarm_rate=None if alarm is None else float(alarm.mean()),
        alarms=None if alarm is None else int(alarm.sum()),
        tails=tails.tail_counts(window, limits, params.physics),
        costs={"missed_failure": params.costs.missed_failure, "false_alarm": params.costs.false_alarm},
        reference=dict(reference_info or {}),
        evidently_classification=rep.classification_metrics(perf_snap),
        notes=notes,
        sensor_health=stuck,
    )
    return summary, drift_snap, perf_snap


def monitor_window(
    params: Params,
    reference: pd.DataFrame,
    window: pd.DataFrame,
    baseline: dict[str, float],
    *,
    window_id: str | None = None,
    threshold: float | None = None,
    reference_info: dict[str, Any] | None = None,
) -> MonitoringSummary:
    """:func:`summarise` a window and save its reports under ``paths.monitoring_dir/<window_id>/``.

    Returns:
        The summary, with ``files`` naming the HTML/JSON reports and ``summary.json``.
    """
    wid = window_id or default_window_id()
    summary, drift_snap, perf_snap = summarise(
        params, reference, window, baseline, window_id=wid, threshold=threshold, reference_info=reference_info
    )
    folder = params.path(params.paths.monitoring_dir) / wid
    folder.mkdir(parents=True, exist_ok=True)
    for name, snap in (("drift", drift_snap), ("performance", perf_snap)):
        for ext in ("html", "json"):
            stale = folder / f"{name}.{ext}"
            stale.unlink(missing_ok=True)
        if snap is not None:
            snap.save_html(str(folder / f"{name}.html"))
            snap.save_json(str(folder / f"{name}.json"))
            summary.files[f"{name}_html"] = str(folder / f"{name}.html")
            summary.files[f"{name}_json"] = str(folder / f"{name}.json")
    summary.files["summary_json"] = str(folder / SUMMARY_FILE)
    write_summary(summary, folder / SUMMARY_FILE)
    return summary


def write_summary(summary: MonitoringSummary, path: Path) -> Path:
    """Write the summary as indented JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary.to_dict(), indent=2, default=str) + "\n", encoding="utf-8")
    return path


def read_summary(path: Path) -> MonitoringSummary:
    """Read a ``summary.json`` written by :func:`monitor_window`."""
    return MonitoringSummary.from_dict(json.loads(path.read_text(encoding="utf-8")))
