"""Training, registry aliases, the promotion gate, rollback and serving-side loading on real MLflow stores."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from predmaint import schema
from predmaint.cli import app
from predmaint.config import Params
from predmaint.model import features
from predmaint.model.registry import RegistryError, client, load_model, metadata_path, promote, rollback
from predmaint.model.run import train
from predmaint.model.train import production_stream, read_training_data
from tests.model.conftest import reconfigure


def _aliases(params: Params) -> dict[str, str]:
    model = client(params).get_registered_model(params.mlflow.registered_model)
    return {alias: str(version) for alias, version in model.aliases.items()}


def test_train_registers_challenger_with_metadata_and_tags(project: Params) -> None:
    result = train(project)
    assert result.version == "1"
    assert _aliases(project) == {project.mlflow.challenger_alias: "1"}
    meta = json.loads(metadata_path(project, "1").read_text())
    assert meta["threshold"] == result.threshold
    assert meta["data"]["md5"] and meta["data"]["version_id"] != "unrecorded"
    assert meta["git"]["commit"] and meta["params"]["model"]["random_forest"]["n_estimators"] == 20
    assert meta["metrics"]["production"]["recall_HDF"] is None  # no HDF in production: n/a, not 0
    mv = client(project).get_model_version(project.mlflow.registered_model, "1")
    assert float(mv.tags["threshold"]) == result.threshold
    assert mv.tags["data_md5"] == meta["data"]["md5"]
    run = client(project).get_run(result.run_id)
    assert {"git_commit", "git_dirty", "data_md5", "data_version", "params_hash"} <= set(run.data.tags)
    assert run.data.params["model.n_estimators"] == "20"
    artifacts = {a.path for a in client(project).list_artifacts(result.run_id, "plots")}
    assert {"plots/pr_curve_validation.png", "plots/confusion_validation.png"} <= artifacts
    assert {"plots/calibration_validation.png", "plots/feature_importance.png"} <= artifacts
    assert (project.path(project.paths.metrics_dir) / "train.json").is_file()
    assert result.metrics["production_rows"] == 3000


def test_served_model_gives_in_process_probabilities(project: Params) -> None:
    from predmaint.model.train import fit

    result = train(project)
    loaded = load_model(project, alias=project.mlflow.challenger_alias)
    assert (loaded.version, loaded.threshold, loaded.run_id) == (
        result.version,
        result.threshold,
        result.run_id,
    )
    stream = production_stream(project)
    assert stream is not None
    in_process = fit(project, read_training_data(project.path(project.paths.reference))).pipeline
    x = features.model_input(stream)
    served = loaded.pipeline.predict_proba(x)[:, 1]
    np.testing.assert_array_equal(served, in_process.predict_proba(x)[:, 1])
    fast = features.fast_predict_proba(
        loaded.pipeline, stream[schema.TYPE].to_numpy(), stream[list(schema.NUMERIC_FEATURES)].to_numpy(float)
    )
    np.testing.assert_allclose(fast, served, rtol=0, atol=1e-12)


def test_gate_refuses_an_equal_challenger_and_promotes_a_better_one_then_rollback(project: Params) -> None:
    weak = reconfigure(
        project,
        model={"random_forest": {**project.model.random_forest, "max_depth": 1, "n_estimators": 3}},
        promotion={"minimums": {"f1": 0.0}},
    )
    train(weak)
    first = promote(weak)
    assert first.promoted and first.champion is None
    assert _aliases(weak)["champion"] == "1"

    train(weak)  # identical configuration: no gain
    same = promote(weak)
    assert not same.promoted and same.champion == "1"
    assert any("min_gain" in r for r in same.reasons)
    assert _aliases(weak) == {"champion": "1", "challenger": "2"}

    strong = reconfigure(weak, model={"random_forest": project.model.random_forest})
    train(strong)
    better = promote(strong)
    assert better.promoted, better.reasons
    assert better.challenger_metrics["expected_cost_per_1000"] < better.champion_metrics["expected_cost_per_1000"]
    assert _aliases(strong) == {"champion": "3", "challenger": "3"}
    tags = client(strong).get_model_version(strong.mlflow.registered_model, "1").tags
    assert tags["gate_decision"] == "promoted" and "v3" in tags["gate_reasons"]

    with strong.path(strong.paths.promotions_log).open(newline="") as fh:
        log = list(csv.DictReader(fh))
    assert [r["promoted"] for r in log] == ["true", "false", "true"]

    back = rollback(strong)
    assert (back.from_version, back.to_version) == ("3", "1")
    assert _aliases(strong)["champion"] == "1"
    assert load_model(strong).version == "1"
    with pytest.raises(RegistryError, match="no previous champion"):
        rollback(strong)


def test_gate_uses_the_production_window_and_cli_exit_codes(project: Params) -> None:
    train(project)
    stream = production_stream(project)
    assert stream is not None
    window = project.root / "window.csv"
    stream.iloc[:1000].to_csv(window, index=False)
    runner = CliRunner()
    args = ["--params", str(project.root / "params.yaml"), "promote", "--window", str(window)]
    ok = runner.invoke(app, args)
    assert ok.exit_code == 0, ok.output
    assert f"gate rows: {project.training.validation_rows + 1000}" in ok.output
    again = runner.invoke(app, args)
    assert again.exit_code == 3 and "already the champion" in again.output
