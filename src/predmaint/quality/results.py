"""Gate results on disk and their human-readable summary — no Great Expectations import.

A passing batch's result is stored as ``<paths.validation_dir>/<suite>/<stem>_<md5>.json``: the
md5 ties the result to the exact bytes that were checked, so a later stage (``split``) can refuse
data whose current content has no passing result.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np

from predmaint.config import Params
from predmaint.data.lineage import file_md5

RESULT_FILE = "validation_result.json"
REASON_FILE = "REASON.txt"


@dataclass
class GateResult:
    """The outcome of validating one batch.

    Attributes:
        success: No blocking expectation failed and no check errored.
        summary: JSON-safe summary: failures, warnings and check errors with counts and examples.
        result_path: Where the result JSON was stored (``validate_file`` only).
        quarantine_dir: Where a rejected file was moved (``validate_file`` only).
        gx_result: GX's own validation result as a JSON dict (None if GX did not run).
    """

    success: bool
    summary: dict[str, Any]
    result_path: Path | None = None
    quarantine_dir: Path | None = None
    gx_result: dict[str, Any] | None = field(default=None, repr=False)


class GateError(RuntimeError):
    """A batch failed the gate (it has been quarantined) or has no passing result."""

    def __init__(self, message: str, result: GateResult | None = None) -> None:
        super().__init__(message)
        self.result = result


class CheckError(GateError):
    """An expectation itself raised: the check is broken, the data was not judged (and not moved)."""


def to_jsonable(value: Any) -> Any:
    """Turn numpy/pandas scalars and containers into plain JSON types."""

    def default(obj: Any) -> Any:
        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, datetime | date):
            return obj.isoformat()
        if isinstance(obj, set | tuple):
            return list(obj)
        return str(obj)

    return _finite(json.loads(json.dumps(value, default=default)))


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def result_file(params: Params, suite: str, stem: str, md5: str) -> Path:
    """Where the result for the file ``stem`` with content ``md5`` is stored."""
    return params.path(params.paths.validation_dir) / suite / f"{stem}_{md5}.json"


def write_result(path: Path, result: GateResult) -> Path:
    """Write the summary and GX's result as one JSON document."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"summary": result.summary, "gx_result": result.gx_result}
    path.write_text(json.dumps(to_jsonable(payload), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def read_result(path: Path) -> dict[str, Any]:
    """Read a stored result document (``{"summary": ..., "gx_result": ...}``)."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def passing_result(params: Params, data_path: Path, suite: str) -> Path | None:
    """The stored passing result for the current bytes of ``data_path``, or None."""
    path = result_file(params, suite, data_path.stem, file_md5(data_path))
    if not path.is_file():
        return None
    return path if read_result(path)["summary"].get("success") is True else None


def require_passing(params: Params, data_path: Path, suite: str) -> Path:
    """Return the passing result of ``data_path`` or refuse.

    Raises:
        GateError: The file's current content has no passing result for ``suite``.
    """
    found = passing_result(params, data_path, suite)
    if found is None:
        raise GateError(
            f"refusing to use {data_path} (md5 {file_md5(data_path)}): it has no passing '{suite}' "
            f"validation result under {params.path(params.paths.validation_dir) / suite}. "
            f"Run `predmaint validate {data_path} --suite {suite}` first."
        )
    return found


def _example_text(example: dict[str, Any]) -> str:
    row = example.get("row")
    values = ", ".join(f"{k}={v!r}" for k, v in example.items() if k != "row")
    return f"row {row}: {values}" if row is not None else values


def format_summary(summary: dict[str, Any]) -> str:
    """A human-readable report: verdict, then each failure, check error and warning."""
    verdict = "PASSED" if summary["success"] else "FAILED"
    lines = [
        f"{verdict}: {summary['name']} against suite '{summary['suite']}' "
        f"({summary.get('rows', '?')} rows, md5 {summary.get('md5', '?')})"
    ]
    sections = (
        ("blocking failures", summary.get("failures", [])),
        ("check errors (the check broke; the data was not judged)", summary.get("check_errors", [])),
        ("warnings (non-blocking)", summary.get("warnings", [])),
    )
    for title, items in sections:
        if not items:
            continue
        lines.append(f"{title}:")
        for item in items:
            count = item.get("unexpected_count")
            counted = f" — {count} row(s)" if count is not None else ""
            rule = item.get("rule") or ""
            named = f" [rule {rule}]" if rule and not rule.startswith("column") else ""
            lines.append(f"  - {item['check']}{named}{counted}: {item['message']}")
            lines.extend(f"      e.g. {_example_text(ex)}" for ex in item.get("examples", []))
    return "\n".join(lines)
