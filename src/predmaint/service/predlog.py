"""The prediction log: every served prediction and its later ground truth, in SQLite (WAL mode) or PostgreSQL.

Writes go through one writer thread per process, with group commit: the prediction batches queued
while a transaction runs go into the next one together, and the service answers a request only
after the transaction holding its rows has committed, so a crash loses at most the requests still
in flight. Request ids are time-ordered (UUIDv7 layout), so the primary-key index grows at its
right edge instead of touching random pages: insert cost stays flat as the log grows. WAL lets
readers (monitoring, :mod:`~predmaint.service.predlog_read`) run while the service writes; several
worker processes may share the file (busy timeout). Feedback (the true label, optional failure mode) is stored in its
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
from typing import Any

from predmaint.service import predlog_db as db
from predmaint.service.labels import (  # labels: provenance, corrections, history (issue 18)
    Feedback,
    FeedbackResult,
    LabelConflictError,
    UnknownRequestIdsError,
    apply_feedback,
    ensure_schema,
)
from predmaint.service.predlog_db import INPUT_COLUMNS, PREDICTION_COLUMNS, Location
from predmaint.service.predlog_read import counts, location, read_log, read_window, utc_from_seconds

__all__ = [  # labels live in predmaint.service.labels, reading in predlog_read; re-exported for callers
    "INPUT_COLUMNS",
    "PREDICTION_COLUMNS",
    "Feedback",
    "FeedbackResult",
    "LabelConflictError",
    "PredictionLog",
    "UnknownRequestIdsError",
    "connect",
    "counts",
    "location",
    "new_request_id",
    "read_log",
    "read_window",
    "utc_from_seconds",
]

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
