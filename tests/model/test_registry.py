"""Training, registry aliases, the promotion gate, rollback and serving-side loading on real MLflow stores."""

from __future__ import annotations

import csv
import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from predmaint import schema
from predmaint.cli import app
from predmaint.config import Params
from predmaint.model import features
from predmaint.model.promote import promote, used_range
from predmaint.model.registry import RegistryError, client, load_model, metadata_path, rollback
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
    from predmaint.model.train import FitSettings, fit

    result = train(project)
    loaded = load_model(project, alias=project.mlflow.challenger_alias)
    assert (loaded.version, loaded.threshold, loaded.run_id) == (
        result.version,
        result.threshold,
        result.run_id,
    )
    stream = production_stream(project)
    assert stream is not None
    in_process = fit(FitSettings.of(project), read_training_data(project.path(project.paths.reference))).pipeline
    x = features.model_input(stream)
    served = loaded.pipeline.predict_proba(x)[:, 1]
    np.testing.assert_array_equal(served, in_process.predict_proba(x)[:, 1])
    fast = features.fast_predict_proba(
        loaded.pipeline, stream[schema.TYPE].to_numpy(), stream[list(schema.NUMERIC_FEATURES)].to_numpy(float)
    )
    np.testing.assert_allclose(fast, served, rtol=0, atol=1e-12)


def _tags(params: Params, version: str) -> dict[str, str]:
    return dict(client(params).get_model_version(params.mlflow.registered_model, version).tags)


def test_gate_refuses_an_equal_challenger_and_promotes_a_better_one_then_rollback(project: Params) -> None:
    # Never raises an alarm (calibrated probabilities stay below 1): clearly worse than the default.
    weak = reconfigure(project, training={"threshold": 1.0}, promotion={"minimums": {"f1": 0.0, "recall": 0.0}})
    train(weak)
    first = promote(weak)
    assert first.promoted and first.champion is None
    assert first.rows == 3000 and "production stream" in first.rows_source  # rows 7,001-10,000
    assert _aliases(weak)["champion"] == "1"

    train(weak)  # identical configuration: no gain
    same = promote(weak)
    assert not same.promoted and same.champion == "1"
    assert any("lower bound +0 <= 0" in r for r in same.reasons), same.reasons
    assert _aliases(weak) == {"champion": "1", "challenger": "2"}
    assert (_tags(weak, "2")["gate_decision"], _tags(weak, "1")["gate_decision"]) == ("lost", "kept")

    strong = reconfigure(weak, training={"threshold": None})
    train(strong)
    better = promote(strong)
    assert better.promoted, better.reasons
    assert better.comparison is not None and better.comparison.saving_lower > 0
    assert _aliases(strong) == {"champion": "3", "challenger": "3"}
    assert _tags(strong, "1")["gate_decision"] == "lost" and "v3" in _tags(strong, "1")["gate_reasons"]
    assert _tags(strong, "3")["gate_decision"] == "promoted"
    description = client(strong).get_model_version(strong.mlflow.registered_model, "3").description
    assert "promoted as challenger" in description and "UDI" in description and "intervals: v3" in description
    assert "lost as champion" in client(strong).get_model_version(strong.mlflow.registered_model, "1").description
    low, high = better.udi_range or (0, 0)
    for version in ("1", "3"):
        used_low, used_high = used_range(load_model(strong, version=version).metadata)
        assert high < used_low or low > used_high  # no gate row was fitted or tuned on

    with strong.path(strong.paths.promotions_log).open(newline="") as fh:
        log = list(csv.DictReader(fh))
    assert [r["promoted"] for r in log] == ["true", "false", "true"]
    assert log[-1]["udi_range"] == f"{low}-{high}"

    back = rollback(strong)
    assert (back.from_version, back.to_version) == ("3", "1")
    assert _aliases(strong)["champion"] == "1"
    assert load_model(strong).version == "1"
    with pytest.raises(RegistryError, match="no previous champion"):
        rollback(strong)


def test_gate_never_judges_on_the_validation_slice_and_cli_exit_codes(project: Params) -> None:
    train(project)
    stream = production_stream(project)
    assert stream is not None
    reference = read_training_data(project.path(project.paths.reference))
    holdout = load_model(project, alias=project.mlflow.challenger_alias).metadata["data"]["holdout_udi_range"]
    tuned = reference[reference[schema.UDI].between(*holdout)]
    assert len(tuned) > 1000
    window = project.root / "window.csv"
    pd.concat([tuned, stream.iloc[:1000]]).to_csv(window, index=False)  # the tuning slice offered to the gate
    runner = CliRunner()
    args = ["--params", str(project.root / "params.yaml"), "promote", "--window", str(window)]
    ok = runner.invoke(app, args)
    assert ok.exit_code == 0, ok.output
    assert "gate rows: 1000 (" in ok.output  # only the untouched production rows remain
    again = runner.invoke(app, args)
    assert again.exit_code == 3 and "already the champion" in again.output


def test_challenger_better_only_on_its_own_tuning_slice_is_refused(project: Params) -> None:
    from predmaint.model.gate import compare, decide
    from predmaint.model.train import split_window

    train(project)
    assert promote(project).promoted  # v1: the default model is the champion
    fraction = project.training.validation_fraction
    reference = read_training_data(project.path(project.paths.reference))
    fit_part, tuned = split_window(reference, fraction)
    # v2 memorises its own tuning slice: copies of the slice (negated UDIs) sit among its fitted rows.
    total = round(len(tuned) / fraction)
    assert round(total * fraction) == len(tuned)
    copies = tuned.assign(**{schema.UDI: -tuned[schema.UDI]})
    window = pd.concat([fit_part.iloc[-(total - 2 * len(tuned)) :], copies, tuned], ignore_index=True)
    path = project.root / "memorised.csv"
    window.to_csv(path, index=False)
    deep = reconfigure(project, model={"random_forest": {**project.model.random_forest, "max_depth": None}})
    train(deep, data_file=path)

    challenger = load_model(deep, alias=deep.mlflow.challenger_alias)
    champion = load_model(deep)
    assert challenger.metadata["data"]["holdout_udi_range"] == [
        int(tuned[schema.UDI].min()),
        int(tuned[schema.UDI].max()),
    ]
    flags = [m.predict_proba(tuned) >= m.threshold for m in (challenger, champion)]
    on_slice = compare(tuned[schema.TARGET], flags[0], flags[1], deep.costs, deep.promotion, deep.project.seed)
    assert decide(deep.promotion, {"f1": 1.0, "recall": 1.0}, on_slice)[0]  # the old gate's rows: it "wins"

    decision = promote(deep)
    assert not decision.promoted, decision.reasons
    assert decision.udi_range is not None and decision.udi_range[0] > int(tuned[schema.UDI].max())
    assert _tags(deep, challenger.version)["gate_decision"] == "lost"


def test_production_rows_a_window_holds_are_matched_by_readings_not_ids(project: Params) -> None:
    stream = production_stream(project)
    assert stream is not None
    seen = stream.iloc[100:400].copy()
    seen[schema.UDI] = range(50_001, 50_001 + len(seen))  # ids re-assigned, as rows coming back from the log get
    left = production_stream(project, exclude=seen)
    assert left is not None and len(left) == len(stream) - 300
    assert not set(left[schema.UDI]) & set(stream.iloc[100:400][schema.UDI])
    other = stream.iloc[:300].copy()
    other[schema.TORQUE] = other[schema.TORQUE] + 0.05  # same ids, other readings: not the same rows
    kept = production_stream(project, exclude=other)
    assert kept is not None and len(kept) == len(stream)
