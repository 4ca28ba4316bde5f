"""An AI4I-2020-compatible simulator of the documented generating process.

One row is one milled product, in time order. The process (``../shared/data/README.md``), with
every number from the ``simulator`` and ``physics`` sections of params.yaml:

- **type** L / M / H drawn from ``type_mix``; Product ID = type letter + ``serial_offset[type] + UDI``
  (at least 5 digits), the numbering of the real file;
- **air temperature**: a random walk normalised to ``air_temp_sd_k`` around ``air_temp_mean_k``;
  **process temperature** = air + ``process_temp_offset_k`` + a second walk normalised to
  ``process_temp_sd_k``, correlated with the air walk by ``process_air_corr`` (the real file's
  -0.70: the process is partly regulated, so its sd is 1.48 K, not 2.24 K). Walks are normalised
  per block of ``walk_block_rows`` rows (the real file's length), so a long run keeps the real
  data's local dynamics instead of flattening them;
- **torque**: normal(``torque_mean_nm``, ``torque_sd_nm``), clipped at ``torque_min_nm``;
- **rotational speed**: the torque-speed characteristic ``speed_curve`` plus normal noise. The
  documentation says speed is "calculated from a power of 2860 W"; a constant power
  (n = P / 2πT) gives 683 rpm at 40 Nm where the real data has 1500 rpm, so the curve is the
  one measured on the real data (binned medians). It reproduces the real marginals and the
  power-failure tails (low / high power);
- **tool wear**: each row adds ``tool_wear_min_per_type`` of the previous product to the tool (the
  real file shows the wear before the current product). Each tool has two wear clocks, a failure
  wear (``tool_failure_wear``) and a planned replacement wear (``tool_replacement_wear``), each
  ``start + scale × Weibull(shape)``. The tool's last row is the first whose product takes the wear
  to the earlier clock (in the real file the wear after the last product is always ≥ 200 min); the
  row is TWF when the failure clock came first. The two clocks share a shape, so their hazards are
  proportional and the outcome is independent of the end wear, as in the real labels;
- **labels**: HDF / PWF / OSF from :func:`predmaint.physics.rule_flags` (the one definition) on
  the reported, rounded values; the RNF flag with ``rnf_probability``, a machine failure only if
  ``rnf_is_failure`` (in the real file 18 of 19 RNF rows are not); ``Machine failure`` = any other
  mode, or a failure no mode explains with ``unexplained_failure_probability`` (9 such rows in the
  real file). Evidence for every choice: docs/data-quality.md, "The simulator".

Each component draws from its own child of ``SeedSequence(seed)``, so a scenario that changes one
component leaves the others' draws unchanged. Scenarios (``simulator.scenarios``) shift the true
process; ``torque_bias_nm`` only biases the *reported* torque: labels follow the true physics.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from predmaint import physics, schema
from predmaint.config import PhysicsParams, ScenarioParams, SimulatorParams
from predmaint.config.data import WearClockParams

STREAMS: tuple[str, ...] = ("type", "air", "process", "torque", "speed", "tool", "rnf")
BASELINE = ScenarioParams(description="baseline: the documented process")

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def scenario_names(sim: SimulatorParams) -> list[str]:
    """The configured drift scenarios, in params.yaml order."""
    return list(sim.scenarios)


def get_scenario(sim: SimulatorParams, name: str | None) -> ScenarioParams:
    """Return the named scenario, or the baseline for ``None``.

    Raises:
        ValueError: ``name`` is not a configured scenario; the message lists the valid ones.
    """
    if name is None:
        return BASELINE
    if name not in sim.scenarios:
        valid = ", ".join(sim.scenarios) or "none configured"
        raise ValueError(f"unknown scenario {name!r}; valid scenarios (simulator.scenarios): {valid}")
    return sim.scenarios[name]


def product_types(rng: np.random.Generator, n: int, mix: dict[str, float]) -> IntArray:
    """Index into ``schema.PRODUCT_TYPES`` per row (one uniform draw per row, so mixes stay paired)."""
    edges = np.cumsum([mix[t] for t in schema.PRODUCT_TYPES])
    codes = np.searchsorted(edges / edges[-1], rng.random(n), side="right")
    return np.minimum(codes, len(schema.PRODUCT_TYPES) - 1).astype(np.int64)


def unit_walks(rng: np.random.Generator, blocks: int, block: int) -> FloatArray:
    """``blocks`` random walks of ``block`` steps, each normalised to mean 0 and sd 1."""
    walk = np.cumsum(rng.standard_normal((blocks, block)), axis=1)
    walk -= walk.mean(axis=1, keepdims=True)
    walk /= walk.std(axis=1, keepdims=True)
    return walk


def temperature_walks(
    air_rng: np.random.Generator, process_rng: np.random.Generator, n: int, block: int, corr: float
) -> tuple[FloatArray, FloatArray]:
    """The air walk and the process-minus-air walk, unit sd per block, with correlation ``corr``.

    The second walk is made orthogonal to the first within each block before they are mixed, so
    every block has exactly sd 1 and correlation ``corr`` (0 = independent walks).
    """
    blocks = -(-n // block)
    air = unit_walks(air_rng, blocks, block)
    other = unit_walks(process_rng, blocks, block)
    other -= (air * other).mean(axis=1, keepdims=True) * air
    other /= other.std(axis=1, keepdims=True)
    diff = corr * air + np.sqrt(1.0 - corr**2) * other
    return air.ravel()[:n], diff.ravel()[:n]


def wear_clock(rng: np.random.Generator, clock: WearClockParams, n: int) -> FloatArray:
    """``n`` draws of a wear clock: ``start + scale × Weibull(shape)`` minutes."""
    return clock.start_min + clock.weibull_scale_min * rng.weibull(clock.weibull_shape, n)


def tool_wear(
    rng: np.random.Generator,
    increments: IntArray,
    failure: WearClockParams,
    replacement: WearClockParams,
) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """Tool wear before each row and the TWF flag, with tool replacement.

    Args:
        rng: The tool stream.
        increments: Minutes of wear each row's product adds (seen from the next row on).
        failure: The wear clock at which a tool fails (TWF).
        replacement: The wear clock of planned replacement (the maintenance policy).

    Returns:
        The wear per row and whether the row is a tool-wear failure.

    Both clocks are drawn for every row and a tool uses those of its first row, so the end row
    of a tool starting anywhere is one vectorised search; only the chain of tools is a loop.
    """
    n = len(increments)
    fail = wear_clock(rng, failure, n)
    plan = wear_clock(rng, replacement, n)
    cum = np.concatenate(([0.0], np.cumsum(increments, dtype=np.float64)))
    # the last row of a tool starting at row s: the first row j whose product takes the wear to
    # the clock, i.e. cum[j + 1] - cum[s] >= life
    end_if_start = np.searchsorted(cum[1:], cum[:n] + np.minimum(fail, plan), side="left").tolist()
    ends: list[int] = []
    start = 0
    while (end := end_if_start[start]) < n:
        ends.append(end)
        start = end + 1
        if start >= n:
            break
    end_rows = np.asarray(ends, dtype=np.int64)
    starts = np.concatenate(([0], end_rows + 1))
    new_tool = np.zeros(n + 1, dtype=np.int64)
    new_tool[starts[1:]] = 1
    tool = np.cumsum(new_tool[:n])
    wear = cum[:n] - cum[starts[tool]]
    twf = np.zeros(n, dtype=bool)
    first = starts[: len(end_rows)]
    twf[end_rows] = fail[first] <= plan[first]
    return wear.astype(np.int64), twf


def product_ids(codes: IntArray, udi: IntArray, offsets: dict[str, int]) -> pd.Series:
    """``L47181``-style ids: the type letter and ``offset[type] + UDI``, zero-padded to 5 digits."""
    letters = np.asarray(schema.PRODUCT_TYPES, dtype=object)[codes]
    serial = np.asarray([offsets[t] for t in schema.PRODUCT_TYPES], dtype=np.int64)[codes] + udi
    return pd.Series(letters, dtype=object) + pd.Series(serial).astype(str).str.zfill(5)


def simulate(
    sim: SimulatorParams,
    rules: PhysicsParams,
    rows: int | None = None,
    scenario: str | None = None,
    seed: int | None = None,
    start_udi: int = 1,
) -> pd.DataFrame:
    """Generate an AI4I-2020-shaped table of the documented process.

    Args:
        sim: The ``simulator`` section: the process, its noise and the drift scenarios.
        rules: The ``physics`` section: the documented failure rules that set the labels.
        rows: Number of rows; defaults to ``simulator.rows``.
        scenario: A drift scenario from ``simulator.scenarios``; ``None`` is the baseline.
        seed: Seed of the run; defaults to ``simulator.seed``. Same inputs give the same table.
        start_udi: UDI of the first row (Product IDs follow it).

    Returns:
        The columns of ``schema.ALL_COLUMNS`` in order, typed like the real file.

    Raises:
        ValueError: ``rows`` or ``start_udi`` is not positive, or the scenario is unknown.
    """
    n = sim.rows if rows is None else rows
    if n <= 0 or start_udi <= 0:
        raise ValueError(f"rows and start_udi must be positive (got rows={n}, start_udi={start_udi})")
    drift = get_scenario(sim, scenario)
    streams = np.random.SeedSequence(sim.seed if seed is None else seed).spawn(len(STREAMS))
    rng = {name: np.random.default_rng(s) for name, s in zip(STREAMS, streams, strict=True)}

    codes = product_types(rng["type"], n, drift.type_mix or sim.type_mix)
    udi = np.arange(start_udi, start_udi + n, dtype=np.int64)
    air_walk, diff_walk = temperature_walks(rng["air"], rng["process"], n, sim.walk_block_rows, sim.process_air_corr)
    air = sim.air_temp_mean_k + sim.air_temp_sd_k * air_walk
    process = (
        air
        + sim.process_temp_offset_k
        + sim.process_temp_sd_k * diff_walk
        + drift.air_temp_shift_k * drift.process_temp_follow
    )
    torque = np.maximum(rng["torque"].normal(sim.torque_mean_nm, sim.torque_sd_nm, n), sim.torque_min_nm)
    torque = np.round(torque, 1)
    curve = np.interp(torque, sim.speed_curve.torque_nm, sim.speed_curve.speed_rpm)
    speed = np.rint(curve + rng["speed"].normal(0.0, sim.speed_noise_sd_rpm, n)).astype(np.int64)
    per_type = np.asarray([sim.tool_wear_min_per_type[t] for t in schema.PRODUCT_TYPES], dtype=np.int64)
    wear, twf = tool_wear(
        rng["tool"], per_type[codes], sim.tool_failure_wear, drift.tool_replacement_wear or sim.tool_replacement_wear
    )
    draws = rng["rnf"].random((2, n))
    rnf = draws[0] < sim.rnf_probability
    unexplained = draws[1] < sim.unexplained_failure_probability

    columns = {
        schema.UDI: udi,
        schema.PRODUCT_ID: product_ids(codes, udi, sim.serial_offset),
        schema.TYPE: pd.Series(np.asarray(schema.PRODUCT_TYPES, dtype=object)[codes], dtype=object),
        schema.AIR_TEMP: np.round(air + drift.air_temp_shift_k, 1),
        schema.PROCESS_TEMP: np.round(process, 1),
        schema.SPEED: speed,
        schema.TORQUE: torque,
        schema.TOOL_WEAR: wear,
    }
    frame = pd.DataFrame(columns)
    modes = {"TWF": twf, **physics.rule_flags(columns, rules), "RNF": rnf}
    failing = [modes[m] for m in schema.FAILURE_MODES if m != "RNF" or sim.rnf_is_failure]
    frame[schema.TARGET] = (np.logical_or.reduce(failing) | unexplained).astype(np.int64)
    for mode in schema.FAILURE_MODES:
        frame[mode] = modes[mode].astype(np.int64)
    if drift.torque_bias_nm:
        frame[schema.TORQUE] = np.round(torque + drift.torque_bias_nm, 1)
    return frame[list(schema.ALL_COLUMNS)]
