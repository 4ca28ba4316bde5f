"""Failure-mode explanations agree with the physics rules and read like the issue's examples."""

from __future__ import annotations

import numpy as np
import pandas as pd

from predmaint import physics, schema
from predmaint.config import Params
from predmaint.service.explain import explain


def _one(params: Params, t: str, *row: float) -> list[dict]:
    return explain([t], np.array([row], dtype=float), params.physics, 0.9)[0]


def test_power_above_and_below_the_band(sim_params: Params) -> None:
    high = _one(sim_params, "L", 300, 310, 1400, 63.5, 10)
    assert high[0]["mode"] == "PWF" and high[0]["violated"]
    assert high[0]["reason"] == "power 9,310 W above the 9,000 W limit"
    low = _one(sim_params, "M", 300, 310, 2800, 10.0, 10)
    assert low[0]["reason"] == "power 2,932 W below the 3,500 W limit"


def test_overstrain_near_and_beyond_the_type_limit(sim_params: Params) -> None:
    near = _one(sim_params, "L", 300, 310, 1500, 50.0, 211)
    osf = next(m for m in near if m["mode"] == "OSF")
    assert not osf["violated"] and osf["reason"] == "tool wear × torque at 96 % of the overstrain limit for type L"
    beyond = _one(sim_params, "H", 300, 310, 1500, 60.0, 230)
    osf = next(m for m in beyond if m["mode"] == "OSF")
    assert osf["violated"] and "13,800 min·Nm above the 13,000 min·Nm overstrain limit for type H" in osf["reason"]


def test_heat_dissipation_and_tool_wear(sim_params: Params) -> None:
    hdf = _one(sim_params, "L", 303, 311, 1300, 40, 10)
    assert hdf[0]["mode"] == "HDF" and hdf[0]["violated"] and "8.0 K" in hdf[0]["reason"]
    twf = _one(sim_params, "L", 300, 310, 1500, 30, 215)
    assert [m["mode"] for m in twf] == ["TWF"] and "inside the 200–240 min" in twf[0]["reason"]


def test_quiet_reading_has_no_modes(sim_params: Params) -> None:
    assert _one(sim_params, "M", 298, 308.6, 1550, 40, 20) == []


def test_violations_match_the_physics_rules(sim_params: Params) -> None:
    from predmaint.data.simulate import simulate

    frame = simulate(sim_params.simulator, sim_params.physics, rows=3000)
    numeric = frame[list(schema.NUMERIC_FEATURES)].to_numpy(dtype=float)
    found = explain(frame[schema.TYPE].to_numpy(), numeric, sim_params.physics, 0.9)
    flags = physics.rule_flags(frame, sim_params.physics)
    for mode in ("HDF", "PWF", "OSF"):
        violated = np.array([any(m["mode"] == mode and m["violated"] for m in modes) for modes in found])
        assert (violated == np.asarray(flags[mode])).all(), mode
        assert violated.any(), f"the simulated data should contain {mode} cases"
    ordered = [m["ratio"] for modes in found for m in modes]
    assert ordered, "some readings must be near a limit"
    assert all(pd.Series([m["ratio"] for m in modes]).is_monotonic_decreasing for modes in found)
