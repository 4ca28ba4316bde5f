"""Sensor health in the data contract (issue 18): a frozen or flat-lined sensor fails the gate."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from predmaint import schema
from predmaint.config import Params
from predmaint.quality.contract import load_contract, sensor_health
from predmaint.quality.gate import validate_frame
from tests.conftest import HAVE_REAL_DATA, REAL_DATA, make_project

FEATURES = [*schema.ID_COLUMNS, *schema.FEATURE_COLUMNS]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    if HAVE_REAL_DATA:
        return pd.read_csv(REAL_DATA, encoding="utf-8-sig").iloc[:2000]
    from predmaint.data.simulate import simulate

    project = make_project(tmp_path_factory.mktemp("sim"))
    return simulate(project.simulator, project.physics, rows=2000)


@pytest.fixture
def project(tmp_path: Path) -> Params:
    return make_project(tmp_path / "proj", data={"source_order": ["simulator"]})


def _failures(result: object) -> dict[tuple[str, str | None], dict[str, object]]:
    return {(f["check"], f["column"]): f for f in result.summary["failures"]}  # type: ignore[attr-defined]


def test_a_flat_lined_sensor_fails_the_production_suite_with_the_reason(base: pd.DataFrame, project: Params) -> None:
    day = base[FEATURES].iloc[:500].reset_index(drop=True)
    assert validate_frame(project, day, "production", "day").success
    frozen = day.assign(**{schema.TORQUE: 42.0})
    result = validate_frame(project, frozen, "production", "frozen torque")
    assert not result.success
    failure = _failures(result)[("expect_column_stdev_to_be_between", schema.TORQUE)]
    assert "frozen sensor" in str(failure)


def test_a_stuck_run_fails_the_raw_suite_naming_the_rows(base: pd.DataFrame, project: Params) -> None:
    stuck = base.copy()
    stuck.loc[1000:1059, schema.AIR_TEMP] = stuck.loc[1000, schema.AIR_TEMP]
    stuck.loc[1000:1059, schema.PROCESS_TEMP] = stuck.loc[1000:1059, schema.AIR_TEMP] + 10
    result = validate_frame(project, stuck, "raw", "stuck air temperature")
    assert not result.success
    failures = _failures(result)
    key = ("expect_column_values_to_be_between", f"derived: {schema.AIR_TEMP} repeat run")
    assert key in failures and failures[key]["unexpected_count"] >= 20  # rows 1040-1059 at least


def test_sensor_health_flags_served_windows_without_gx(base: pd.DataFrame, project: Params) -> None:
    contract = load_contract(project)
    window = base[list(schema.FEATURE_COLUMNS)].iloc[:500].reset_index(drop=True)
    assert sensor_health(window, contract) == {}
    stuck = window.assign(**{schema.SPEED: 1500})
    assert "flat-lined" in sensor_health(stuck, contract)[schema.SPEED]


@pytest.mark.parametrize("column", schema.NUMERIC_FEATURES)
def test_a_sensor_frozen_for_the_last_40_percent_fails_the_production_suite(
    base: pd.DataFrame, project: Params, column: str
) -> None:
    day = base[FEATURES].iloc[:500].reset_index(drop=True)
    day.loc[300:, column] = day.loc[300, column]
    result = validate_frame(project, day, "production", f"{column} frozen from row 300")
    assert not result.success
    assert ("expect_column_values_to_be_between", f"derived: {column} repeat run") in _failures(result)
    assert column in sensor_health(day[list(schema.FEATURE_COLUMNS)], load_contract(project))
