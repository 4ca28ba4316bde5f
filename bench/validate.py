"""Benchmark the data-quality gate: GX validation of 10,000 rows after imports (best, median, CPU).

Run from the project root: ``.venv/bin/python bench/validate.py`` (``--repeat``, ``--rows``).
Uses the real AI4I file when ``data.csv_path`` exists, otherwise the simulator. A throw-away
project (temp dir) receives the stored results; nothing in the repository is written. Prints a
markdown table for the "Data validation" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import yaml

from predmaint import schema
from predmaint.config import Params, load_params
from predmaint.config.runtime import disable_telemetry


def _project(params: Params, root: Path) -> Params:
    """A temp project with the repository's params and contract."""
    raw = yaml.safe_load((params.root / "params.yaml").read_text())
    raw["data"]["csv_path"] = str(params.path(params.data.csv_path))
    shutil.copytree(params.root / "expectations", root / "expectations")
    (root / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    return load_params(root / "params.yaml", environ={})


def _source(params: Params, rows: int) -> tuple[pd.DataFrame, str]:
    """The first ``rows`` rows of the real file, or simulated rows if it is missing or too short."""
    csv = params.path(params.data.csv_path)
    if csv.is_file():
        frame = pd.read_csv(csv, encoding="utf-8-sig")
        if rows <= len(frame):
            return frame.iloc[:rows], "real AI4I"
    from predmaint.data.simulate import simulate

    return simulate(params.simulator, params.physics, rows=rows), "simulator"


def _time(fn: Callable[[], object], repeat: int) -> tuple[float, float, float]:
    """Best and median wall time, and best CPU time of this process, over ``repeat`` calls."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), statistics.median(walls), min(cpus)


def main() -> None:
    """Time the gate and print the markdown rows."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    disable_telemetry()
    with tempfile.TemporaryDirectory() as tmp:
        params = _project(load_params(), Path(tmp))
        frame, source = _source(params, args.rows)
        day = frame[[*schema.ID_COLUMNS, *schema.FEATURE_COLUMNS]].iloc[:500]
        csv = Path(tmp) / "batch.csv"
        frame.to_csv(csv, index=False)

        start, start_cpu = time.perf_counter(), time.process_time()
        from predmaint.quality.gate import quiet_gx_logging, validate_file, validate_frame

        quiet_gx_logging()
        first = validate_frame(params, frame, "raw", "bench")
        cold, cold_cpu = time.perf_counter() - start, time.process_time() - start_cpu
        assert first.success, first.summary["failures"]
        rows = [
            ("first call: import GX + build context + validate", (cold, cold, cold_cpu)),
            (
                f"`validate_frame` raw suite, {len(frame):,} rows",
                _time(lambda: validate_frame(params, frame, "raw", "bench"), args.repeat),
            ),
            (
                "`validate_frame` production suite, 500 rows (a day)",
                _time(lambda: validate_frame(params, day, "production", "day"), args.repeat),
            ),
            (
                f"`validate_file` raw, {len(frame):,} rows (read CSV, validate, store, manifest)",
                _time(lambda: validate_file(params, csv, "raw"), args.repeat),
            ),
        ]
    expectations = first.summary["statistics"]["evaluated_expectations"]
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"source: {source}; raw suite: {expectations} expectations; {machine}; load average {load}")
    print(f"| step | best of {args.repeat} (s) | median (s) | best CPU time (s) |")
    print("| --- | ---: | ---: | ---: |")
    for label, (best, median, cpu) in rows:
        print(f"| {label} | {best:.3f} | {median:.3f} | {cpu:.3f} |")


if __name__ == "__main__":
    main()
