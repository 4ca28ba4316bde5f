"""Batch scoring through the real champion: library, Prefect flow (threads and Dask), CLI.

One module-scoped project trains a small forest on the real data, registers it in a SQLite MLflow
store under tmp and promotes it to @champion; every test scores files against that champion.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from predmaint import schema
from predmaint.config import Params
from predmaint.data.tables import SchemaError, read_table
from predmaint.model import batch
from tests.conftest import HAVE_REAL_DATA, REAL_DATA, make_project
from tests.model.conftest import SMALL_FOREST, prepare_data, reconfigure

pytestmark = pytest.mark.skipif(not HAVE_REAL_DATA, reason=f"real AI4I data not found at {REAL_DATA}")

CHUNK = 613  # not a divisor of the row count: the last chunk is partial
BAD: dict[int, tuple[str, Any, str]] = {  # row position -> (column, value, what the error must name)
    5: (schema.TORQUE, 150.0, "Torque [Nm]: 150 is outside [0, 100] Nm"),
    700: (schema.AIR_TEMP, np.nan, "Air temperature [K]: missing value"),
    1300: (schema.TYPE, "X", "Type: 'X' is not one of"),
    1301: (schema.TOOL_WEAR, -3, "Tool wear [min]: -3 is outside [0, 300] min"),
    2999: (schema.PROCESS_TEMP, 280.0, "Process temperature [K]: 280 is outside [290, 335] K"),
}


@pytest.fixture(scope="module")
def champion(tmp_path_factory: pytest.TempPathFactory) -> Params:
    """A project with a 20-tree forest registered and promoted to @champion."""
    from predmaint.model.promote import promote
    from predmaint.model.run import train

    params = make_project(
        tmp_path_factory.mktemp("batch") / "proj",
        data={"source_order": ["path"]},
        model={"algorithm": "random_forest", "random_forest": SMALL_FOREST},
    )
    prepare_data(params)
    train(params)
    assert promote(params).promoted
    return params


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    """The real production rows (UDI 7001-10000) with five rows broken in different ways."""
    frame = read_table(REAL_DATA).iloc[7000:].reset_index(drop=True)
    frame[schema.TYPE] = frame[schema.TYPE].astype(object)
    for pos, (column, value, _) in BAD.items():
        frame.loc[pos, column] = value
    return frame


def _expected(params: Params, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, str, float]:
    from predmaint.model.registry import load_model

    model = load_model(params)
    valid = ~frame.index.isin(list(BAD))
    proba = np.full(len(frame), np.nan)
    proba[valid] = model.predict_proba(frame.loc[valid])
    return proba, valid, model.version, model.threshold


def _check(params: Params, frame: pd.DataFrame, out: pd.DataFrame) -> None:
    proba, valid, version, threshold = _expected(params, frame)
    assert list(out.columns) == [*schema.ID_COLUMNS, *batch.RESULT_COLUMNS]
    assert len(out) == len(frame)
    assert out[schema.UDI].tolist() == frame[schema.UDI].tolist()  # chunk order preserved
    assert out[schema.PRODUCT_ID].tolist() == frame[schema.PRODUCT_ID].tolist()
    np.testing.assert_allclose(out[batch.PROBABILITY].to_numpy(float)[valid], proba[valid], rtol=0, atol=1e-12)
    predicted = out[batch.PREDICTED].astype("boolean")
    assert predicted[valid].tolist() == (proba[valid] >= threshold).tolist()
    assert out[batch.PROBABILITY][~valid].isna().all() and predicted[~valid].isna().all()
    assert out[batch.ERROR][valid].isna().all()
    for pos, (_, _, message) in BAD.items():
        assert message in str(out.loc[pos, batch.ERROR])
    assert set(out[batch.MODEL_VERSION].astype(str)) == {version}
    assert set(out[batch.MODEL_NAME]) == {params.mlflow.registered_model}
    assert proba[valid].max() > threshold  # the production rows include predicted failures


def _write(frame: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False, row_group_size=1000)
    else:
        frame.to_csv(path, index=False)
    return path


def _read(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_library_scores_every_row_in_order(champion: Params, rows: pd.DataFrame, tmp_path: Path, suffix: str) -> None:
    source = _write(rows, tmp_path / f"readings{suffix}")
    result = batch.score_file(champion, source, chunk_rows=CHUNK)
    assert result.output_path == tmp_path / f"readings.predictions{suffix}"
    assert (result.rows, result.invalid_rows, result.chunks) == (len(rows), len(BAD), -(-len(rows) // CHUNK))
    assert not any(p.name.endswith(".parts") for p in tmp_path.iterdir())
    _check(champion, rows, _read(result.output_path))


def test_bad_files_are_refused_with_the_reason(champion: Params, rows: pd.DataFrame, tmp_path: Path) -> None:
    source = _write(rows.drop(columns=[schema.TORQUE]), tmp_path / "no_torque.csv")
    with pytest.raises(SchemaError, match=r"missing column\(s\): Torque \[Nm\]"):
        batch.plan(champion, source)
    good = _write(rows, tmp_path / "ok.csv")
    with pytest.raises(batch.BatchInputError, match="output must be csv"):
        batch.plan(champion, good, tmp_path / "out.parquet")
    with pytest.raises(batch.BatchInputError, match="unsupported file type"):
        batch.plan(champion, _write(rows, tmp_path / "x.json"))
    with pytest.raises(batch.BatchInputError, match="not found"):
        batch.plan(champion, tmp_path / "missing.csv")


def test_a_missing_chunk_stops_the_assembly(champion: Params, rows: pd.DataFrame, tmp_path: Path) -> None:
    job = batch.plan(champion, _write(rows, tmp_path / "r.csv"), chunk_rows=CHUNK)
    chunks = list(batch.iter_chunks(job.input_path, job.chunk_rows, job.columns))
    results = [batch.run_chunk(champion, job, i, c) for i, c in enumerate(chunks) if i != 2]
    with pytest.raises(RuntimeError, match=r"missing scored chunk"):
        batch.assemble(job, results)
    assert not job.output_path.exists()


def _task_runs(flow_run_id: object) -> list[tuple[str, str]]:
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, FlowRunFilterParentFlowRunId

    with get_client(sync_client=True) as client:
        children = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[flow_run_id]))
        )
        ids = [c.id for c in children]
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids)))
    return sorted((r.name, r.state_name or "") for r in runs)


def _run_flow(champion: Params, source: Path, rows: int, **options: Any) -> dict[str, Any]:
    from flows.batch_scoring import batch_scoring

    params_path = str(champion.root / "params.yaml")
    state = batch_scoring(
        input_path=str(source), chunk_rows=CHUNK, params_path=params_path, return_state=True, **options
    )
    assert state.is_completed(), state
    result: dict[str, Any] = state.result()
    chunks = -(-rows // CHUNK)
    assert result["chunks"] == chunks
    # every chunk is a task run recorded in the flow's Prefect API, also when it ran on a Dask worker
    assert _task_runs(state.state_details.flow_run_id) == sorted(
        (f"score-chunk-{i}", "Completed") for i in range(chunks)
    )
    return result


def test_flow_on_the_thread_runner(champion: Params, rows: pd.DataFrame, tmp_path: Path) -> None:
    source = _write(rows, tmp_path / "in" / "readings.csv")
    result = _run_flow(champion, source, len(rows), output_path=str(tmp_path / "out" / "scored.csv"))
    assert result["output_path"] == str(tmp_path / "out" / "scored.csv")
    assert (result["rows"], result["invalid_rows"], result["task_runner"]) == (len(rows), len(BAD), "thread")
    _check(champion, rows, _read(tmp_path / "out" / "scored.csv"))


def test_flow_on_an_existing_dask_cluster(champion: Params, rows: pd.DataFrame, tmp_path: Path) -> None:
    from distributed import LocalCluster

    source = _write(rows, tmp_path / "readings.parquet")
    batch._models.clear()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        result = _run_flow(champion, source, len(rows), task_runner="dask", dask_address=cluster.scheduler_address)
    assert (result["rows"], result["invalid_rows"], result["task_runner"]) == (len(rows), len(BAD), "dask")
    assert len(batch._models) == 1  # in-process workers: the model was loaded once, not per chunk
    _check(champion, rows, _read(tmp_path / "readings.predictions.parquet"))


def test_flow_on_a_local_dask_cluster_of_worker_processes(champion: Params, rows: pd.DataFrame, tmp_path: Path) -> None:
    params = reconfigure(champion, orchestration={"dask_workers": 1})
    source = _write(rows, tmp_path / "readings.csv")
    try:
        result = _run_flow(params, source, len(rows), task_runner="dask")
    finally:
        reconfigure(champion, orchestration={"dask_workers": champion.orchestration.dask_workers})
    assert result["rows"] == len(rows)
    _check(champion, rows, _read(tmp_path / "readings.predictions.csv"))


def test_cli_batch_without_prefect(champion: Params, rows: pd.DataFrame, tmp_path: Path) -> None:
    from predmaint.cli import batch as batch_cli
    from predmaint.config import load_params

    app = typer.Typer()

    @app.callback()
    def main(ctx: typer.Context) -> None:
        ctx.obj = champion.root / "params.yaml"

    batch_cli.register(app, lambda ctx: load_params(ctx.find_root().obj, environ={}))
    source = _write(rows, tmp_path / "readings.csv")
    out = CliRunner().invoke(app, ["batch", str(source), "--runner", "none", "--chunk-rows", str(CHUNK)])
    assert out.exit_code == 0, out.output
    assert f"{len(rows)} rows scored" in out.output and f"({len(BAD)} invalid" in out.output
    _check(champion, rows, _read(tmp_path / "readings.predictions.csv"))
    bad = CliRunner().invoke(app, ["batch", str(tmp_path / "nope.csv"), "--runner", "none"])
    assert bad.exit_code == 1 and "input file not found" in bad.output
