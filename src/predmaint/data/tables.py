"""Reading and writing AI4I-shaped tables robustly (BOM, CRLF, any column order)."""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from predmaint import schema


class SchemaError(ValueError):
    """A table lacks columns the AI4I schema requires."""


def read_table(source: Path | bytes, required: Iterable[str] = schema.ALL_COLUMNS) -> pd.DataFrame:
    """Read a CSV (path or bytes) with or without a BOM and with any line endings.

    Columns are stripped of surrounding whitespace and put in canonical AI4I order, with any
    extra columns after them. Values are not coerced: validation decides what is bad data.

    Args:
        source: A CSV file or its bytes.
        required: Columns that must be present.

    Raises:
        SchemaError: A required column is missing; the message lists which.
    """
    raw = source.read_bytes() if isinstance(source, Path) else source
    frame = pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig")
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise SchemaError(f"missing column(s): {', '.join(missing)}")
    ordered = [c for c in schema.ALL_COLUMNS if c in frame.columns]
    return frame[ordered + [c for c in frame.columns if c not in ordered]]


def write_table(frame: pd.DataFrame, path: Path) -> Path:
    """Write a table as UTF-8 CSV with LF line endings (deterministic bytes for DVC hashes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, lineterminator="\n")
    return path


def count_rows(path: Path) -> int:
    """Number of data rows in a CSV file (header excluded)."""
    with path.open("rb") as fh:
        lines = sum(1 for line in fh if line.strip())
    return max(lines - 1, 0)
