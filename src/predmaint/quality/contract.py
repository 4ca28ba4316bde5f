"""The data contract (``expectations/contract.yaml``) as plain Python — no Great Expectations import.

The contract is the one definition of valid data: the GX suites are built from it
(:mod:`predmaint.quality.suites`) and the API reads the same sensor bounds from it to reject bad
requests. This module imports only pydantic and yaml, so the serving process can use it without
pulling in GX.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from predmaint import schema
from predmaint.config import Params

RuleName = Literal["process_above_air", "product_id_matches_type", "label_consistency"]


class ContractError(ValueError):
    """The contract file is missing or invalid; the message names the file and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SensorHealth(_Strict):
    """When a sensor column looks frozen or flat-lined in a batch (a stuck or disconnected sensor).

    Attributes:
        min_std: The batch's standard deviation must be at least this (the reference's is far above).
        max_run: No value may repeat in more than this many consecutive rows.
        reason: Why these limits (named in the gate's report).
    """

    min_std: float = Field(ge=0)
    max_run: int = Field(ge=2)
    reason: str


class ColumnRule(_Strict):
    """What a valid value of one column is."""

    dtype: Literal["integer", "float", "string"]
    reason: str
    unit: str | None = None
    min: float | None = None
    max: float | None = None
    allowed: tuple[str | int, ...] | None = None
    pattern: str | None = None
    unique: bool = False
    mean: tuple[float, float] | None = None
    health: SensorHealth | None = None

    @model_validator(mode="after")
    def _ordered(self) -> ColumnRule:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        if self.mean is not None and self.mean[0] > self.mean[1]:
            raise ValueError(f"mean band {self.mean} is not ordered")
        return self


class RuleSpec(_Strict):
    """A check across columns; non-blocking rules are reported but do not fail the gate."""

    blocking: bool
    reason: str


class SuiteSpec(_Strict):
    """Which columns and rules one suite checks, and its minimum row count."""

    description: str
    columns: tuple[str, ...]
    min_rows: int
    min_rows_reason: str
    rules: tuple[RuleName, ...] = ()


class Contract(_Strict):
    """The validated contract; ``digest`` is the sha256 of the file it was read from."""

    version: int
    columns: dict[str, ColumnRule]
    rules: dict[RuleName, RuleSpec]
    suites: dict[str, SuiteSpec]
    digest: str = ""
    source: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> Contract:
        for name, suite in self.suites.items():
            unknown = [c for c in suite.columns if c not in self.columns]
            if unknown:
                raise ValueError(f"suite '{name}' lists columns without a rule: {unknown}")
            missing_rules = [r for r in suite.rules if r not in self.rules]
            if missing_rules:
                raise ValueError(f"suite '{name}' uses undefined rules: {missing_rules}")
        return self

    @property
    def bounds(self) -> dict[str, tuple[float, float]]:
        """Valid ``(min, max)`` of each sensor column, by AI4I column name."""
        return {
            name: (rule.min, rule.max)
            for name, rule in self.columns.items()
            if rule.min is not None and rule.max is not None
        }

    @property
    def reasons(self) -> dict[str, str]:
        """Why each column's rule (and each cross-column rule) is what it is."""
        return {
            **{n: r.reason for n, r in self.columns.items()},
            **{n: r.reason for n, r in self.rules.items()},
        }

    @property
    def product_types(self) -> tuple[str, ...]:
        """The allowed product types."""
        allowed = self.columns[schema.TYPE].allowed or ()
        return tuple(str(v) for v in allowed)

    @property
    def product_id_pattern(self) -> str:
        """The regular expression a Product ID must match."""
        return self.columns[schema.PRODUCT_ID].pattern or ""

    def suite(self, name: str) -> SuiteSpec:
        """The spec of suite ``name``.

        Raises:
            ContractError: The contract defines no such suite.
        """
        if name not in self.suites:
            raise ContractError(f"unknown suite '{name}'; the contract defines {sorted(self.suites)}")
        return self.suites[name]

    def reading_violations(self, reading: Mapping[str, Any]) -> list[str]:
        """Check one sensor reading (AI4I column names) against the bounds, types and rules.

        Returns:
            One message per violation, naming the field and the valid range; empty when valid.
        """
        problems = []
        kind = reading.get(schema.TYPE)
        if schema.TYPE in reading and kind not in self.product_types:
            problems.append(f"{schema.TYPE}: {kind!r} is not one of {list(self.product_types)}")
        for name, (low, high) in self.bounds.items():
            if name not in reading:
                continue
            value = reading[name]
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                problems.append(f"{name}: {value!r} is not a finite number")
            elif not low <= value <= high:
                unit = self.columns[name].unit or ""
                problems.append(f"{name}: {value} is outside [{low:g}, {high:g}] {unit}".rstrip())
        air, proc = reading.get(schema.AIR_TEMP), reading.get(schema.PROCESS_TEMP)
        if isinstance(air, int | float) and isinstance(proc, int | float) and not proc > air:
            problems.append(f"{schema.PROCESS_TEMP}: {proc} is not above {schema.AIR_TEMP} {air}")
        return problems


def longest_runs(values: pd.Series) -> pd.Series:
    """For each row, how many consecutive rows up to it hold the same value (1 for a change)."""
    runs = (values != values.shift()).cumsum()
    return values.groupby(runs).cumcount() + 1


def sensor_health(frame: pd.DataFrame, contract: Contract) -> dict[str, str]:
    """Sensor columns of ``frame`` that look frozen or flat-lined, with the reason (pandas only, no GX).

    Returns:
        Column → what is wrong (standard deviation below ``health.min_std`` or a value repeated in
        more than ``health.max_run`` consecutive rows); empty when every sensor looks alive.
    """
    found: dict[str, str] = {}
    for name, rule in contract.columns.items():
        health = rule.health
        if health is None or name not in frame.columns or len(frame) < 2:
            continue
        values = pd.to_numeric(frame[name], errors="coerce").dropna()
        std = float(values.std()) if len(values) > 1 else 0.0
        run = int(longest_runs(values).max()) if len(values) else 0
        if std < health.min_std:
            found[name] = f"standard deviation {std:.3g} is below {health.min_std:g} (flat-lined sensor)"
        elif run > health.max_run:
            found[name] = f"one value repeats in {run} consecutive rows, more than {health.max_run} (frozen sensor)"
    return found


def contract_path(params: Params) -> Path:
    """The contract file named by ``paths.contract``."""
    return params.path(params.paths.contract)


@lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int) -> Contract:
    file = Path(path)
    text = file.read_bytes()
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ContractError(f"{file}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ContractError(f"{file}: expected a mapping at the top level")
    raw = {**raw, "digest": hashlib.sha256(text).hexdigest(), "source": str(file)}
    try:
        return Contract.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{file}: invalid data contract"]
        lines += [f"  - '{'.'.join(str(p) for p in e['loc'])}': {e['msg']}" for e in exc.errors()]
        raise ContractError("\n".join(lines)) from None


def load_contract(params: Params) -> Contract:
    """Read and validate the data contract (cached until the file changes).

    Raises:
        ContractError: The file is missing or invalid; the message names the file and key.
    """
    file = contract_path(params)
    if not file.is_file():
        raise ContractError(f"{file}: data contract not found (paths.contract in params.yaml)")
    return _load(str(file), file.stat().st_mtime_ns)
