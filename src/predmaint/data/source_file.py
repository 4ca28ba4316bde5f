"""The configured data file, checked before anything heavy is imported (a bad file is a one-line error at once).

``read_source_file`` tells a *missing* file (:class:`SourceMissingError`: the next source may be
tried) from a file that is there but cannot be read or is not the AI4I table (:class:`IngestError`:
stop). It reads the bytes and checks, with the ``csv`` module only, that they are UTF-8 text whose
header names every AI4I column and that at least one data row follows; the full parse (pandas) is
the caller's.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from predmaint import schema


class IngestError(RuntimeError):
    """No source yielded the table, a source is present but invalid, or the raw file would be modified."""


class SourceMissingError(LookupError):
    """The source is not there (no file, no download): the next configured source may be tried."""


def _missing_columns(columns: list[str]) -> list[str]:
    """The AI4I columns not among ``columns`` (names compared without surrounding whitespace)."""
    given = {c.strip() for c in columns}
    return [c for c in schema.ALL_COLUMNS if c not in given]


def reason(exc: BaseException) -> str:
    """``Type: first line`` of an exception, for a one-line error."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


def _sniff(payload: bytes) -> None:
    text = payload[: 1 << 16].decode("utf-8-sig", errors="strict" if len(payload) <= 1 << 16 else "ignore")
    rows = csv.reader(io.StringIO(text))
    header = next(rows, None)
    if not header:
        raise ValueError("the file is empty (no header)")
    missing = _missing_columns(header)
    if missing:
        raise ValueError(f"missing column(s): {', '.join(missing)}")
    if not any(any(cell.strip() for cell in row) for row in rows):
        raise ValueError("the table has a header but no data rows")


def read_source_file(path: Path) -> bytes:
    """The bytes of the configured CSV, once they look like the AI4I table.

    Raises:
        SourceMissingError: Nothing at ``path``.
        IngestError: Something is there but cannot be read or is not the AI4I table (a symbolic
            link to nothing or a link loop included); the one-line message names the file and why.
    """
    try:
        if not path.exists() and not path.is_symlink():
            raise SourceMissingError(f"no file at {path}")
        if not path.exists():  # a link to nothing, or a loop: the file is meant to be there
            raise OSError(f"a symbolic link whose target cannot be reached ({os.readlink(path)})")
        payload = path.read_bytes()
        _sniff(payload)
    except SourceMissingError:
        raise
    except Exception as exc:
        raise IngestError(f"{path}: cannot ingest the configured data file: {reason(exc)}") from None
    return payload
