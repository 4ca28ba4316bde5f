"""Reading the prediction log: predictions joined with their labels, live rows and archived ones.

Retention (:mod:`predmaint.service.retention`) moves old rows out of the live log into Parquet files
under ``paths.prediction_archive_dir``; :func:`read_window` reads across both when given that folder,
so a window that reaches back past the live log returns the rows it returned before they were
archived. Archive files are named ``predlog_<first ms>-<last ms>_<written ns>.parquet``, so a read
opens only the files that overlap the window; a row that is both live and archived (its label changed
while it was being archived, so it stayed) is read from the live log, and a row archived twice from
the newer file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from predmaint import schema
from predmaint.service import predlog_db as db
from predmaint.service.predlog_db import PREDICTION_COLUMNS, Location

if TYPE_CHECKING:
    from predmaint.config import Params

LABEL_COLUMNS: tuple[str, ...] = ("target", "failure_mode", "feedback_ts", "label_source")
RAW_COLUMNS: tuple[str, ...] = (*PREDICTION_COLUMNS, *LABEL_COLUMNS, "seq")
"""A log row as stored (and as archived): the prediction, its label, and ``seq`` — the insertion order
(SQLite's rowid; PostgreSQL's time-ordered request id) that breaks ties of equal timestamps."""
FIELDS = (
    "p.*, f.target AS target, f.failure_mode AS failure_mode, f.ts AS feedback_ts, "
    "f.source AS label_source, p.rowid AS seq"
)
FROM = " FROM predictions p LEFT JOIN feedback f USING (request_id)"
SELECT = f"SELECT {FIELDS}{FROM}"
ARCHIVE_NAME = re.compile(r"^predlog_(\d+)-(\d+)_(\d+)\.parquet$")


def location(params: Params) -> Location:
    """Where the log lives: ``paths.prediction_log_url`` (PostgreSQL) or else ``paths.prediction_log``."""
    return params.paths.prediction_log_url or params.path(params.paths.prediction_log)


def archive_location(params: Params) -> Path:
    """The folder of the log's archived rows (``paths.prediction_archive_dir``)."""
    return params.path(params.paths.prediction_archive_dir)


def _seconds(since: float | pd.Timestamp | str | None) -> float | None:
    if isinstance(since, str | pd.Timestamp):
        stamp = pd.Timestamp(since)
        return float((stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp).timestamp())
    return None if since is None else float(since)


def read_live(path: Location, since: float | None = None, limit: int | None = None) -> pd.DataFrame:
    """Raw rows (:data:`RAW_COLUMNS`) of the live log after ``since``, the newest ``limit``, oldest first."""
    sql, args = SELECT, []
    if since is not None:
        sql += " WHERE p.ts > ?"
        args.append(float(since))
    sql += " ORDER BY p.ts DESC, p.rowid DESC"
    if limit is not None:
        sql += " LIMIT ?"
        args.append(int(limit))
    if not db.exists(path):
        return pd.DataFrame(columns=list(RAW_COLUMNS))
    conn = db.connect(path, (), readonly=True)
    try:
        frame = db.frame(conn, sql, args)
    finally:
        conn.close()
    return frame.iloc[::-1].reset_index(drop=True)


def archive_files(folder: Path, newer_than: float | None = None) -> list[Path]:
    """The archive's Parquet files, in the order they were written; only those holding a row with a
    timestamp at or after ``newer_than`` (UNIX seconds) when given."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        m = ARCHIVE_NAME.match(path.name)
        if m and (newer_than is None or int(m.group(2)) / 1000 >= newer_than - 0.001):
            found.append((int(m.group(3)), path))
    return [p for _, p in sorted(found)]


def read_archive(folder: Path, newer_than: float | None = None) -> pd.DataFrame:
    """Raw rows of the archive (the newest copy of each id), those at or after ``newer_than`` if given."""
    frames = [pd.read_parquet(p, columns=list(RAW_COLUMNS)) for p in archive_files(folder, newer_than)]
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=list(RAW_COLUMNS))
    rows = pd.concat(frames, ignore_index=True).drop_duplicates("request_id", keep="last")
    return rows if newer_than is None else rows[rows["ts"] >= newer_than]


def merge(live: pd.DataFrame, archived: pd.DataFrame, since: float | None, limit: int | None) -> pd.DataFrame:
    """Live and archived raw rows as one window (live wins for an id in both), oldest first."""
    if archived.empty:
        return live
    archived = archived[~archived["request_id"].isin(live["request_id"])]
    if since is not None:
        archived = archived[archived["ts"] > since]
    rows = pd.concat([archived, live], ignore_index=True) if len(live) else archived.reset_index(drop=True)
    rows = rows.sort_values(["ts", "seq"], kind="stable").reset_index(drop=True)
    if limit is not None:
        rows = rows.iloc[len(rows) - min(limit, len(rows)) :].reset_index(drop=True)
    return rows


def read_window(
    path: Location,
    since: float | pd.Timestamp | str | None = None,
    limit: int | None = None,
    archive: Path | None = None,
) -> pd.DataFrame:
    """Predictions joined with their feedback, oldest first — what monitoring and retraining read.

    Args:
        path: The SQLite file (``paths.prediction_log``) or a ``postgresql://`` URL (:func:`location`).
        since: Only predictions made strictly after this time (UNIX seconds or a timestamp).
        limit: Only the newest ``limit`` predictions (after ``since``).
        archive: The folder of archived rows (:func:`archive_location`); read when the window reaches
            back past the live rows. None reads the live log only.

    Returns:
        One row per prediction: the AI4I feature columns (``Type``, ``Air temperature [K]`` …),
        ``prediction`` (failure probability), ``decision`` (0/1), ``threshold``, ``predicted_modes``,
        ``model_name``, ``model_version``, ``request_id``, ``timestamp`` (UTC), ``target`` (the label,
        NaN without feedback), ``failure_mode`` (from feedback), ``feedback_timestamp`` and
        ``label_source``. An empty frame with these columns if there is nothing to read.
    """
    after = _seconds(since)
    live = read_live(path, after, limit)
    if archive is not None:
        floor = after
        if limit is not None and len(live) >= limit:  # archived rows can only matter from the live oldest on
            floor = float(live["ts"].min()) if len(live) else floor
        live = merge(live, read_archive(archive, floor), after, limit)
    return _shape(live)


def read_log(params: Params, since: float | pd.Timestamp | str | None = None, limit: int | None = None) -> pd.DataFrame:
    """:func:`read_window` on the project's log, across its archive (``paths.prediction_archive_dir``)."""
    return read_window(location(params), since, limit, archive=archive_location(params))


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
    out = frame.drop(columns=["seq"], errors="ignore").reset_index(drop=True)
    out = out.rename(columns={**schema.FROM_SNAKE_CASE, "probability": "prediction"})
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
    """Number of predictions and of labelled predictions in the live log."""
    if not db.exists(path):
        return {"predictions": 0, "labelled": 0}
    conn = db.connect(path, (), readonly=True)
    try:
        n = db.execute(conn, "SELECT (SELECT COUNT(*) FROM predictions), (SELECT COUNT(*) FROM feedback)")[0]
    finally:
        conn.close()
    return {"predictions": int(n[0]), "labelled": int(n[1])}
