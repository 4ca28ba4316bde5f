"""The prediction log: every served prediction and its later ground truth, in SQLite (WAL mode) or PostgreSQL.

Writes go through one writer thread per process, with group commit: the prediction batches queued
while a transaction runs go into the next one together, and the service answers a request only
after the transaction holding its rows has committed, so a crash loses at most the requests still
in flight. Request ids are time-ordered (UUIDv7 layout), so the primary-key index grows at its
right edge instead of touching random pages: insert cost stays flat as the log grows. WAL lets
readers (monitoring, ``read_window``) run while the service writes; several worker processes may
share the file (busy timeout). Feedback (the true label, optional failure mode) is stored in its
own table keyed by ``request_id`` and joined on read. With a ``postgresql://`` URL
(``paths.prediction_log_url``) the same tables live in PostgreSQL, which several API replicas on
several hosts share (:mod:`predmaint.service.predlog_db` hides the driver differences).
"""

from __future__ import annotations

import os
import queue
import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from predmaint import schema
from predmaint.service import predlog_db as db
from predmaint.service.labels import (  # labels: provenance, corrections, history (issue 18)
    Feedback,
    FeedbackResult,
    LabelConflictError,
    UnknownRequestIdsError,
    apply_feedback,
    ensure_schema,
)
from predmaint.service.predlog_db import Location

if TYPE_CHECKING:
    from predmaint.config import Params

__all__ = [  # the label types live in predmaint.service.labels; re-exported for the log's callers
    "Feedback",
    "FeedbackResult",
    "LabelConflictError",
    "PredictionLog",
    "UnknownRequestIdsError",
    "connect",
    "counts",
    "location",
    "new_request_id",
    "read_window",
]

INPUT_COLUMNS: tuple[str, ...] = tuple(schema.SNAKE_CASE[c] for c in schema.FEATURE_COLUMNS)
PREDICTION_COLUMNS: tuple[str, ...] = (
    "request_id",
    "ts",
    *INPUT_COLUMNS,
    "probability",
    "decision",
    "threshold",
    "predicted_modes",
    "model_name",
    "model_version",
)
_ids = random.Random(os.urandom(32))


def new_request_id() -> str:
    """A UUIDv7-layout id: 48-bit UNIX milliseconds, then 74 random bits (version 7, RFC 9562 variant).

    Ids sort by creation time, which keeps the log's primary-key inserts at the end of the index.
    ``random.getrandbits`` from an OS-seeded generator is used instead of ``os.urandom`` per id
    (a syscall that releases the GIL on the hot path); the ids are unique, not secret.
    """
    value = (time.time_ns() // 1_000_000) << 80 | 0x7 << 76 | _ids.getrandbits(12) << 64
    value |= 0b10 << 62 | _ids.getrandbits(62)
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def connect(location: Location, *, readonly: bool = False) -> Any:
    """Open the log (creating the tables unless ``readonly``): an SQLite file or a PostgreSQL URL."""
    conn = db.connect(location, INPUT_COLUMNS, readonly=readonly)
    if not readonly:
        ensure_schema(conn)
    return conn


@dataclass
class _Job:
    """Queued work for the writer: prediction rows to insert, or a function of the connection."""

    future: Future[Any]
    rows: Sequence[Sequence[Any]] | None = None
    work: Callable[[Any], Any] | None = None


_STOP = _Job(Future())


class PredictionLog:
    """The single writer of one process: predictions in batches, feedback on demand.

    Args:
        path: The SQLite file (``paths.prediction_log``) or a ``postgresql://`` URL.
    """

    def __init__(self, path: Location) -> None:
        self.path = path
        self._queue: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self.errors = 0
        self.transactions = 0

    def start(self) -> PredictionLog:
        """Create the tables and start the writer thread (idempotent)."""
        if self._thread is None:
            conn = connect(self.path)
            self._thread = threading.Thread(target=self._run, args=(conn,), name="predlog-writer", daemon=True)
            self._thread.start()
        return self

    def _run(self, conn: Any) -> None:
        carry: _Job | None = None
        try:
            while (job := carry or self._queue.get()) is not _STOP:
                carry = None
                if getattr(conn, "closed", 0):  # PostgreSQL went away: reconnect for this job
                    try:
                        conn = connect(self.path)
                    except Exception as exc:
                        self.errors += 1
                        job.future.set_exception(exc)
                        continue
                if job.work is not None:
                    self._do(job, conn)
                    continue
                group = [job]
                while True:
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if more.rows is None:
                        carry = more
                        break
                    group.append(more)
                self._commit(group, conn)
        finally:
            conn.close()

    def _do(self, job: _Job, conn: Any) -> None:
        assert job.work is not None
        if not job.future.set_running_or_notify_cancel():  # its caller gave up (a client went away)
            return
        try:
            job.future.set_result(job.work(conn))
        except Exception as exc:
            self.errors += 1
            job.future.set_exception(exc)

    def _commit(self, group: list[_Job], conn: Any) -> None:
        """Insert the group in one transaction; if it fails, retry batch by batch so only bad ones fail."""
        try:
            with conn:
                for job in group:
                    db.insert(conn, "predictions", job.rows or (), len(PREDICTION_COLUMNS))
        except Exception as exc:
            if len(group) > 1:
                for job in group:
                    self._commit([job], conn)
                return
            self.errors += 1
            group[0].future.set_exception(exc)
            return
        self.transactions += 1
        for job in group:
            job.future.set_result(len(job.rows or ()))

    def _put(self, job: _Job) -> Future[Any]:
        if self._thread is None:
            raise RuntimeError(f"prediction log {self.path} is not started")
        self._queue.put(job)
        return job.future

    def submit(self, work: Callable[[Any], Any]) -> Future[Any]:
        """Run ``work(connection)`` on the writer thread; the future holds its result."""
        return self._put(_Job(Future(), work=work))

    def append(self, rows: Sequence[Sequence[Any]]) -> Future[int]:
        """Insert prediction rows (in :data:`PREDICTION_COLUMNS` order); the future resolves to the
        number of rows once the transaction holding them (perhaps with other batches) has committed."""
        return self._put(_Job(Future(), rows=rows))

    def add_feedback(self, items: Iterable[Feedback]) -> Future[FeedbackResult]:
        """Record ground truth, all or nothing: an unknown id raises :class:`UnknownRequestIdsError`, a
        different label for a labelled id without ``correction`` :class:`LabelConflictError`."""
        batch = list(items)
        return self.submit(lambda conn: apply_feedback(conn, batch))

    def close(self, timeout: float = 10.0) -> None:
        """Finish queued writes and stop the writer thread."""
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout)
            self._thread = None


def location(params: Params) -> Location:
    """Where the log lives: ``paths.prediction_log_url`` (PostgreSQL) or else ``paths.prediction_log``."""
    return params.paths.prediction_log_url or params.path(params.paths.prediction_log)


def read_window(
    path: Location, since: float | pd.Timestamp | str | None = None, limit: int | None = None
) -> pd.DataFrame:
    """Predictions joined with their feedback, oldest first — what monitoring reads.

    Args:
        path: The SQLite file (``paths.prediction_log``) or a ``postgresql://`` URL (:func:`location`).
        since: Only predictions made strictly after this time (UNIX seconds or a timestamp).
        limit: Only the newest ``limit`` predictions (after ``since``).

    Returns:
        One row per prediction: the AI4I feature columns (``Type``, ``Air temperature [K]`` …),
        ``prediction`` (failure probability), ``decision`` (0/1), ``threshold``, ``predicted_modes``,
        ``model_name``, ``model_version``, ``request_id``, ``timestamp`` (UTC), ``target`` (the label,
        NaN without feedback), ``failure_mode`` (from feedback) and ``feedback_timestamp``.
        An empty frame with these columns if the log does not exist yet.
    """
    if isinstance(since, str | pd.Timestamp):
        stamp = pd.Timestamp(since)
        since = (stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp).timestamp()
    sql = (
        "SELECT p.*, f.target AS target, f.failure_mode AS failure_mode, f.ts AS feedback_ts, "
        "f.source AS label_source "
        "FROM predictions p LEFT JOIN feedback f USING (request_id)"
    )
    args: list[Any] = []
    if since is not None:
        sql += " WHERE p.ts > ?"
        args.append(float(since))
    sql += " ORDER BY p.ts DESC, p.rowid DESC"
    if limit is not None:
        sql += " LIMIT ?"
        args.append(int(limit))
    if db.exists(path):
        conn = connect(path, readonly=True)
        try:
            frame = db.frame(conn, sql, args)
        finally:
            conn.close()
    else:
        frame = pd.DataFrame(columns=[*PREDICTION_COLUMNS, "target", "failure_mode", "feedback_ts", "label_source"])
    return _shape(frame.iloc[::-1].reset_index(drop=True))


def utc_from_seconds(seconds: pd.Series) -> pd.Series:
    """UNIX seconds to UTC timestamps, NaT where missing.

    Only the non-null values reach ``pd.to_datetime(..., unit="s")``: pandas 2.x rounds the
    uninitialised memory behind NaN when a unit is given, which raises ``FloatingPointError`` at random
    under ``np.errstate(all="raise")`` (pandas-dev/pandas#58419, fixed in 3.0).
    """
    values = seconds.astype(float)
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    known = values.notna()
    if known.any():
        out[known] = pd.to_datetime(values[known], unit="s", utc=True)
    return out


def _shape(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.rename(columns={**schema.FROM_SNAKE_CASE, "probability": "prediction"})
    out["timestamp"] = utc_from_seconds(out.pop("ts"))
    out["feedback_timestamp"] = utc_from_seconds(out.pop("feedback_ts"))
    out["target"] = out["target"].astype(float)
    out["decision"] = out["decision"].astype(int)
    out["prediction"] = out["prediction"].astype(float)
    for col in schema.NUMERIC_FEATURES:
        out[col] = out[col].astype(float)
    out["failure_mode"] = out["failure_mode"].where(out["failure_mode"].notna(), np.nan)
    first = ["request_id", "timestamp", *schema.FEATURE_COLUMNS, "prediction", "decision", "threshold"]
    return out[first + [c for c in out.columns if c not in first]]


def counts(path: Location) -> dict[str, int]:
    """Number of predictions and of labelled predictions in the log."""
    if not db.exists(path):
        return {"predictions": 0, "labelled": 0}
    conn = connect(path, readonly=True)
    try:
        n = db.execute(conn, "SELECT (SELECT COUNT(*) FROM predictions), (SELECT COUNT(*) FROM feedback)")[0]
    finally:
        conn.close()
    return {"predictions": int(n[0]), "labelled": int(n[1])}
