"""Units of the simulator, its params validation and the ``predmaint simulate`` command."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from predmaint import schema
from predmaint.cli import app
from predmaint.config import ConfigError, load_params
from predmaint.config.data import WearClockParams
from predmaint.data import tables
from predmaint.data.lineage import Manifest
from predmaint.data.simulate import get_scenario, product_types, temperature_walks, tool_wear
from tests.conftest import make_project, write_params


def test_temperature_walks_are_normalised_and_correlated_per_block() -> None:
    air, diff = temperature_walks(np.random.default_rng(1), np.random.default_rng(2), 3000, 1000, -0.7)
    assert air.shape == diff.shape == (3000,)
    for block in range(3):
        a, d = air[block * 1000 : (block + 1) * 1000], diff[block * 1000 : (block + 1) * 1000]
        assert a.mean() == pytest.approx(0, abs=1e-9) and a.std() == pytest.approx(1)
        assert d.std() == pytest.approx(1) and np.corrcoef(a, d)[0, 1] == pytest.approx(-0.7)


def test_short_run_is_the_start_of_a_full_block() -> None:
    short, _ = temperature_walks(np.random.default_rng(1), np.random.default_rng(2), 10, 100, 0.0)
    full, _ = temperature_walks(np.random.default_rng(1), np.random.default_rng(2), 100, 100, 0.0)
    assert np.array_equal(short, full[:10])


def clock(start: float) -> WearClockParams:
    """A wear clock that (practically) always reads ``start``."""
    return WearClockParams(start_min=start, weibull_shape=1.0, weibull_scale_min=1e-9)


def test_tool_wear_resets_after_the_product_that_reaches_its_life() -> None:
    increments = np.full(30, 2, dtype=np.int64)
    wear, twf = tool_wear(np.random.default_rng(0), increments, clock(9.5), clock(20.0))
    assert wear[:7].tolist() == [0, 2, 4, 6, 8, 0, 2], "the row at wear 8 takes the tool to 10 ≥ 9.5"
    assert np.flatnonzero(twf).tolist() == [4, 9, 14, 19, 24, 29]


def test_planned_replacement_before_failure_is_not_twf() -> None:
    increments = np.full(30, 3, dtype=np.int64)
    wear, twf = tool_wear(np.random.default_rng(0), increments, clock(50.0), clock(5.5))
    assert wear[:4].tolist() == [0, 3, 0, 3] and not twf.any()


def test_outcome_share_follows_the_clocks() -> None:
    """Same shape, scales 1 : 1 → the failure clock comes first for half of the tools."""
    same = WearClockParams(start_min=10, weibull_shape=1.8, weibull_scale_min=5)
    wear, twf = tool_wear(np.random.default_rng(1), np.full(200_000, 1, dtype=np.int64), same, same)
    ends = np.flatnonzero(np.diff(wear) < 0)
    assert twf[ends].mean() == pytest.approx(0.5, abs=0.02)


def test_type_draws_stay_paired_across_mixes() -> None:
    base = product_types(np.random.default_rng(3), 10_000, {"L": 0.6, "M": 0.3, "H": 0.1})
    shifted = product_types(np.random.default_rng(3), 10_000, {"L": 0.8, "M": 0.15, "H": 0.05})
    lowest = schema.PRODUCT_TYPES.index("L")
    assert (shifted[base == lowest] == lowest).all(), "a shift toward L only turns other rows into L"


def test_baseline_scenario_changes_nothing(tmp_path: Path) -> None:
    spec = get_scenario(make_project(tmp_path).simulator, None)
    assert spec.air_temp_shift_k == 0 and spec.torque_bias_nm == 0 and spec.type_mix is None


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ({"type_mix": {"L": 0.5, "M": 0.3, "H": 0.1}}, "simulator.type_mix"),
        ({"tool_wear_min_per_type": {"L": 2, "M": 3}}, "simulator.tool_wear_min_per_type"),
        ({"speed_curve": {"torque_nm": [10, 5], "speed_rpm": [1, 2]}}, "simulator.speed_curve"),
        ({"scenarios": {"x": {"description": "d", "torque_bias": 1}}}, "simulator.scenarios.x.torque_bias"),
    ],
)
def test_bad_simulator_params_name_the_key(tmp_path: Path, override: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_params(write_params(tmp_path, simulator=override), environ={})


def test_cli_simulate_writes_and_records(tmp_path: Path) -> None:
    params = make_project(tmp_path / "proj")
    file = params.root / "params.yaml"
    result = CliRunner().invoke(
        app, ["--params", str(file), "simulate", "--rows", "700", "--scenario", "heat_wave", "--seed", "5"]
    )
    assert result.exit_code == 0, result.output
    target = params.path(params.paths.simulated_dir) / "heat_wave_seed5_700rows.csv"
    frame = tables.read_table(target)
    assert len(frame) == 700 and list(frame.columns) == list(schema.ALL_COLUMNS)
    version = Manifest(params.path(params.paths.manifest), params.root).latest_for(target)
    assert version is not None and version.stage == "simulate" and version.rows == 700
    assert version.details == {"scenario": "heat_wave", "seed": 5, "start_udi": 1}


def test_cli_simulate_custom_out_and_unknown_scenario(tmp_path: Path) -> None:
    params = make_project(tmp_path / "proj")
    file = str(params.root / "params.yaml")
    out = tmp_path / "elsewhere" / "sim.csv"
    ok = CliRunner().invoke(app, ["--params", file, "simulate", "--rows", "50", "--out", str(out)])
    assert ok.exit_code == 0, ok.output
    assert out.is_file()
    bad = CliRunner().invoke(app, ["--params", file, "simulate", "--scenario", "nope"])
    assert bad.exit_code == 2 and "heat_wave" in bad.output


def test_cli_lists_scenarios(tmp_path: Path) -> None:
    params = make_project(tmp_path / "proj")
    result = CliRunner().invoke(app, ["--params", str(params.root / "params.yaml"), "simulate", "--list-scenarios"])
    assert result.exit_code == 0
    for name in params.simulator.scenarios:
        assert name in result.output
