"""Why a reading looks risky: the physical failure rules, evaluated and put into words.

The rules come from :mod:`predmaint.physics` (one definition for simulator, model and service).
Each rule gets a *closeness ratio* — 1.0 at its limit, above 1 beyond it — so the service can
name the modes a reading violates or approaches (ratio ≥ ``near``), most severe first, e.g.
"power 9,310 W above the 9,000 W limit" or "tool wear × torque at 96 % of the overstrain limit
for type L". Computation is vectorised over a batch; sentences are built only for listed modes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from predmaint import physics
from predmaint.config import PhysicsParams

MODE_NAMES: dict[str, str] = {
    "TWF": "tool wear failure",
    "HDF": "heat dissipation failure",
    "PWF": "power failure",
    "OSF": "overstrain failure",
}


def _n(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def closeness(types: npt.ArrayLike, numeric: npt.NDArray[np.float64], rules: PhysicsParams) -> dict[str, Any]:
    """Closeness of each reading to each rule's limit (1.0 = at the limit, > 1 = beyond it).

    Args:
        types: Product type per reading.
        numeric: ``(n, 5)`` inputs in ``schema.NUMERIC_FEATURES`` order.
        rules: The ``physics`` section of params.yaml.

    Returns:
        Mode → ratio array, plus the derived quantities under ``"_power"``, ``"_diff"``,
        ``"_strain"`` and ``"_limit"`` for the sentences.
    """
    air, process, speed, torque, wear = (numeric[:, i] for i in range(5))
    power = physics.power_w(torque, speed)
    diff = physics.temp_diff_k(process, air)
    strain = physics.strain_minnm(wear, torque)
    limit = physics.osf_limit(types, rules.osf_limit_minnm)
    low, high = rules.power_limits_w
    with np.errstate(divide="ignore", invalid="ignore"):
        hdf = np.minimum(rules.hdf_temp_diff_k / np.maximum(diff, 1e-9), rules.hdf_speed_rpm / np.maximum(speed, 1e-9))
        pwf = np.maximum(power / high, low / np.maximum(power, 1e-9))
        osf = strain / limit
    twf = wear / rules.twf_window_min[0]
    return {
        "TWF": twf,
        "HDF": hdf,
        "PWF": pwf,
        "OSF": osf,
        "_power": power,
        "_diff": diff,
        "_strain": strain,
        "_limit": limit,
    }


def _reason(mode: str, i: int, c: dict[str, Any], *, t: str, numeric: Any, rules: PhysicsParams) -> str:
    ratio = float(c[mode][i])
    if mode == "PWF":
        power, (low, high) = float(c["_power"][i]), rules.power_limits_w
        if power > high:
            return f"power {_n(power)} W above the {_n(high)} W limit"
        if power < low:
            return f"power {_n(power)} W below the {_n(low)} W limit"
        side = f"{_n(high)} W upper" if power / high >= low / power else f"{_n(low)} W lower"
        return f"power {_n(power)} W within {100 * abs(1 - 1 / ratio):.0f} % of the {side} limit"
    if mode == "OSF":
        strain, limit = float(c["_strain"][i]), float(c["_limit"][i])
        if strain > limit:
            return f"tool wear × torque {_n(strain)} min·Nm above the {_n(limit)} min·Nm overstrain limit for type {t}"
        return f"tool wear × torque at {100 * ratio:.0f} % of the overstrain limit for type {t}"
    if mode == "HDF":
        diff, speed = float(c["_diff"][i]), float(numeric[i, 2])
        state = "below" if ratio > 1 else "near"
        return (
            f"air–process temperature difference {diff:.1f} K and speed {_n(speed)} rpm {state} the "
            f"heat-dissipation limits ({rules.hdf_temp_diff_k:g} K, {_n(rules.hdf_speed_rpm)} rpm)"
        )
    wear = float(numeric[i, 4])
    start, end = rules.twf_window_min
    if wear >= start:
        return f"tool wear {_n(wear)} min inside the {_n(start)}–{_n(end)} min tool-replacement window"
    return f"tool wear {_n(wear)} min at {100 * ratio:.0f} % of the {_n(start)} min tool-replacement window"


def explain(
    types: Sequence[str] | npt.NDArray[Any],
    numeric: npt.NDArray[np.float64],
    rules: PhysicsParams,
    near: float,
) -> list[list[dict[str, Any]]]:
    """The likely failure modes of each reading with their physical reason.

    Args:
        types: Product type per reading.
        numeric: ``(n, 5)`` inputs in ``schema.NUMERIC_FEATURES`` order.
        rules: The ``physics`` section of params.yaml.
        near: List a mode once its closeness ratio reaches this (e.g. 0.9 = within 10 % of the limit).

    Returns:
        Per reading, a list of ``{"mode", "name", "violated", "ratio", "reason"}``, most severe first.
        Random failures (RNF) have no physical cause and are never listed.
    """
    types_arr = np.asarray(types).astype(str)
    c = closeness(types_arr, numeric, rules)
    ratios = np.column_stack([c[m] for m in MODE_NAMES])
    out: list[list[dict[str, Any]]] = [[] for _ in range(len(types_arr))]
    rows, cols = np.nonzero(np.nan_to_num(ratios, nan=0.0) >= near)
    modes = list(MODE_NAMES)
    for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
        mode = modes[j]
        ratio = float(ratios[i, j])
        violated = ratio > 1.0 if mode != "TWF" else ratio >= 1.0
        out[i].append(
            {
                "mode": mode,
                "name": MODE_NAMES[mode],
                "violated": bool(violated),
                "ratio": round(ratio, 3),
                "reason": _reason(mode, i, c, t=str(types_arr[i]), numeric=numeric, rules=rules),
            }
        )
    for found in out:
        found.sort(key=lambda m: -m["ratio"])
    return out
