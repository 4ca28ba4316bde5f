"""Monitoring's reference follows the champion: drift is measured against the serving model's training window.

Real MLflow store and registry in a temp project; the models are small forests on simulator data.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from predmaint import schema
from predmaint.config import Params
from predmaint.data import tables
from predmaint.data.lineage import Manifest
from predmaint.data.simulate import simulate
from predmaint.model.registry import client
from predmaint.model.run import train
from predmaint.monitoring import decide, summarise
from predmaint.monitoring.sources import champion_baseline, champion_reference
from tests.conftest import make_project
from tests.model.conftest import SMALL_FOREST

SHIFT = "torque_sensor_bias"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Params:
    params = make_project(
        tmp_path_factory.mktemp("reference") / "proj",
        data={"source_order": ["simulator"]},
        model={"algorithm": "random_forest", "random_forest": SMALL_FOREST},
    )
    import mlflow

    mlflow.set_tracking_uri(params.tracking_uri)
    return params


def version_of(params: Params, name: str, frame: pd.DataFrame) -> Path:
    """Write a training window and record it in the manifest, as the data stages do."""
    path = tables.write_table(frame, params.path(params.paths.retrain_dir) / name)
    Manifest(params.path(params.paths.manifest), params.root).record(path, stage="retrain_window", rows=len(frame))
    return path


def promote_to_champion(params: Params, data_file: Path) -> str:
    result = train(params, data_file=data_file)
    client(params).set_registered_model_alias(
        params.mlflow.registered_model, params.mlflow.champion_alias, result.version
    )
    return result.version


def labelled_window(params: Params, fitted_threshold: float) -> pd.DataFrame:
    """500 shifted readings that continue the shifted training stream (same temperature history)."""
    frame = (
        simulate(params.simulator, params.physics, rows=7500, scenario=SHIFT, seed=2, start_udi=7001)
        .iloc[-500:]
        .reset_index(drop=True)
    )
    return frame.rename(columns={schema.TARGET: "target"}).assign(
        prediction=0.0, decision=0, threshold=fitted_threshold
    )


def test_reference_moves_with_the_champion(project: Params) -> None:
    params = project
    baseline_rows = simulate(params.simulator, params.physics, rows=7000, seed=1)
    v1 = promote_to_champion(params, version_of(params, "baseline.csv", baseline_rows))
    reference, info = champion_reference(params)
    assert info["source"] == "champion" and info["model_version"] == v1
    assert info["path"] == "data/processed/retrain/baseline.csv" and info["version_id"]
    pd.testing.assert_frame_equal(reference, tables.read_table(params.path(info["path"])))

    _, threshold, baseline = champion_baseline(params)
    window = labelled_window(params, threshold)
    before, _, _ = summarise(params, reference, window, baseline, window_id="shift_v1", reference_info=info)
    assert schema.TORQUE in before.drifted
    assert "drift" in decide(before, pd.DataFrame(), params.monitoring, new_labelled_rows=500).rules_met
    assert before.reference["model_version"] == v1

    # A champion trained on the shifted regime (e.g. the sliding retraining window after a lasting shift).
    shifted = simulate(params.simulator, params.physics, rows=7000, scenario=SHIFT, seed=2, start_udi=7001)
    v2 = promote_to_champion(params, version_of(params, "window_shifted.csv", shifted))
    reference, info = champion_reference(params)
    assert info["model_version"] == v2 and info["path"].endswith("window_shifted.csv")
    _, threshold, baseline = champion_baseline(params)
    after, _, _ = summarise(
        params, reference, labelled_window(params, threshold), baseline, window_id="shift_v2", reference_info=info
    )
    assert after.drifted == [], after.columns
    assert "drift" not in decide(after, pd.DataFrame(), params.monitoring, new_labelled_rows=500).rules_met


def test_a_changed_or_missing_window_falls_back_with_a_note(project: Params) -> None:
    params = project
    fallback = simulate(params.simulator, params.physics, rows=3000, seed=9)
    tables.write_table(fallback, params.path(params.paths.reference))
    path = version_of(params, "edited.csv", simulate(params.simulator, params.physics, rows=7000, seed=3))
    promote_to_champion(params, path)
    tables.write_table(simulate(params.simulator, params.physics, rows=7000, seed=4), path)  # same name, other bytes
    reference, info = champion_reference(params)
    assert info["source"] == "paths.reference" and len(reference) == 3000
    assert "edited.csv" in info["note"] and "md5" in info["note"]
    path.unlink()
    _, info = champion_reference(params)
    assert "is missing" in info["note"]
