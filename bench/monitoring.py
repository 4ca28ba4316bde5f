"""Benchmark monitoring: one window of 10,000 / 100,000 / 1,000,000 simulated rows, end to end.

Times :func:`predmaint.monitoring.monitor_window` (Evidently drift + data summary + classification
reports, HTML and JSON written, performance on all rows) plus the trigger decision, after a
warm-up run (imports and Evidently's first-call costs are excluded). The window is the simulator's
``torque_sensor_bias`` scenario with a stand-in score (alarm where a physics rule fires) and 90 %
of the labels arrived; the reference is 7,000 simulated rows. Reports go to a temporary folder.

Run from the project root: ``.venv/bin/python bench/monitoring.py`` (``--rows 10000 100000``,
``--max-rows N`` to change ``monitoring.max_rows_for_drift``). Prints markdown table rows.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from predmaint import physics, schema
from predmaint.config import Params, load_params
from predmaint.config.runtime import disable_telemetry
from predmaint.data.simulate import simulate
from predmaint.monitoring import decide_and_record, monitor_window

BASELINE = {"recall": 0.9, "precision": 0.5, "f1": 0.64, "expected_cost_per_1000": 3.0e4, "error_rate": 0.033}


def scored(params: Params, frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Add a stand-in failure probability and hide 10 % of the labels."""
    risky = np.logical_or.reduce(list(physics.rule_flags(frame, params.physics).values()))
    out = frame.rename(columns={schema.TARGET: "target"})
    out["prediction"] = np.where(risky, 0.9, 0.05)
    out["target"] = out["target"].astype(float).where(np.random.default_rng(seed).random(len(out)) > 0.1)
    return out


def run(params: Params, reference: pd.DataFrame, rows: int, window_id: str) -> tuple[float, float, int]:
    """Monitor one window of ``rows`` rows; return (build s, monitor s, drift rows)."""
    t0 = time.perf_counter()
    window = scored(
        params,
        simulate(params.simulator, params.physics, rows=rows, scenario="torque_sensor_bias", seed=rows),
        seed=rows,
    )
    t1 = time.perf_counter()
    summary = monitor_window(params, reference, window, BASELINE, window_id=window_id)
    decide_and_record(summary, params.monitoring, params.path(params.monitoring.decisions_log))
    t2 = time.perf_counter()
    assert summary.rows == rows and summary.columns[schema.TORQUE]["drifted"]
    return t1 - t0, t2 - t1, summary.drift_rows


def main() -> None:
    """Print ``| rows | rows in Evidently | monitor (s) | … |`` for each size."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--max-rows", type=int, default=None, help="override monitoring.max_rows_for_drift")
    args = parser.parse_args()
    disable_telemetry()
    base = load_params()
    with tempfile.TemporaryDirectory() as tmp:
        monitoring = base.monitoring.model_copy(
            update={
                "decisions_log": Path(tmp) / "decisions.csv",
                **({"max_rows_for_drift": args.max_rows} if args.max_rows else {}),
            }
        )
        paths = base.paths.model_copy(update={"monitoring_dir": Path(tmp)})
        params = base.model_copy(update={"paths": paths, "monitoring": monitoring})
        reference = scored(params, simulate(params.simulator, params.physics, rows=7000, seed=1), seed=1)
        run(params, reference, 2_000, "warmup")
        cpu = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        print(f"max_rows_for_drift = {params.monitoring.max_rows_for_drift:,}; load {os.getloadavg()[0]:.1f}")
        print("| window rows | rows in Evidently | monitor + decide (s) | simulate + score (s) | machine |")
        print("| ---: | ---: | ---: | ---: | --- |")
        for rows in args.rows:
            build, monitor, drift_rows = run(params, reference, rows, f"w{rows}")
            print(f"| {rows:,} | {drift_rows:,} | {monitor:.1f} | {build:.1f} | {cpu} |", flush=True)


if __name__ == "__main__":
    main()
