"""Is the prediction log writable right now? A probe write through the log's own writer thread.

``/ready`` must not say "ready" while every prediction would fail, so it asks the writer to commit
a one-row heartbeat (the same thread, connection and file the predictions use) within a short
timeout, and checks that the file at the configured path is still the one the writer has open.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

from predmaint.service import predlog_db as db
from predmaint.service.predlog import PredictionLog
from predmaint.service.predlog_db import Location

PROBE_TIMEOUT_S = 3.0


def file_identity(path: Location) -> tuple[int, int] | None:
    """``(device, inode)`` of a file, None if it does not exist or the log is a database URL."""
    if db.is_postgres(path):
        return None
    try:
        st = Path(path).stat()
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


def heartbeat(conn: Any) -> None:
    """Commit one row into the log's heartbeat table (run on the writer thread)."""
    with conn:
        db.lock_schema(conn)  # replicas' first probes would race to create the table
        db.execute(conn, "CREATE TABLE IF NOT EXISTS heartbeat (pid INTEGER PRIMARY KEY, ts DOUBLE PRECISION NOT NULL)")
        db.execute(
            conn,
            "INSERT INTO heartbeat VALUES (?, ?) ON CONFLICT (pid) DO UPDATE SET ts = excluded.ts",
            (os.getpid(), time.time()),
        )


async def log_problem(
    predlog: PredictionLog, opened: tuple[int, int] | None, timeout_s: float = PROBE_TIMEOUT_S
) -> str | None:
    """Why the prediction log cannot take writes now, or None if a probe write committed.

    Args:
        predlog: The running log.
        opened: :func:`file_identity` of the log when the writer opened it.
        timeout_s: How long the probe may wait for the writer.
    """
    path = db.display(predlog.path)
    if opened is not None and file_identity(predlog.path) != opened:
        return f"prediction log {path} was removed or replaced since the service opened it"
    try:
        # shield: a timed-out probe must not cancel the writer's future (it completes it later)
        await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(predlog.submit(heartbeat))), timeout_s)
    except TimeoutError:
        return f"prediction log {path} did not take a write within {timeout_s:g} s (locked or stalled)"
    except Exception as exc:
        return f"prediction log {path} cannot be written: {type(exc).__name__}: {str(exc)[:200]}"
    return None
