"""The data source and lineage on every run and version, and what MLflow shows (issues 14 and 15).

A simulator-fed project (the fallback a new user without the dataset gets) is ingested, gated,
split, cleaned and trained for real; the source ``simulator:seed=<n>`` must be on the run, the
version, metadata.json, ``GET /model``'s facts and ``predmaint lineage``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from predmaint.cli import app
from predmaint.config import Params
from predmaint.model import registry, tracking
from predmaint.model.promote import promote
from tests.conftest import make_project
from tests.model.conftest import SMALL_FOREST, prepare_data


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Params, str]:
    """A simulator-fed project with the first version trained on the reference set."""
    from predmaint.model.run import train

    params = make_project(
        tmp_path_factory.mktemp("provenance") / "proj",
        data={"source_order": ["simulator"]},
        model={"algorithm": "random_forest", "random_forest": SMALL_FOREST},
    )
    prepare_data(params)
    return params, train(params).version


def test_source_and_lineage_on_run_version_and_metadata(trained: tuple[Params, str]) -> None:
    params, version = trained
    source = f"simulator:seed={params.simulator.seed}"
    client = registry.client(params)
    mv = client.get_model_version(params.mlflow.registered_model, version)
    run = client.get_run(mv.run_id)
    for tags in (run.data.tags, mv.tags):
        assert tags["data_source"] == source, tags
        assert tags["lineage"].endswith("v1_ingest") and tags["params_hash"] and tags["git_commit"]
        assert json.loads(tags["gx_validation"])[0]["success"] is True
        assert params.paths.raw_file.as_posix() in json.loads(tags["dvc_md5"])
    meta = registry.read_metadata(params, mv.run_id)
    assert meta["data_source"] == source and meta["lineage"]["chain"][-1] == "v1_ingest"

    from serving.service import model_facts

    facts = model_facts(registry.load_model(params, version=version))
    assert facts["data_source"] == source and facts["lineage"] == meta["lineage"]["chain"]

    out = CliRunner().invoke(app, ["--params", str(params.root / "params.yaml"), "lineage", "--model", version])
    assert out.exit_code == 0, out.output
    assert source in out.output and "v1_ingest" in out.output and "GX result" in out.output
    plain = CliRunner().invoke(app, ["--params", str(params.root / "params.yaml"), "lineage", version])
    assert plain.exit_code == 0 and plain.output == out.output, plain.output  # `predmaint lineage <version>`


def test_mlflow_view_datasets_run_name_and_description(trained: tuple[Params, str]) -> None:
    params, version = trained
    client = registry.client(params)
    experiments = {e.name: e for e in client.search_experiments()}
    assert "Default" not in experiments
    assert experiments[params.mlflow.experiment].tags[tracking.EXPERIMENT_KIND_TAG] == tracking.CLASSICAL_ML
    mv = client.get_model_version(params.mlflow.registered_model, version)
    run = client.get_run(mv.run_id)
    assert run.info.run_name == f"train v{version} · reference set {meta_version(params, mv.run_id)}"
    inputs = {
        next(t.value for t in d.tags if t.key == "mlflow.data.context"): d.dataset for d in run.inputs.dataset_inputs
    }
    assert {"training", "validation", "backtest"} <= set(inputs)
    assert inputs["training"].source and len(inputs["training"].digest) == 32
    assert "Data source: simulator" in (mv.description or "") and "Gate: not run yet." in (mv.description or "")

    decision = promote(params)
    mv = client.get_model_version(params.mlflow.registered_model, version)
    assert decision.promoted and "promoted as challenger" in (mv.description or "")
    assert "Gate: not run yet." not in (mv.description or "") and "Data source: simulator" in (mv.description or "")
    gated = client.get_run(mv.run_id).inputs.dataset_inputs
    contexts = {t.value for d in gated for t in d.tags if t.key == "mlflow.data.context"}
    assert "gate" in contexts


def meta_version(params: Params, run_id: str) -> str:
    return str(registry.read_metadata(params, run_id)["data"]["version_id"])


def test_flow_run_id_reaches_a_process_started_by_the_flow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(tracking.FLOW_RUN_ENV, "0675a1f2-3b4c-7d5e-8f60-718293a4b5c6")
    assert tracking.prefect_flow_run_id() == "0675a1f2-3b4c-7d5e-8f60-718293a4b5c6"


def test_training_on_a_retraining_window_leaves_the_dvc_metrics_alone(trained: tuple[Params, str]) -> None:
    from predmaint.model.run import train

    params, _ = trained
    report = params.path(params.paths.metrics_dir) / "train.json"
    before = report.read_bytes()
    assert '"version"' not in before.decode(), "a registry version in a DVC output depends on the registry's state"
    window = params.path(params.paths.retrain_dir) / "window_test.csv"
    window.parent.mkdir(parents=True, exist_ok=True)
    window.write_bytes(params.path(params.paths.reference).read_bytes())
    train(params, window)
    assert report.read_bytes() == before
    assert Path(window).is_file()
