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


def rule_flags(readings: pd.DataFrame | Mapping[str, Any], rules: PhysicsParams) -> dict[str, npt.NDArray[np.bool_]]:
    """The deterministic failure modes (HDF, PWF, OSF) as boolean arrays.

    Args:
        readings: AI4I columns by name (a DataFrame, or a dict of arrays).
        rules: The ``physics`` section of params.yaml.

    TWF and RNF are random in the generating process and are not decided by a rule.
    """
    torque, speed = readings[schema.TORQUE], readings[schema.SPEED]
    power = power_w(torque, speed)
    low, high = rules.power_limits_w
    return {
        "HDF": (temp_diff_k(readings[schema.PROCESS_TEMP], readings[schema.AIR_TEMP]) < rules.hdf_temp_diff_k)
        & (np.asarray(speed, dtype=float) < rules.hdf_speed_rpm),
        "PWF": (power < low) | (power > high),
        "OSF": strain_minnm(readings[schema.TOOL_WEAR], torque)
        > osf_limit(readings[schema.TYPE], rules.osf_limit_minnm),
    }
