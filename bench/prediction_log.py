"""Benchmark: prediction-log insert cost per row, random vs time-ordered request ids.

Appends batches of ``--batch`` rows through :class:`~predmaint.service.predlog.PredictionLog`
(one writer thread, WAL, a commit per batch) into a fresh file, then again after ``--prefill``
rows, once with random 128-bit ids and once with the service's UUIDv7-style ids. Prints µs per row.

    python bench/prediction_log.py
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from predmaint.service.predlog import PredictionLog, new_request_id

_rng = random.Random(1)


def _random_id() -> str:
    return f"{_rng.getrandbits(128):032x}"


def _rows(make_id: Callable[[], str], n: int) -> list[tuple[object, ...]]:
    now = time.time()
    return [(make_id(), now, "M", 298.9, 309.1, 1410.0, 45.7, 91.0, 0.1, 0, 0.41, "", "m", "1") for _ in range(n)]


def per_row_us(log: PredictionLog, make_id: Callable[[], str], batches: int, batch: int) -> float:
    """Mean wall time per row of ``batches`` appends of ``batch`` rows, each waited for."""
    started = time.perf_counter()
    for _ in range(batches):
        log.append(_rows(make_id, batch)).result()
    return (time.perf_counter() - started) / (batches * batch) * 1e6


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns the exit code."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batches", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=32, help="rows per append (a micro-batch)")
    ap.add_argument("--prefill", type=int, default=300_000, help="rows written before the second measurement")
    args = ap.parse_args(argv)
    print("| request ids | fresh log µs/row | after prefill µs/row |\n| --- | --- | --- |")
    for name, make_id in (("random 128-bit", _random_id), ("UUIDv7-style (service)", new_request_id)):
        with tempfile.TemporaryDirectory() as tmp:
            log = PredictionLog(Path(tmp) / "predictions.db").start()
            fresh = per_row_us(log, make_id, args.batches, args.batch)
            for _ in range(args.prefill // 1000):
                log.append(_rows(make_id, 1000)).result()
            grown = per_row_us(log, make_id, args.batches, args.batch)
            log.close()
        print(f"| {name} | {fresh:.1f} | {grown:.1f} (+{args.prefill:,} rows) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
