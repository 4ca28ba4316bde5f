"""The Great Expectations suites ``raw`` and ``production``, built from the one data contract.

Every expectation carries ``meta`` with the contract rule it comes from, its reason and whether it
blocks the gate; non-blocking ones also get GX severity ``warning``. GX's
``UnexpectedRowsExpectation`` is SQL-only, so the two row-wise rules compare against columns the
gate derives before validation (pandas ``row_condition``s work too but cost ~0.1 s each):

* ``product_id_matches_type`` — ``Type`` equals ``derived: Product ID letter`` (the ID's first
  character), with ``expect_column_pair_values_to_be_equal``;
* ``label_consistency`` — ``Machine failure`` equals ``derived: any failure mode`` (the max of
  the five flags), non-blocking;
* sensor health (a column's ``health`` in the contract) — the batch's standard deviation is at
  least ``min_std`` (``expect_column_stdev_to_be_between``) and ``derived: <column> repeat run``
  (how many consecutive rows up to each row hold the same value) stays at most ``max_run``: a
  frozen or flat-lined sensor fails the suite, blocking, with the rows where the run grew too long.

The table's column set is checked exactly: the contract's columns plus the derived ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import great_expectations as gx
import great_expectations.expectations as gxe
import pandas as pd
from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResult
from great_expectations.data_context import AbstractDataContext
from great_expectations.data_context.types.base import (
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)
from great_expectations.expectations.metadata_types import FailureSeverity

from predmaint import schema
from predmaint.quality.contract import ColumnRule, Contract, RuleSpec, longest_runs
from predmaint.quality.report import raised_error

_INTS = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "Int8", "Int16", "Int32"]
TYPE_LISTS: dict[str, list[str]] = {
    "integer": [*_INTS, "Int64"],
    "float": [*_INTS, "Int64", "float16", "float32", "float64", "Float32", "Float64"],
    "string": ["object", "str", "string"],
}
DATASOURCE, ASSET, BATCH = "predmaint_pandas", "batch", "whole_frame"
ID_TYPE = "derived: Product ID letter"
ANY_MODE = "derived: any failure mode"


def _meta(rule: str, reason: str, blocking: bool = True) -> dict[str, Any]:
    return {"rule": rule, "reason": reason, "blocking": blocking}


def column_expectations(name: str, rule: ColumnRule) -> list[gxe.Expectation]:
    """The expectations of one column's contract rule.

    A column with an allowed value set gets no separate type check: membership in the set (with
    the structural check that numeric columns hold no text) already fixes its type.
    """
    meta = _meta(f"column: {name}", rule.reason)
    out: list[gxe.Expectation] = [gxe.ExpectColumnValuesToNotBeNull(column=name, meta=meta)]
    if rule.allowed is None:
        out.append(gxe.ExpectColumnValuesToBeInTypeList(column=name, type_list=TYPE_LISTS[rule.dtype], meta=meta))
    if rule.min is not None or rule.max is not None:
        out.append(gxe.ExpectColumnValuesToBeBetween(column=name, min_value=rule.min, max_value=rule.max, meta=meta))
    if rule.allowed is not None:
        out.append(gxe.ExpectColumnValuesToBeInSet(column=name, value_set=list(rule.allowed), meta=meta))
    if rule.pattern is not None:
        out.append(gxe.ExpectColumnValuesToMatchRegex(column=name, regex=rule.pattern, meta=meta))
    if rule.unique:
        out.append(gxe.ExpectColumnValuesToBeUnique(column=name, meta=meta))
    if rule.mean is not None:
        low, high = rule.mean
        out.append(gxe.ExpectColumnMeanToBeBetween(column=name, min_value=low, max_value=high, meta=meta))
    if rule.health is not None:
        health = _meta(f"sensor_health: {name}", rule.health.reason)
        out.append(gxe.ExpectColumnStdevToBeBetween(column=name, min_value=rule.health.min_std, meta=health))
        out.append(
            gxe.ExpectColumnValuesToBeBetween(column=run_column(name), max_value=rule.health.max_run, meta=health)
        )
    return out


def run_column(name: str) -> str:
    """The derived column holding, per row, the length of the run of equal values of ``name``."""
    return f"derived: {name} repeat run"


def _severity(spec: RuleSpec) -> FailureSeverity:
    return FailureSeverity.CRITICAL if spec.blocking else FailureSeverity.WARNING


def _process_above_air(spec: RuleSpec, contract: Contract) -> list[gxe.Expectation]:
    return [
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=schema.PROCESS_TEMP,
            column_B=schema.AIR_TEMP,
            or_equal=False,
            severity=_severity(spec),
            meta=_meta("process_above_air", spec.reason, spec.blocking),
        )
    ]


def _pair_equal(name: str, column_a: str, column_b: str, spec: RuleSpec) -> list[gxe.Expectation]:
    return [
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A=column_a,
            column_B=column_b,
            ignore_row_if="either_value_is_missing",
            severity=_severity(spec),
            meta=_meta(name, spec.reason, spec.blocking),
        )
    ]


def _product_id_matches_type(spec: RuleSpec, contract: Contract) -> list[gxe.Expectation]:
    return _pair_equal("product_id_matches_type", schema.TYPE, ID_TYPE, spec)


def _label_consistency(spec: RuleSpec, contract: Contract) -> list[gxe.Expectation]:
    return _pair_equal("label_consistency", schema.TARGET, ANY_MODE, spec)


DERIVED: dict[str, tuple[str, ...]] = {
    "product_id_matches_type": (ID_TYPE,),
    "label_consistency": (ANY_MODE,),
}


def derived_columns(contract: Contract, suite: str) -> tuple[str, ...]:
    """The columns the gate adds to a batch of ``suite`` before GX validates it."""
    spec = contract.suite(suite)
    runs = tuple(run_column(c) for c in spec.columns if contract.columns[c].health is not None)
    return tuple(c for rule in spec.rules for c in DERIVED.get(rule, ())) + runs


def add_derived(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """Return a copy of ``frame`` with the derived columns the cross-column rules compare against."""
    out = frame.copy()
    if ID_TYPE in columns:
        out[ID_TYPE] = frame[schema.PRODUCT_ID].str[:1]
    if ANY_MODE in columns:
        out[ANY_MODE] = frame[list(schema.FAILURE_MODES)].max(axis=1)
    for column in columns:
        source = column.removeprefix("derived: ").removesuffix(" repeat run")
        if column == run_column(source) and source in frame.columns:
            out[column] = longest_runs(frame[source])
    return out


RULES: dict[str, Callable[[RuleSpec, Contract], list[gxe.Expectation]]] = {
    "process_above_air": _process_above_air,
    "product_id_matches_type": _product_id_matches_type,
    "label_consistency": _label_consistency,
}


def build_suite(contract: Contract, suite: str) -> gx.ExpectationSuite:
    """Build the GX suite ``suite`` (``raw`` or ``production``) from the contract."""
    spec = contract.suite(suite)
    expectations: list[gxe.Expectation] = [
        gxe.ExpectTableColumnsToMatchSet(
            column_set=[*spec.columns, *derived_columns(contract, suite)],
            exact_match=True,
            meta=_meta(
                "columns",
                "Every contract column present, nothing else (any order); "
                "the 'derived:' columns are added by the gate.",
            ),
        ),
        gxe.ExpectTableRowCountToBeBetween(min_value=spec.min_rows, meta=_meta("min_rows", spec.min_rows_reason)),
    ]
    for column in spec.columns:
        expectations += column_expectations(column, contract.columns[column])
    for rule in spec.rules:
        expectations += RULES[rule](contract.rules[rule], contract)
    return gx.ExpectationSuite(
        name=suite,
        expectations=expectations,
        meta={
            "description": spec.description,
            "contract_version": contract.version,
            "contract_sha256": contract.digest,
        },
    )


def build_context(contract: Contract) -> AbstractDataContext:
    """An in-memory GX context holding every suite of the contract and a pandas batch definition.

    Nothing is written to disk: no GX project folder, no temporary Data Docs site.
    """
    config = DataContextConfig(store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False))
    ctx = gx.get_context(mode="ephemeral", project_config=config)
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    ctx.data_sources.add_pandas(DATASOURCE).add_dataframe_asset(ASSET).add_batch_definition_whole_dataframe(BATCH)
    for name in contract.suites:
        ctx.suites.add(build_suite(contract, name))
    return ctx


class SuiteRunner:
    """Validates frames against the contract's suites in one reusable in-memory context.

    The whole suite runs with GX's ``BASIC`` result format (counts and observed values, which is
    what Data Docs render); only the expectations that failed are re-run with ``SUMMARY`` to get
    the indices of example rows. That halves the time of a passing batch.
    """

    def __init__(self, contract: Contract) -> None:
        self.context = build_context(contract)
        asset = self.context.data_sources.get(DATASOURCE).get_asset(ASSET)
        self.batch_definition = asset.get_batch_definition(BATCH)
        self.suites = {name: self.context.suites.get(name) for name in contract.suites}

    def validate(self, frame: pd.DataFrame, suite: str, example_rows: int) -> ExpectationSuiteValidationResult:
        """Validate ``frame`` (derived columns already added) against ``suite``."""
        batch = self.batch_definition.get_batch(batch_parameters={"dataframe": frame})
        expectations = self.suites[suite]
        result = batch.validate(expectations, result_format={"result_format": "BASIC"})
        by_id = {e.id: e for e in expectations.expectations}
        detail = {"result_format": "SUMMARY", "partial_unexpected_count": max(example_rows, 1)}
        for i, item in enumerate(result.results):
            config_id = item.expectation_config.id
            if item.success or raised_error(dict(item.exception_info or {})) or config_id not in by_id:
                continue
            result.results[i] = batch.validate(by_id[config_id], result_format=detail)
        return result
