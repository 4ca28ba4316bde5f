"""``deployment_log.csv``: one row each time a service process starts serving a model version.

Read top to bottom it tells which version was live at any moment and why it changed (startup,
alias change, manual reload, rollback). Rows are appended under an exclusive file lock in a
single write, so several worker processes can share the file.
"""

from __future__ import annotations

import csv
import fcntl
import io
import os
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

REASONS: tuple[str, ...] = ("startup", "alias change", "manual reload", "rollback")


@dataclass(frozen=True)
class Deployment:
    """One row of the deployment log."""

    time: str
    model_name: str
    version: str
    run_id: str
    alias: str
    data_version: str
    git_commit: str
    reason: str
    previous_version: str
    pid: int


FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Deployment))


def now_iso() -> str:
    """The current UTC time, ISO-8601 with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def append(path: Path, row: Deployment) -> None:
    """Append one row (and the header if the file is new or empty).

    Raises:
        ValueError: ``row.reason`` is not one of :data:`REASONS`.
    """
    if row.reason not in REASONS:
        raise ValueError(f"deployment reason {row.reason!r} is not one of {REASONS}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", newline="", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            buf = io.StringIO()
            writer = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
            if os.fstat(fh.fileno()).st_size == 0:
                writer.writeheader()
            writer.writerow(asdict(row))
            fh.write(buf.getvalue())
            fh.flush()
            os.fsync(fh.fileno())
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def read(path: Path) -> pd.DataFrame:
    """The whole log as a DataFrame (empty, with the columns, if the file does not exist yet)."""
    if not path.exists():
        return pd.DataFrame(columns=list(FIELDS))
    return pd.read_csv(path, dtype=str, keep_default_na=False).astype({"pid": int})


def live_at(path: Path, when: str | datetime) -> pd.Series | None:
    """The row that was live at ``when`` (the newest row at or before it), or None."""
    log = read(path)
    if log.empty:
        return None
    stamp = pd.Timestamp(when)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
    times = pd.to_datetime(log["time"], utc=True)
    before = log[times <= stamp]
    return None if before.empty else before.iloc[-1]
