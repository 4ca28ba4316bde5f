"""Benchmark the simulator: wall time of ``simulate`` for 1,000,000 rows (best of 3, after imports).

Run from the project root: ``.venv/bin/python bench/simulator.py`` (``--rows``, ``--repeat``,
``--scenario`` to vary it). Prints one markdown table row for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

from predmaint.config import load_params
from predmaint.config.runtime import disable_telemetry
from predmaint.data.simulate import simulate


def main() -> None:
    """Time the simulator and print ``| rows | scenario | best | median | rows/s | machine |``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scenario", default=None)
    args = parser.parse_args()
    disable_telemetry()
    params = load_params()
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        frame = simulate(params.simulator, params.physics, rows=args.rows, scenario=args.scenario)
        times.append(time.perf_counter() - start)
    assert len(frame) == args.rows
    best, median = min(times), sorted(times)[len(times) // 2]
    cpu = platform.processor() or platform.machine()
    machine = f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"| rows | scenario | best of {args.repeat} (s) | median (s) | rows/s | machine |")
    print("| ---: | --- | ---: | ---: | ---: | --- |")
    print(
        f"| {args.rows:,} | {args.scenario or 'baseline'} | {best:.2f} | {median:.2f} | "
        f"{args.rows / best:,.0f} | {machine} |"
    )


if __name__ == "__main__":
    main()
