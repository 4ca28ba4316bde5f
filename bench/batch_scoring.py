"""Benchmark: batch scoring of 1,000,000 simulated rows through the champion (not a test).

Builds a throw-away project on the real data (ingest → GX gate → split → clean), trains the default
model of params.yaml and promotes it, simulates ``--rows`` readings (CSV and Parquet), then scores
them: in-process without Prefect, through the ``batch-scoring`` flow on the thread runner, on a
temporary local Dask cluster (cluster start included), and on an already running Dask cluster of
worker processes (warm: the model is already loaded in each worker). Prints a Markdown table.

    .venv/bin/python bench/batch_scoring.py                # 1,000,000 rows
    .venv/bin/python bench/batch_scoring.py --rows 200000
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _project(root: Path) -> Any:
    from predmaint.model.promote import promote
    from predmaint.model.run import train
    from tests.conftest import make_project
    from tests.model.conftest import prepare_data

    params = make_project(root, data={"source_order": ["path"]})
    prepare_data(params)
    train(params)
    assert promote(params).promoted
    return params


def _row(label: str, fmt: str, result: dict[str, Any], wall: float) -> str:
    return (
        f"| {label} | {fmt} | {result['chunks']} | {result['rows']:,} | {result['invalid_rows']} "
        f"| {result['seconds']:.1f} | {result['rows_per_s']:,.0f} | {wall:.1f} |"
    )


def main() -> None:
    """Print the rows/s table for every runner."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()

    from predmaint.config.runtime import disable_telemetry

    disable_telemetry()
    tmp = Path(tempfile.mkdtemp(prefix="predmaint-bench-batch-"))
    os.environ.setdefault("PREFECT_HOME", str(tmp / "prefect"))
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    try:
        import numpy as np
        import pandas as pd
        from distributed import LocalCluster
        from prefect import get_client

        from flows.batch_scoring import batch_scoring
        from predmaint.data.simulate import simulate
        from predmaint.model import batch

        params = _project(tmp / "proj")
        params_path = str(params.root / "params.yaml")
        o = params.orchestration
        frame = simulate(params.simulator, params.physics, rows=args.rows)
        csv, parquet = tmp / "readings.csv", tmp / "readings.parquet"
        frame.to_csv(csv, index=False)
        frame.to_parquet(parquet, index=False)
        print(
            f"{args.rows:,} simulated rows; chunk_rows {o.batch_chunk_rows:,}; "
            f"{o.batch_max_concurrency} chunks in flight; {o.dask_workers} Dask workers; {os.cpu_count()} cores\n"
        )
        print("| runner | format | chunks | rows | invalid | scoring s | rows/s | wall s |")
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        outputs: dict[str, Path] = {}

        def flow(label: str, source: Path, **options: Any) -> None:
            out = tmp / f"out-{len(outputs)}{source.suffix}"
            started = time.perf_counter()
            result = batch_scoring(input_path=str(source), output_path=str(out), params_path=params_path, **options)
            print(_row(label, source.suffix[1:], result, time.perf_counter() - started), flush=True)
            outputs[label + source.suffix] = out

        started = time.perf_counter()
        done = batch.score_file(params, csv, tmp / "out-seq.csv")
        summary: dict[str, Any] = {"chunks": done.chunks, "rows": done.rows, "invalid_rows": done.invalid_rows}
        summary |= {"seconds": done.seconds, "rows_per_s": done.rows_per_s}
        print(_row("no Prefect, sequential (`score_file`)", "csv", summary, time.perf_counter() - started))
        outputs["seq.csv"] = tmp / "out-seq.csv"
        flow("Prefect thread runner", csv)
        flow("Prefect thread runner", parquet)
        flow("Prefect + temporary local Dask cluster (start included)", csv, task_runner="dask")
        with get_client(sync_client=True) as client:
            api_url = str(client.api_url)
        with LocalCluster(
            n_workers=o.dask_workers,
            threads_per_worker=o.dask_threads_per_worker,
            host=o.dask_host,
            dashboard_address=None,
            env={"PREFECT_API_URL": api_url},
        ) as cluster:
            address = cluster.scheduler_address
            flow("Prefect + running Dask cluster (1st run: loads model)", csv, task_runner="dask", dask_address=address)
            flow("Prefect + running Dask cluster (warm)", csv, task_runner="dask", dask_address=address)
            flow("Prefect + running Dask cluster (warm)", parquet, task_runner="dask", dask_address=address)
        reference = pd.read_csv(outputs["seq.csv"])["failure_probability"].to_numpy()
        for name, path in outputs.items():
            got = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
            same = np.allclose(
                got["failure_probability"].to_numpy(float), reference, rtol=0, atol=1e-12, equal_nan=True
            )
            assert same, f"{name}: probabilities differ from the sequential run"
        print(f"\nall {len(outputs)} outputs hold the same probabilities, row for row")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
