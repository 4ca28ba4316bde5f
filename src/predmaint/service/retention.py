"""Retention of the prediction log: old rows move to Parquet data versions, then leave the live log.

A prediction may leave the live log only when nothing still needs it there: its label has been used
by a retraining (``feedback.used_by``, set by :func:`mark_used`), or it got no usable label — none,
or none with a recorded source, which retraining never uses — within ``retention.label_expiry_days``.
A labelled prediction whose label no retraining has used yet always stays. Of the archivable rows
the newest ``retention.horizon_rows`` (or those younger than ``horizon_days``) stay too; the older
ones are written, oldest first and ``archive_batch_rows`` at a time, to a Parquet file in
``paths.prediction_archive_dir``, recorded in the lineage manifest (stage ``prediction_archive``,
parents: the retraining versions that used the labels), stored in DVC's cache and pushed, read back
and checked — and only then deleted from the live log, in one transaction per file. A row whose label
changed while its file was written stays live (and is read from there: the live copy wins).

Archive files are never deleted, and :func:`~predmaint.service.predlog_read.read_window` reads across
them, so a window, a retraining's log snapshot, or anything the manifest or a model points to, reads
the same rows after pruning as before.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from predmaint.config import RetentionParams
from predmaint.data.dvc import dvc_version
from predmaint.data.lineage import Manifest
from predmaint.service import predlog_db as db
from predmaint.service.predlog import connect
from predmaint.service.predlog_db import Location
from predmaint.service.predlog_read import FIELDS, FROM, RAW_COLUMNS, archive_location, location

if TYPE_CHECKING:
    from predmaint.config import Params

DAY_S = 86_400.0
STAGE = "prediction_archive"
ARCHIVABLE = "(f.used_by IS NOT NULL OR (p.ts < ? AND (f.request_id IS NULL OR f.source IS NULL)))"
_TEXT = ("request_id", "type", "predicted_modes", "model_name", "model_version", "failure_mode", "label_source")


@dataclass
class PruneResult:
    """What one prune did (or, dry, would do)."""

    archived: int = 0
    kept_changed: int = 0
    cutoff: float | None = None
    files: list[Path] = field(default_factory=list)
    versions: list[str] = field(default_factory=list)
    dvc: bool = False


def cutoff(conn: Any, retention: RetentionParams, now: float) -> float | None:
    """Archivable rows at or before this time (UNIX s) leave the live log; None = none do."""
    if retention.horizon_days is not None:
        return now - retention.horizon_days * DAY_S
    query = f"SELECT p.ts{FROM} WHERE {ARCHIVABLE} ORDER BY p.ts DESC LIMIT 1 OFFSET ?"
    rows = db.execute(conn, query, (now - retention.label_expiry_days * DAY_S, retention.horizon_rows))
    return float(rows[0][0]) if rows else None


def _batch(conn: Any, expiry: float, until: float, after: tuple[float, str], size: int) -> pd.DataFrame:
    query = (
        f"SELECT {FIELDS}, f.used_by AS used_by{FROM} WHERE {ARCHIVABLE} AND p.ts <= ? "
        "AND (p.ts > ? OR (p.ts = ? AND p.request_id > ?)) ORDER BY p.ts, p.request_id LIMIT ?"
    )
    return db.frame(conn, query, (expiry, until, after[0], after[0], after[1], size))


def _typed(rows: pd.DataFrame) -> pd.DataFrame:
    """Stable column types whatever the values (an all-unlabelled batch still has float targets …)."""
    out = rows.copy()
    for col in out.columns:
        if col in (*_TEXT, "used_by"):
            out[col] = pd.Series([None if pd.isna(v) else v for v in out[col]], index=out.index, dtype=object)
        elif col not in ("decision", "seq"):
            out[col] = out[col].astype("float64")
    return out


def _write(rows: pd.DataFrame, folder: Path) -> Path:
    first, last = math.floor(rows["ts"].min() * 1000), math.ceil(rows["ts"].max() * 1000)
    path = folder / f"predlog_{first}-{last}_{time.time_ns()}.parquet"
    folder.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    _typed(rows).to_parquet(partial, index=False)
    partial.replace(path)
    stored = pd.read_parquet(path, columns=["request_id"])["request_id"]
    if stored.tolist() != rows["request_id"].tolist():
        raise RuntimeError(f"{path} does not hold the rows written to it; nothing deleted")
    return path


def _record(manifest: Manifest, path: Path, rows: pd.DataFrame, log: Location) -> str:
    used = rows["used_by"].dropna().astype(str).value_counts()
    known = {v.version_id for v in manifest.read()}
    version = manifest.record(
        path,
        stage=STAGE,
        rows=len(rows),
        parents=tuple(v for v in sorted(used.index) if v in known),
        details={
            "prediction_log": db.display(log),
            "first_prediction": pd.Timestamp(rows["ts"].min(), unit="s", tz="UTC").isoformat(),
            "last_prediction": pd.Timestamp(rows["ts"].max(), unit="s", tz="UTC").isoformat(),
            "labels_used_by": {str(k): int(v) for k, v in used.items()},
            "without_usable_label": int(rows["used_by"].isna().sum()),
        },
    )
    return version.version_id


def _delete(conn: Any, rows: pd.DataFrame) -> int:
    """Delete the archived rows whose label is unchanged since they were read; returns how many stayed."""
    keys = [(r, None if pd.isna(t) else float(t)) for r, t in zip(rows["request_id"], rows["feedback_ts"], strict=True)]
    db.execute(conn, "CREATE TEMP TABLE IF NOT EXISTS prune_ids (request_id TEXT PRIMARY KEY, fts DOUBLE PRECISION)")
    with conn:
        db.execute(conn, "DELETE FROM prune_ids")
        db.insert(conn, "prune_ids", keys, 2)
        db.execute(
            conn,
            "DELETE FROM feedback WHERE request_id IN (SELECT request_id FROM prune_ids) "
            "AND ts = (SELECT fts FROM prune_ids WHERE prune_ids.request_id = feedback.request_id)",
        )
        db.execute(
            conn,
            "DELETE FROM predictions WHERE request_id IN (SELECT request_id FROM prune_ids) "
            "AND NOT EXISTS (SELECT 1 FROM feedback f WHERE f.request_id = predictions.request_id)",
        )
        stayed = db.execute(
            conn, "SELECT COUNT(*) FROM predictions WHERE request_id IN (SELECT request_id FROM prune_ids)"
        )
    return int(stayed[0][0])


def prune(
    log: Location,
    folder: Path,
    retention: RetentionParams,
    manifest: Manifest,
    *,
    now: float | None = None,
    dry_run: bool = False,
) -> PruneResult:
    """Archive the log's rows beyond the retention horizon as Parquet data versions, then delete them.

    Args:
        log: The live log (SQLite file or PostgreSQL URL).
        folder: Where the Parquet files go (``paths.prediction_archive_dir``).
        retention: The ``retention`` settings.
        manifest: The lineage manifest; its root is the DVC repository (if any) the files are pushed from.
        now: The current time (UNIX s); the clock by default.
        dry_run: Count what would be archived; write and delete nothing.
    """
    now = time.time() if now is None else now
    expiry = now - retention.label_expiry_days * DAY_S
    result = PruneResult()
    if not db.exists(log):
        return result
    conn = connect(log)
    try:
        result.cutoff = until = cutoff(conn, retention, now)
        after: tuple[float, str] = (-math.inf, "")
        while until is not None:
            rows = _batch(conn, expiry, until, after, retention.archive_batch_rows)
            if rows.empty:
                break
            after = (float(rows["ts"].iloc[-1]), str(rows["request_id"].iloc[-1]))
            result.archived += len(rows)
            if dry_run:
                continue
            path = _write(rows[[*RAW_COLUMNS, "used_by"]], folder)
            result.files.append(path)
            result.versions.append(_record(manifest, path, rows, log))
            result.dvc = dvc_version(manifest.root, [path])
            result.kept_changed += _delete(conn, rows)
    finally:
        conn.close()
    result.archived -= result.kept_changed
    return result


def prune_project(params: Params, *, now: float | None = None, dry_run: bool = False) -> PruneResult:
    """:func:`prune` with the project's log, archive folder, ``retention`` settings and manifest."""
    manifest = Manifest(params.path(params.paths.manifest), params.root)
    return prune(location(params), archive_location(params), params.retention, manifest, now=now, dry_run=dry_run)


def mark_used(log: Location, labels: pd.DataFrame, version_id: str) -> int:
    """Record that a retraining (data version ``version_id``) used these labels.

    Args:
        log: The live log.
        labels: ``request_id``, ``target`` and ``label_source`` of the labels used (a label corrected
            since it was read is not marked: its target or source no longer match).
        version_id: The labelled-production data version that holds them.

    Returns:
        How many labels were newly marked (a label keeps the first retraining that used it).
    """
    rows = [
        (version_id, str(r), int(t), str(s))
        for r, t, s in zip(labels["request_id"], labels["target"], labels["label_source"], strict=True)
    ]
    if not rows or not db.exists(log):
        return 0
    conn = connect(log)
    try:
        with conn:
            cur = conn.cursor()
            statement = (
                "UPDATE feedback SET used_by = ? WHERE request_id = ? AND target = ? AND source = ? AND used_by IS NULL"
            )
            cur.executemany(db.sql(conn, statement), rows)
            marked = cur.rowcount
            cur.close()
    finally:
        conn.close()
    return int(marked)
