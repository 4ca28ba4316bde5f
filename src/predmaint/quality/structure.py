"""Can the batch be validated at all? Parsing and structural checks before Great Expectations runs.

An empty file, a header without rows, a missing column or text in a numeric column would make
GX's column expectations raise (and a raised expectation is a broken *check*, not bad data). So
these are found here first, reported in the same shape as a failed expectation, and GX only sees
tables whose structure is sound.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pandas as pd

from predmaint.data import tables
from predmaint.quality.contract import Contract

STRING_DTYPES = ("object", "string", "str")


class ParseError(ValueError):
    """The file is not a readable CSV table; the message says why."""


def read_batch(path: Path) -> pd.DataFrame:
    """Read a CSV batch (BOM or not, any line endings, any column order) without coercing values.

    Raises:
        ParseError: The file is empty, not UTF-8 text, or not a well-formed CSV table.
    """
    payload = path.read_bytes()
    if not payload.strip():
        raise ParseError(f"{path.name} is empty (0 data bytes)")
    try:
        payload.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(f"{path.name} is not UTF-8 text: {exc}") from None
    try:
        return tables.read_table(payload, required=())
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
        raise ParseError(f"{path.name} is not a well-formed CSV table: {exc}".strip()) from None


def _failure(check: str, message: str, column: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"check": check, "column": column, "blocking": True, "message": message, **extra}


def _examples(frame: pd.DataFrame, positions: list[int], columns: list[str]) -> list[dict[str, Any]]:
    shown = [c for c in columns if c in frame.columns]
    return [{"row": pos + 1, **{c: frame.iloc[pos][c] for c in shown}} for pos in positions if 0 <= pos < len(frame)]


def structural_failures(frame: pd.DataFrame, contract: Contract, suite: str, example_rows: int) -> list[dict[str, Any]]:
    """Find what makes a table unvalidatable: no rows, missing or unknown columns, wrong kinds.

    Args:
        frame: The batch as read (values not coerced).
        contract: The data contract (column kinds).
        suite: The suite whose columns are required.
        example_rows: How many example rows to show per failure.

    Returns:
        Failures in the same shape as failed expectations (empty when the structure is sound).
    """
    spec = contract.suite(suite)
    failures = []
    missing = [c for c in spec.columns if c not in frame.columns]
    extra = [c for c in frame.columns if c not in spec.columns]
    if missing:
        failures.append(
            _failure("structure: missing columns", f"missing column(s): {', '.join(missing)}", missing=missing)
        )
    if extra:
        failures.append(
            _failure(
                "structure: unexpected columns",
                f"column(s) not in the '{suite}' contract: {', '.join(map(str, extra))}",
                unexpected=[str(c) for c in extra],
            )
        )
    if frame.empty:
        failures.append(_failure("structure: no data rows", "the file has a header but no data rows"))
        return failures
    id_cols = [c for c in ("UDI", "Product ID") if c in frame.columns]
    for column in [c for c in spec.columns if c in frame.columns]:
        kind = contract.columns[column].dtype
        values = frame[column]
        if kind == "string":
            if str(values.dtype) not in STRING_DTYPES and values.notna().any():
                failures.append(
                    _failure(
                        "structure: not text",
                        f"column '{column}' should hold text but was read as {values.dtype}",
                        column,
                    )
                )
            continue
        coerced = pd.to_numeric(values, errors="coerce")
        bad = coerced.isna() & values.notna()
        if bad.any():
            positions = [int(i) for i in bad.to_numpy().nonzero()[0][:example_rows]]
            failures.append(
                _failure(
                    "structure: text in a numeric column",
                    f"column '{column}' should be numeric ({kind}) but holds text",
                    column,
                    unexpected_count=int(bad.sum()),
                    examples=_examples(frame, positions, [*id_cols, column]),
                )
            )
    return failures
