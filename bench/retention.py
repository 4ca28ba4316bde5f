"""Benchmark: pruning a big prediction log (issue 18 item 6), and whether the file stops growing.

Fills an SQLite prediction log in a temp folder with ``--rows`` predictions spread over 60 days (every
other one labelled with a source and marked used by a retraining), prunes it with
``retention.horizon_rows`` = ``--horizon`` (no DVC repository: the manifest is written, nothing
pushed), then appends ``--rows`` − ``--horizon`` new predictions and prunes again. Reports the prune
times and rows/s, the Parquet bytes, and the SQLite file's size after each step (deleted pages are
reused by later inserts, so the file stays at its high-water mark instead of growing)::

    nice .venv/bin/python bench/retention.py --rows 1000000 --horizon 100000
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from predmaint.config import RetentionParams
from predmaint.data.lineage import Manifest
from predmaint.service import predlog, predlog_db
from predmaint.service.retention import prune

NOW = 1_800_000_000.0


def fill(path: Path, rows: int, start: int, seed: int) -> None:
    """Append ``rows`` predictions (ids from ``start``); every other one labelled and marked used."""
    rng = np.random.default_rng(seed)
    predlog.connect(path).close()  # the tables
    conn = sqlite3.connect(path)
    stamps = np.sort(rng.uniform(NOW - 60 * 86_400, NOW - 31 * 86_400, rows)) if start == 0 else None
    if stamps is None:
        stamps = np.sort(rng.uniform(NOW - 30 * 86_400, NOW - 1, rows))
    width = len(predlog_db.PREDICTION_COLUMNS)
    for lo in range(0, rows, 50_000):
        batch = []
        for i in range(lo, min(rows, lo + 50_000)):
            rid = f"{start + i:012d}"
            batch.append((rid, float(stamps[i]), "L", 300.0, 310.0, 1500.0, 40.0, 100.0, 0.2, 0, 0.3, "", "m", "1"))
        with conn:
            conn.executemany(f"INSERT INTO predictions VALUES ({', '.join('?' * width)})", batch)
            labels = [(r[0], 0, None, r[1] + 60, "token:bench", "v1_labelled_production") for r in batch[::2]]
            conn.executemany(
                "INSERT INTO feedback (request_id, target, failure_mode, ts, source, used_by) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                labels,
            )
    conn.close()


def main(argv: list[str] | None = None) -> int:
    """Fill, prune, refill, prune; print and write the numbers."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--horizon", type=int, default=100_000)
    ap.add_argument("--batch-rows", type=int, default=100_000)
    ap.add_argument("--out", type=Path, default=Path("reports/bench/retention.json"))
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-retention-"))
    log, folder = work / "predictions.db", work / "archive"
    manifest = Manifest(work / "manifest.csv", work)
    retention = RetentionParams(horizon_rows=args.horizon, label_expiry_days=30, archive_batch_rows=args.batch_rows)
    results: dict[str, object] = {"rows": args.rows, "horizon_rows": args.horizon, "batch_rows": args.batch_rows}
    fill(log, args.rows, 0, 1)
    results["db_mb_full"] = round(log.stat().st_size / 1e6, 1)
    for step in ("first", "second"):
        started = time.perf_counter()
        done = prune(log, folder, retention, manifest, now=NOW)
        seconds = time.perf_counter() - started
        results[f"{step}_prune"] = {
            "archived": done.archived,
            "files": len(done.files),
            "seconds": round(seconds, 1),
            "rows_per_s": round(done.archived / seconds) if seconds else None,
            "live_rows": predlog.counts(log)["predictions"],
            "db_mb": round(log.stat().st_size / 1e6, 1),
        }
        if step == "first":
            fill(log, args.rows - args.horizon, args.rows, 2)
            results["db_mb_after_refill"] = round(log.stat().st_size / 1e6, 1)
    results["parquet_mb"] = round(sum(p.stat().st_size for p in folder.iterdir()) / 1e6, 1)
    started = time.perf_counter()
    results["read_all_rows"] = len(predlog.read_window(log, archive=folder))
    results["read_all_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(results, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
