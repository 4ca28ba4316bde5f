"""Labels (feedback) in the prediction log: provenance, explicit corrections, and their history.

Every label records its ``source`` (the caller's identity: ``token:<name>``, or ``open:<address>``
when the scope needs no token), so retraining can use only labels whose origin is known and say
how many came from where. A label that differs from the one recorded is refused
(:class:`LabelConflictError`, a 409) unless the item says ``correction``; a correction moves the
earlier label, with its source and time, to ``feedback_history``, so no label is ever lost.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from predmaint.service import predlog_db as db

HISTORY_DDL = (
    "CREATE TABLE IF NOT EXISTS feedback_history (request_id TEXT NOT NULL, target INTEGER NOT NULL, "
    "failure_mode TEXT, source TEXT, ts DOUBLE PRECISION NOT NULL, replaced_at DOUBLE PRECISION NOT NULL, "
    "replaced_by TEXT)"
)


class UnknownRequestIdsError(KeyError):
    """Feedback names request ids that were never predicted; ``ids`` lists them."""

    def __init__(self, ids: Sequence[str]) -> None:
        super().__init__(f"unknown request_id(s): {', '.join(ids)}")
        self.ids = list(ids)


class LabelConflictError(ValueError):
    """Feedback gives already-labelled ids a different label without saying ``correction``."""

    def __init__(self, ids: Sequence[str]) -> None:
        super().__init__(f"already labelled differently: {', '.join(ids)}")
        self.ids = list(ids)


@dataclass(frozen=True)
class Feedback:
    """The ground truth for one prediction, who sent it, and whether it replaces an earlier label."""

    request_id: str
    target: int
    failure_mode: str | None = None
    source: str | None = None
    correction: bool = False


@dataclass
class FeedbackResult:
    """What a feedback call changed: ids newly labelled, already so labelled, relabelled."""

    recorded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)


def ensure_schema(conn: Any) -> None:
    """Add the history table and the ``feedback.source`` and ``used_by`` columns to a log (idempotent).

    ``used_by`` names the data version of the retraining that used the label (set by
    :func:`predmaint.service.retention.mark_used`; a correction clears it): retention may archive
    a labelled prediction only once its label has been used.
    """
    if isinstance(conn, sqlite3.Connection):
        columns = {r[1] for r in db.execute(conn, "PRAGMA table_info(feedback)")}
    else:
        query = "SELECT column_name FROM information_schema.columns WHERE table_name = 'feedback'"
        columns = {r[0] for r in db.execute(conn, query)}
    with conn:
        db.execute(conn, HISTORY_DDL)
        for column in ("source", "used_by"):
            if column not in columns:
                db.execute(conn, f"ALTER TABLE feedback ADD COLUMN {column} TEXT")


def apply_feedback(conn: Any, items: Sequence[Feedback]) -> FeedbackResult:
    """Record labels in one transaction, all or nothing.

    Raises:
        UnknownRequestIdsError: Some ids were never predicted.
        LabelConflictError: Some ids hold a different label and their item is not a correction.
    """
    unique = list({i.request_id: i for i in items}.values())
    ids = [i.request_id for i in unique]
    marks = ",".join("?" * len(ids))
    result = FeedbackResult()
    now = time.time()
    with conn:  # one transaction: the checks, the reads and the writes
        query = f"SELECT request_id FROM predictions WHERE request_id IN ({marks})"
        known = {r[0] for r in db.execute(conn, query, ids)}
        missing = [i for i in ids if i not in known]
        if missing:
            raise UnknownRequestIdsError(missing)
        query = f"SELECT request_id, target, failure_mode, source, ts FROM feedback WHERE request_id IN ({marks})"
        current = {r[0]: r[1:] for r in db.execute(conn, query, ids)}
        conflicts = [
            i.request_id
            for i in unique
            if i.request_id in current and current[i.request_id][:2] != (i.target, i.failure_mode) and not i.correction
        ]
        if conflicts:
            raise LabelConflictError(conflicts)
        for item in unique:
            before = current.get(item.request_id)
            if before is not None and before[:2] == (item.target, item.failure_mode):
                result.unchanged.append(item.request_id)
                continue
            if before is not None:
                db.execute(
                    conn,
                    "INSERT INTO feedback_history VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (item.request_id, *before, now, item.source),
                )
            db.execute(
                conn,
                "INSERT INTO feedback (request_id, target, failure_mode, ts, source) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (request_id) DO UPDATE SET target = excluded.target, "
                "failure_mode = excluded.failure_mode, ts = excluded.ts, source = excluded.source, used_by = NULL",
                (item.request_id, item.target, item.failure_mode, now, item.source),
            )
            (result.recorded if before is None else result.updated).append(item.request_id)
    return result


def history(conn: Any, request_id: str) -> list[tuple[Any, ...]]:
    """Every earlier label of one id, oldest first: ``(target, failure_mode, source, ts, replaced_at, replaced_by)``."""
    query = (
        "SELECT target, failure_mode, source, ts, replaced_at, replaced_by FROM feedback_history "
        "WHERE request_id = ? ORDER BY replaced_at"
    )
    return db.execute(conn, query, (request_id,))
