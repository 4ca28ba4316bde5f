"""Feature drift with real Evidently: calibrated thresholds, drift scenarios, sampling, bad input."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from predmaint import schema
from predmaint.config import Params
from predmaint.data.tables import SchemaError
from predmaint.monitoring.report import DriftSettings, drift_report, drift_summary
from predmaint.monitoring.summary import summarise
from predmaint.monitoring.window import check_frame, sample_rows
from predmaint.data.simulate import simulate
from tests.conftest import REAL_DATA, make_project, needs_real_data

BASELINE = {"recall": 0.9, "error_rate": 0.03, "threshold": 0.5}


def drift(params: Params, reference: pd.DataFrame, current: pd.DataFrame) -> dict:
    return drift_summary(drift_report(reference, current, DriftSettings.from_params(params)))


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> tuple[Params, pd.DataFrame]:
    params = make_project(tmp_path_factory.mktemp("drift") / "proj", data={"source_order": ["simulator"]})
    return params, simulate(params.simulator, params.physics, rows=7000, seed=1)


def test_same_distribution_has_no_drift(sim: tuple[Params, pd.DataFrame]) -> None:
    params, reference = sim
    result = drift(params, reference, reference.sample(500, random_state=3))
    assert result["drift_share"] < params.monitoring.drift_share_threshold
    assert not any(c["drifted"] for c in result["columns"].values())
    assert not result["dataset_drift"]
    assert set(result["columns"]) == set(schema.FEATURE_COLUMNS)
    methods = {c: v["method"] for c, v in result["columns"].items()}
    assert methods[schema.TORQUE] == params.monitoring.drift_method
    assert methods[schema.TYPE] == params.monitoring.categorical_drift_method
    calibrated = params.monitoring.column_drift_thresholds[schema.AIR_TEMP]
    assert result["columns"][schema.AIR_TEMP]["threshold"] == calibrated


@pytest.mark.parametrize(
    ("scenario", "column"), [("torque_sensor_bias", schema.TORQUE), ("product_mix_shift_L", schema.TYPE)]
)
def test_drift_scenarios_are_detected(sim: tuple[Params, pd.DataFrame], scenario: str, column: str) -> None:
    params, reference = sim
    result = drift(params, reference, simulate(params.simulator, params.physics, rows=500, scenario=scenario, seed=11))
    assert result["columns"][column]["drifted"]
    assert result["drift_share"] >= params.monitoring.drift_share_threshold
    assert result["dataset_drift"]


@needs_real_data
def test_real_production_days_do_not_drift_but_a_heat_wave_does(tmp_path: Path) -> None:
    """Calibration check on the real data: rows 7001-10000 in 500-row days vs rows 1-7000."""
    params = make_project(tmp_path / "proj")
    frame = pd.read_csv(REAL_DATA, encoding="utf-8-sig")
    reference, stream = frame.iloc[:7000], frame.iloc[7000:10000]
    shares = [drift(params, reference, stream.iloc[i : i + 500])["drift_share"] for i in range(0, 3000, 500)]
    assert max(shares) < params.monitoring.drift_share_threshold, shares
    hot = stream.iloc[:500].copy()
    hot[[schema.AIR_TEMP, schema.PROCESS_TEMP]] += 8.0
    result = drift(params, reference, hot)
    assert result["columns"][schema.AIR_TEMP]["drifted"] and result["columns"][schema.PROCESS_TEMP]["drifted"]
    assert result["drift_share"] >= params.monitoring.drift_share_threshold


def test_large_windows_are_sampled_with_a_seed(tmp_path: Path) -> None:
    params = make_project(tmp_path / "proj", monitoring={"max_rows_for_drift": 300})
    reference = simulate(params.simulator, params.physics, rows=1000, seed=1)
    window = simulate(params.simulator, params.physics, rows=800, seed=2).rename(columns={schema.TARGET: "target"})
    window["prediction"] = 0.1
    first, _, _ = summarise(params, reference, window, BASELINE, window_id="w1")
    again, _, _ = summarise(params, reference, window, BASELINE, window_id="w1")
    assert first.rows == 800 and first.drift_rows == 300 and first.reference_rows == 1000
    assert first.labelled_rows == 800  # performance is measured on every row, not the sample
    assert any("seeded samples" in n for n in first.notes)
    scores = [{c: v["score"] for c, v in s.columns.items()} for s in (first, again)]
    assert scores[0] == scores[1]
    picked = sample_rows(window, 300, seed=7)
    assert len(picked) == 300 and picked.index.is_monotonic_increasing
    assert picked.index.equals(sample_rows(window, 300, seed=7).index)


def test_bad_input_is_named(sim: tuple[Params, pd.DataFrame]) -> None:
    _, reference = sim
    with pytest.raises(SchemaError, match=r"window: missing feature column\(s\): Torque \[Nm\]"):
        check_frame(reference.drop(columns=[schema.TORQUE]), "window")
    with pytest.raises(SchemaError, match="'prediction' needs probabilities"):
        check_frame(reference.assign(prediction=1.5), "window")
    with pytest.raises(SchemaError, match="'target' must be 0, 1 or empty"):
        check_frame(reference.assign(target=2), "window")
