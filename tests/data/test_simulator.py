"""The simulator: seeded, AI4I-shaped, statistically like the real data and labelled by the rules.

Statistics are checked on ``SIM_ROWS`` rows, i.e. 20 independent temperature histories of the
real file's length, so a rate depends on the process and not on one random walk. Each tolerance
is stated next to the statistic it bounds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from predmaint import physics, schema

from predmaint.data import tables
from predmaint.config import Params, load_params
from predmaint.data.ingest import ingest
from predmaint.data.lineage import Manifest
from predmaint.data.simulate import simulate
from tests.conftest import REAL_DATA, REPO, make_project, needs_real_data

SIM_ROWS = 200_000
SCENARIO_ROWS = 100_000
SENSORS = list(schema.NUMERIC_FEATURES)

# (column, allowed |mean difference|, allowed |sd difference|) against the real file
MARGINAL_TOLERANCE = [
    (schema.AIR_TEMP, 0.1, 0.05),
    (schema.PROCESS_TEMP, 0.1, 0.1),
    (schema.SPEED, 15.0, 10.0),
    (schema.TORQUE, 0.5, 0.3),
    (schema.TOOL_WEAR, 5.0, 4.0),
]
# (label, lowest and highest allowed ratio simulated rate / real rate): the acceptance,
# every per-mode rate per 10,000 rows within the real file's ± 30 % (RNF = the flag).
RATE_BANDS = [(label, 0.7, 1.3) for label in (schema.TARGET, *schema.FAILURE_MODES)]
RULE_MODES = ("HDF", "PWF", "OSF")
FAILING_MODES = ("TWF", "HDF", "PWF", "OSF")  # RNF is flagged but is not a machine failure (real labels)


@pytest.fixture(scope="module")
def params() -> Params:
    return load_params(REPO / "params.yaml", environ={})


@pytest.fixture(scope="module")
def big(params: Params) -> pd.DataFrame:
    return simulate(params.simulator, params.physics, rows=SIM_ROWS)


@pytest.fixture(scope="module")
def real() -> pd.DataFrame:
    return tables.read_table(REAL_DATA)


def readings(frame: pd.DataFrame) -> dict[str, Any]:
    """The frame's columns by name, as ``physics.rule_flags`` takes them."""
    return {str(column): frame[column] for column in frame.columns}


def assert_labels_follow_rules(frame: pd.DataFrame, params: Params) -> None:
    flags = physics.rule_flags(readings(frame), params.physics)
    for mode in RULE_MODES:
        assert np.array_equal(frame[mode].to_numpy(), flags[mode].astype(np.int64)), mode
    failing = frame[list(FAILING_MODES)].max(axis=1)
    assert (frame[schema.TARGET] >= failing).all(), "every TWF/HDF/PWF/OSF row is a machine failure"
    unexplained = (frame[schema.TARGET] == 1) & (failing == 0)
    assert unexplained.mean() < 0.002, "failures no mode explains: ~9 per 10,000 as in the real file"


def replacement_rows(frame: pd.DataFrame) -> np.ndarray:
    """Rows after which the tool wear drops (the last row of a tool)."""
    return np.flatnonzero(np.diff(frame[schema.TOOL_WEAR].to_numpy()) < 0)


def test_same_seed_gives_identical_frame(params: Params) -> None:
    pd.testing.assert_frame_equal(simulate(params.simulator, params.physics, rows=5000, seed=7), simulate(params.simulator, params.physics, rows=5000, seed=7))


def test_different_seed_gives_different_frame(params: Params) -> None:
    a, b = simulate(params.simulator, params.physics, rows=5000, seed=7), simulate(params.simulator, params.physics, rows=5000, seed=8)
    for column in (schema.TYPE, *SENSORS):
        assert not a[column].equals(b[column]), column


def test_defaults_come_from_params(params: Params) -> None:
    frame = simulate(params.simulator, params.physics)
    assert len(frame) == params.simulator.rows
    pd.testing.assert_frame_equal(
        frame, simulate(params.simulator, params.physics, rows=params.simulator.rows, seed=params.simulator.seed)
    )


def test_schema_dtypes_and_ids(big: pd.DataFrame) -> None:
    assert list(big.columns) == list(schema.ALL_COLUMNS)
    for column in schema.INTEGER_COLUMNS:
        assert big[column].dtype == np.int64, column
    for column in (schema.AIR_TEMP, schema.PROCESS_TEMP, schema.TORQUE):
        assert big[column].dtype == np.float64, column
        tenths = big[column].to_numpy() * 10
        assert np.allclose(tenths, np.round(tenths), atol=1e-6), f"{column} not rounded to 0.1"
    assert big[schema.UDI].tolist() == list(range(1, SIM_ROWS + 1))
    assert set(big[schema.TYPE]) == set(schema.PRODUCT_TYPES)
    ids = big[schema.PRODUCT_ID]
    assert ids.str.fullmatch(r"[LMH]\d{5,}").all()
    assert (ids.str[0] == big[schema.TYPE]).all()
    assert ids.is_unique
    assert (big[schema.TORQUE] > 0).all() and (big[schema.TOOL_WEAR] >= 0).all()
    for column in schema.LABEL_COLUMNS:
        assert set(big[column].unique()) <= {0, 1}, column


def test_start_udi_continues_numbering(params: Params) -> None:
    frame = simulate(params.simulator, params.physics, rows=1000, start_udi=10_001)
    assert frame[schema.UDI].iloc[0] == 10_001 and frame[schema.UDI].iloc[-1] == 11_000
    offsets = frame[schema.TYPE].map(params.simulator.serial_offset)
    assert (frame[schema.PRODUCT_ID].str[1:].astype(int) == offsets + frame[schema.UDI]).all()


def test_non_positive_rows_is_refused(params: Params) -> None:
    with pytest.raises(ValueError, match="rows"):
        simulate(params.simulator, params.physics, rows=0)


@needs_real_data
def test_product_id_numbering_matches_real(real: pd.DataFrame, params: Params) -> None:
    offsets = real[schema.PRODUCT_ID].str[1:].astype(int) - real[schema.UDI]
    assert offsets.groupby(real[schema.TYPE]).unique().map(list).to_dict() == {
        t: [o] for t, o in params.simulator.serial_offset.items()
    }


@needs_real_data
@pytest.mark.parametrize(("column", "mean_tol", "sd_tol"), MARGINAL_TOLERANCE)
def test_sensor_marginals_match_real(
    big: pd.DataFrame, real: pd.DataFrame, column: str, mean_tol: float, sd_tol: float
) -> None:
    assert abs(big[column].mean() - real[column].mean()) <= mean_tol
    assert abs(big[column].std() - real[column].std()) <= sd_tol


@needs_real_data
def test_sensor_quantiles_match_real(big: pd.DataFrame, real: pd.DataFrame) -> None:
    q = [0.05, 0.25, 0.5, 0.75, 0.95]
    for column, tolerance in [(schema.SPEED, 20.0), (schema.TORQUE, 1.0), (schema.TOOL_WEAR, 8.0)]:
        assert np.abs(big[column].quantile(q) - real[column].quantile(q)).max() <= tolerance, column


@needs_real_data
def test_type_mix_matches_real(big: pd.DataFrame, real: pd.DataFrame) -> None:
    sim_mix = big[schema.TYPE].value_counts(normalize=True)
    real_mix = real[schema.TYPE].value_counts(normalize=True)
    for t in schema.PRODUCT_TYPES:
        assert abs(sim_mix[t] - real_mix[t]) <= 0.01, t


@needs_real_data
@pytest.mark.parametrize(("label", "low", "high"), RATE_BANDS)
def test_failure_rates_match_real(
    big: pd.DataFrame, real: pd.DataFrame, label: str, low: float, high: float
) -> None:
    ratio = big[label].mean() / real[label].mean()
    assert low <= ratio <= high, f"{label}: simulated/real rate = {ratio:.2f}, allowed [{low}, {high}]"


@needs_real_data
def test_rules_reproduce_real_flags_exactly(real: pd.DataFrame, params: Params) -> None:
    assert len(real) == 10_000
    flags = physics.rule_flags(readings(real), params.physics)
    mismatches = {
        mode: int((flags[mode].astype(np.int64) != real[mode].to_numpy()).sum()) for mode in RULE_MODES
    }
    assert mismatches == {mode: 0 for mode in RULE_MODES}


@needs_real_data
def test_real_tool_wear_follows_the_simulated_process(real: pd.DataFrame, params: Params) -> None:
    """Wear grows by the previous product's increment and resets to 0 at a tool change."""
    wear = real[schema.TOOL_WEAR].to_numpy()
    increments = real[schema.TYPE].map(params.simulator.tool_wear_min_per_type).to_numpy()[:-1]
    step = np.diff(wear)
    reset = step < 0
    assert (wear[1:][reset] == 0).all()
    assert (step[~reset] == increments[~reset]).all()


def test_simulated_labels_follow_the_rules(big: pd.DataFrame, params: Params) -> None:
    assert_labels_follow_rules(big, params)


def test_tool_wear_increments_and_replacement(big: pd.DataFrame, params: Params) -> None:
    sim = params.simulator
    wear = big[schema.TOOL_WEAR].to_numpy()
    increments = big[schema.TYPE].map(sim.tool_wear_min_per_type).to_numpy()
    ends = replacement_rows(big)
    reset = np.zeros(len(wear) - 1, dtype=bool)
    reset[ends] = True
    assert wear[0] == 0 and (wear[ends + 1] == 0).all()
    assert (np.diff(wear)[~reset] == increments[:-1][~reset]).all()
    start = min(sim.tool_failure_wear.start_min, sim.tool_replacement_wear.start_min)
    assert (wear[ends] + increments[ends] >= start).all(), "a tool leaves once its product takes it to its life"
    twf_rows = np.flatnonzero(big["TWF"].to_numpy())
    assert set(twf_rows) <= set(ends), "TWF only on the last row of a tool"
    assert 0.33 <= len(twf_rows) / len(ends) <= 0.44, "share of tool changes that are failures (real: 46/119)"


def twf_rate_by_wear(frame: pd.DataFrame, params: Params) -> dict[str, float]:
    """TWF per reading where no other rule fires, below and from 225 min of wear (in 200+)."""
    rules = np.logical_or.reduce(list(physics.rule_flags(readings(frame), params.physics).values()))
    wear = frame[schema.TOOL_WEAR]
    out = {}
    for name, band in (("200-225", wear.between(200, 224)), ("225+", wear >= 225)):
        rows = band & ~rules
        out[name] = float(frame.loc[rows, "TWF"].mean())
    return out


@needs_real_data
def test_tool_changes_match_real(big: pd.DataFrame, real: pd.DataFrame, params: Params) -> None:
    """The wear at a tool change, the share that fail, and the per-reading TWF rate by wear."""
    quartiles = [0.25, 0.5, 0.75]
    sim_end = pd.Series(big[schema.TOOL_WEAR].to_numpy()[replacement_rows(big)]).quantile(quartiles)
    real_end = pd.Series(real[schema.TOOL_WEAR].to_numpy()[replacement_rows(real)]).quantile(quartiles)
    assert np.abs(sim_end.to_numpy() - real_end.to_numpy()).max() <= 3, (sim_end.tolist(), real_end.tolist())
    sim_rate, real_rate = twf_rate_by_wear(big, params), twf_rate_by_wear(real, params)
    assert sim_rate["200-225"] == pytest.approx(real_rate["200-225"], abs=0.02), (sim_rate, real_rate)
    assert sim_rate["225+"] == pytest.approx(real_rate["225+"], abs=0.06), (sim_rate, real_rate)  # 66 real rows


def test_rnf_is_flagged_but_not_a_failure(big: pd.DataFrame) -> None:
    only_rnf = (big["RNF"] == 1) & (big[list(FAILING_MODES)].max(axis=1) == 0)
    assert only_rnf.sum() > 0 and (big.loc[only_rnf, schema.TARGET] == 0).all()


def test_unknown_scenario_names_the_valid_ones(params: Params) -> None:
    with pytest.raises(ValueError, match="unknown scenario 'nope'") as err:
        simulate(params.simulator, params.physics, rows=10, scenario="nope")
    for name in params.simulator.scenarios:
        assert name in str(err.value)


@pytest.mark.parametrize(
    "name", ["heat_wave", "product_mix_shift_L", "torque_sensor_bias", "tool_replacement_policy"]
)
def test_required_scenarios_are_configured(params: Params, name: str) -> None:
    assert name in params.simulator.scenarios


@pytest.fixture(scope="module")
def baseline(params: Params) -> pd.DataFrame:
    return simulate(params.simulator, params.physics, rows=SCENARIO_ROWS)


def test_heat_wave_raises_air_temperature_and_hdf(params: Params, baseline: pd.DataFrame) -> None:
    spec = params.simulator.scenarios["heat_wave"]
    hot = simulate(params.simulator, params.physics, rows=SCENARIO_ROWS, scenario="heat_wave")
    air_shift = hot[schema.AIR_TEMP].mean() - baseline[schema.AIR_TEMP].mean()
    process_shift = hot[schema.PROCESS_TEMP].mean() - baseline[schema.PROCESS_TEMP].mean()
    assert air_shift == pytest.approx(spec.air_temp_shift_k, abs=0.01)
    assert process_shift == pytest.approx(spec.air_temp_shift_k * spec.process_temp_follow, abs=0.01)
    assert hot["HDF"].mean() > 2 * baseline["HDF"].mean()
    assert_labels_follow_rules(hot, params)


def test_mix_shift_raises_share_of_l(params: Params, baseline: pd.DataFrame) -> None:
    target = params.simulator.scenarios["product_mix_shift_L"].type_mix
    assert target is not None
    shifted = simulate(params.simulator, params.physics, rows=SCENARIO_ROWS, scenario="product_mix_shift_L")
    share = shifted[schema.TYPE].value_counts(normalize=True)
    assert share["L"] == pytest.approx(target["L"], abs=0.01)
    assert share["L"] > baseline[schema.TYPE].eq("L").mean() + 0.1
    for column in (schema.AIR_TEMP, schema.SPEED, schema.TORQUE):
        assert shifted[column].equals(baseline[column]), "other components keep their draws"
    assert_labels_follow_rules(shifted, params)


def test_torque_bias_changes_only_the_reported_torque(params: Params, baseline: pd.DataFrame) -> None:
    bias = params.simulator.scenarios["torque_sensor_bias"].torque_bias_nm
    biased = simulate(params.simulator, params.physics, rows=SCENARIO_ROWS, scenario="torque_sensor_bias")
    others = [c for c in schema.ALL_COLUMNS if c != schema.TORQUE]
    pd.testing.assert_frame_equal(biased[others], baseline[others])
    assert np.allclose(biased[schema.TORQUE] - baseline[schema.TORQUE], bias, atol=1e-6)
    true_torque = biased.assign(**{schema.TORQUE: biased[schema.TORQUE] - bias})
    assert_labels_follow_rules(true_torque, params)
    reported = physics.rule_flags(readings(biased), params.physics)
    assert (reported["PWF"].astype(np.int64) != biased["PWF"].to_numpy()).any(), "labels follow true torque"


def test_replacement_policy_runs_tools_to_failure(params: Params, baseline: pd.DataFrame) -> None:
    late = simulate(params.simulator, params.physics, rows=SCENARIO_ROWS, scenario="tool_replacement_policy")
    twf_share = late["TWF"].sum() / len(replacement_rows(late))
    assert twf_share > 0.8 > 0.5 > baseline["TWF"].sum() / len(replacement_rows(baseline))
    wear_at_change = late[schema.TOOL_WEAR].to_numpy()[replacement_rows(late)].mean()
    assert wear_at_change > baseline[schema.TOOL_WEAR].to_numpy()[replacement_rows(baseline)].mean()
    assert late["OSF"].sum() > baseline["OSF"].sum()
    assert_labels_follow_rules(late, params)


def test_ingest_falls_back_to_simulator_with_banner(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    params = make_project(
        tmp_path / "proj",
        data={
            "source_order": ["path", "simulator"],
            "csv_path": str(tmp_path / "missing.csv"),
            "simulator_rows": 3000,
        },
    )
    version = ingest(params)
    assert "NO REAL DATA" in capsys.readouterr().out
    assert version.details["source"] == "simulator"
    assert "path" in version.details["tried"]
    recorded = Manifest(params.path(params.paths.manifest), params.root).latest_for(
        params.path(params.paths.raw_file)
    )
    assert recorded is not None and recorded.details["source"] == "simulator" and recorded.rows == 3000
    raw = tables.read_table(params.path(params.paths.raw_file))
    pd.testing.assert_frame_equal(raw, simulate(params.simulator, params.physics, rows=3000))
