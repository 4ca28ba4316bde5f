"""Physics tails: how often a window's readings lie beyond the extremes of the champion's training data.

The failure rules act at the extremes of a few physical quantities (tool wear, power, tool wear ×
torque relative to the product type's overstrain limit, the process-air temperature margin), and
the model is only as good there as the training data it saw there. Feature-distance drift
(Evidently) averages over the whole distribution and misses a shift that only moves the tail,
such as tools run longer before replacement. This module measures the tail directly: the
reference's quantile per quantity, and how many of the window's readings lie beyond it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from predmaint import physics, schema
from predmaint.config import PhysicsParams

Side = Literal["upper", "lower", "both"]
Quantity = Callable[[pd.DataFrame, PhysicsParams], npt.NDArray[np.float64]]


def _strain_ratio(frame: pd.DataFrame, rules: PhysicsParams) -> npt.NDArray[np.float64]:
    strain = physics.strain_minnm(frame[schema.TOOL_WEAR], frame[schema.TORQUE])
    return strain / physics.osf_limit(frame[schema.TYPE], rules.osf_limit_minnm)


QUANTITIES: dict[str, Quantity] = {
    "tool_wear_min": lambda frame, rules: frame[schema.TOOL_WEAR].to_numpy(dtype=float),
    "power_w": lambda frame, rules: physics.power_w(frame[schema.TORQUE], frame[schema.SPEED]),
    "strain_ratio": _strain_ratio,
    "temp_diff_k": lambda frame, rules: physics.temp_diff_k(frame[schema.PROCESS_TEMP], frame[schema.AIR_TEMP]),
}


def _beyond(values: npt.NDArray[np.float64], low: float | None, high: float | None) -> npt.NDArray[np.bool_]:
    out = np.zeros(values.shape, dtype=bool)
    if low is not None:
        out |= values < low
    if high is not None:
        out |= values > high
    return out


def tail_limits(
    reference: pd.DataFrame, quantities: Mapping[Any, Side], quantile: float, rules: PhysicsParams
) -> dict[str, dict[str, Any]]:
    """The reference's tail limits per quantity and the share of the reference beyond them.

    Args:
        reference: The champion's training data (AI4I feature columns).
        quantities: Quantity name (a key of :data:`QUANTITIES`) → which tail to watch.
        quantile: The upper tail starts at this quantile, the lower one at ``1 - quantile``.
        rules: The ``physics`` section of params.yaml (overstrain limits per type).

    Returns:
        Per quantity: ``side``, ``low``/``high`` limits (None for an unwatched side) and
        ``expected_share``, the reference's own share beyond them (ties make it at most the
        nominal ``1 - quantile`` per side; never 0, so a ratio to it is defined).
    """
    out: dict[str, dict[str, Any]] = {}
    for name, side in quantities.items():
        values = QUANTITIES[name](reference, rules)
        low = float(np.quantile(values, 1 - quantile)) if side in ("lower", "both") else None
        high = float(np.quantile(values, quantile)) if side in ("upper", "both") else None
        share = float(_beyond(values, low, high).mean())
        out[name] = {"side": side, "low": low, "high": high, "expected_share": max(share, 1 / len(values))}
    return out


def tail_counts(
    window: pd.DataFrame, limits: Mapping[str, Mapping[str, Any]], rules: PhysicsParams
) -> dict[str, dict[str, Any]]:
    """:func:`tail_limits` with the window's ``rows`` and the number ``beyond`` the limits added."""
    out: dict[str, dict[str, Any]] = {}
    for name, limit in limits.items():
        values = QUANTITIES[name](window, rules)
        beyond = _beyond(values, limit["low"], limit["high"])
        out[name] = {**limit, "rows": int(values.size), "beyond": int(beyond.sum())}
    return out
