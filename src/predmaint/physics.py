"""The physics of the AI4I milling process: derived quantities and the documented failure rules.

One definition, used by the simulator (to label), the model's feature step (to learn) and the
service (to explain a prediction). Functions take numpy arrays (or pandas Series) so they serve
both the vectorised batch path and the single-reading fast path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from predmaint import schema
from predmaint.config import PhysicsParams

Array = npt.NDArray[np.float64]
RAD_PER_S_PER_RPM = 2.0 * np.pi / 60.0
RULE_MODES: tuple[str, ...] = ("HDF", "PWF", "OSF")


def power_w(torque_nm: npt.ArrayLike, speed_rpm: npt.ArrayLike) -> Array:
    """Mechanical power [W] = torque [Nm] × angular speed [rad/s]."""
    return np.asarray(torque_nm, dtype=float) * np.asarray(speed_rpm, dtype=float) * RAD_PER_S_PER_RPM


def temp_diff_k(process_k: npt.ArrayLike, air_k: npt.ArrayLike) -> Array:
    """Process minus air temperature [K]: the heat-dissipation margin."""
    return np.asarray(process_k, dtype=float) - np.asarray(air_k, dtype=float)


def strain_minnm(tool_wear_min: npt.ArrayLike, torque_nm: npt.ArrayLike) -> Array:
    """Overstrain measure [min·Nm] = tool wear × torque."""
    return np.asarray(tool_wear_min, dtype=float) * np.asarray(torque_nm, dtype=float)


def osf_limit(product_type: npt.ArrayLike, limits: Mapping[str, float]) -> Array:
    """The overstrain limit [min·Nm] of each reading's product type."""
    types = np.asarray(product_type).astype(str)
    out = np.full(types.shape, np.nan)
    for name, limit in limits.items():
        out[types == name] = limit
    return out


def rule_margins(
    product_type: npt.ArrayLike, numeric: npt.NDArray[np.float64], rules: PhysicsParams
) -> dict[str, Array]:
    """Signed margin of each reading to each documented limit, as a fraction of the limit.

    Args:
        product_type: Product type per reading (``L``/``M``/``H``).
        numeric: ``(n, 5)`` inputs in ``schema.NUMERIC_FEATURES`` order.
        rules: The ``physics`` section of params.yaml.

    Returns:
        Name → array. For the rule margins ``HDF``, ``PWF`` and ``OSF`` a negative value means the
        rule fires; their parts are ``hdf_temp`` (process−air difference vs its limit),
        ``hdf_speed`` (speed vs its limit; HDF needs both below), ``power_low`` / ``power_high``
        (distance inside each end of the power band). ``twf_start`` / ``twf_end`` place the tool
        wear relative to the TWF window (both ≥ 0 inside it).
    """
    air, process, speed, torque, wear = (np.asarray(numeric[:, i], dtype=float) for i in range(5))
    power = power_w(torque, speed)
    low, high = rules.power_limits_w
    limit = osf_limit(product_type, rules.osf_limit_minnm)
    start, end = rules.twf_window_min
    out = {
        "hdf_temp": (temp_diff_k(process, air) - rules.hdf_temp_diff_k) / rules.hdf_temp_diff_k,
        "hdf_speed": (speed - rules.hdf_speed_rpm) / rules.hdf_speed_rpm,
        "power_low": (power - low) / low,
        "power_high": (high - power) / high,
        "OSF": (limit - strain_minnm(wear, torque)) / limit,
        "twf_start": (wear - start) / start,
        "twf_end": (end - wear) / end,
    }
    out["HDF"] = np.maximum(out["hdf_temp"], out["hdf_speed"])
    out["PWF"] = np.minimum(out["power_low"], out["power_high"])
    return out


def rule_flags(readings: pd.DataFrame | Mapping[str, Any], rules: PhysicsParams) -> dict[str, npt.NDArray[np.bool_]]:
    """The deterministic failure modes (HDF, PWF, OSF) as boolean arrays: a negative rule margin.

    Args:
        readings: AI4I columns by name (a DataFrame, or a dict of arrays).
        rules: The ``physics`` section of params.yaml.

    TWF and RNF are random in the generating process and are not decided by a rule.
    """
    numeric = np.column_stack([np.asarray(readings[c], dtype=float) for c in schema.NUMERIC_FEATURES])
    margins = rule_margins(np.asarray(readings[schema.TYPE]), numeric, rules)
    return {mode: np.asarray(margins[mode] < 0) for mode in RULE_MODES}
