"""The rolling-origin backtest on small simulated data: each origin refits on the past, scores the future."""

from __future__ import annotations

import json

import mlflow
import pytest
from typer.testing import CliRunner

from predmaint.cli import app
from predmaint.config import Params
from predmaint.data import tables
from predmaint.data.simulate import simulate
from predmaint.model.backtest import backtest, origin_split
from tests.model.conftest import SMALL_FOREST, reconfigure


@pytest.fixture
def small(sim_params: Params) -> Params:
    params = reconfigure(
        sim_params,
        model={"algorithm": "random_forest", "random_forest": SMALL_FOREST},
        backtest={"origins": [3000, 4000], "horizon_rows": 1000},
    )
    table = simulate(params.simulator, params.physics, rows=5000, seed=11)
    tables.write_table(table, params.path(params.paths.raw_file))
    mlflow.set_tracking_uri(params.tracking_uri)
    return params


def test_each_origin_fits_before_it_and_scores_the_rows_after_it(small: Params) -> None:
    table = tables.read_table(small.path(small.paths.raw_file))
    history, future = origin_split(table, 3000, 1000, "drop")
    assert history["UDI"].max() <= 3000 and future["UDI"].tolist() == list(range(3001, 4001))
    result = backtest(small, table)
    rows = result.per_origin.set_index("origin")
    assert list(rows.index) == [3000, 4000]
    for origin, row in rows.iterrows():
        fit_high = int(row["fit_udi"].split("-")[1])
        tuned_low, tuned_high = (int(x) for x in row["tuned_udi"].split("-"))
        scored_low, scored_high = (int(x) for x in row["scored_udi"].split("-"))
        assert fit_high < tuned_low <= tuned_high <= origin < scored_low and scored_high == origin + 1000
        assert 0 <= row["brier"] < 0.05 and 0 <= row["f1"] <= 1 and row["rows"] == 1000
        assert "recall_unexplained" in row and "failures_TWF" in row
    assert result.aggregate["mean_f1"] == pytest.approx(rows["f1"].mean())
    assert result.aggregate["min_f1"] == rows["f1"].min()
    with pytest.raises(ValueError, match="leaves no rows"):
        origin_split(table, 5000, 1000, "drop")


def test_cli_logs_a_parent_run_with_one_child_per_origin(small: Params) -> None:
    out = CliRunner().invoke(app, ["--params", str(small.root / "params.yaml"), "backtest"])
    assert out.exit_code == 0, out.output
    report = json.loads((small.path(small.paths.metrics_dir) / "backtest.json").read_text())
    assert [r["origin"] for r in report["per_origin"]] == [3000, 4000]
    client = mlflow.MlflowClient(small.tracking_uri)
    parent = client.get_run(report["mlflow_run_id"])
    assert parent.data.metrics["mean_f1"] == pytest.approx(report["aggregate"]["mean_f1"])
    assert parent.info.run_name.startswith("backtest · 2 origins on "), parent.info.run_name
    (used,) = parent.inputs.dataset_inputs
    assert {t.key: t.value for t in used.tags}["mlflow.data.context"] == "backtest"
    assert len(used.dataset.digest) == 32 and "ai4i2020.csv" in used.dataset.source
    children = client.search_runs(
        [parent.info.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
    )
    assert sorted(c.data.params["origin"] for c in children) == ["3000", "4000"]
    assert all("brier" in c.data.metrics and "expected_cost_per_1000" in c.data.metrics for c in children)
