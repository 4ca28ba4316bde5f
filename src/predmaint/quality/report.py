"""Turn a GX validation result into the gate's report items — no Great Expectations import.

A failed expectation is a *failure* (blocking) or a *warning* (``meta.blocking: false``); one
that raised is a *check error*, never counted as bad data. Each item names the check, the
column, the contract rule and its reason, the unexpected count and example rows.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from predmaint.quality.results import to_jsonable


def raised_error(info: dict[str, Any]) -> str | None:
    """The message if an expectation raised (GX nests it per metric in some cases), else None."""
    if info.get("raised_exception"):
        return str(info.get("exception_message") or "unknown error")
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message") or "unknown error")
    return None


_HIDDEN_KWARGS = {"column", "column_A", "column_B", "batch_id", "condition_parser", "ignore_row_if"}


def _describe(kwargs: dict[str, Any], result: dict[str, Any]) -> str:
    columns = [kwargs[k] for k in ("column", "column_A", "column_B") if kwargs.get(k)]
    shown = {k: v for k, v in kwargs.items() if k not in _HIDDEN_KWARGS and v is not None}
    parts = [" vs ".join(f"'{c}'" for c in columns)] if columns else []
    for key, raw in shown.items():
        value = to_jsonable(raw)
        if isinstance(value, list) and len(value) > 6:
            value = [*value[:3], f"… {len(value)} in all"]
        parts.append(f"{key}={value!r}")
    if "observed_value" in result:
        parts.append(f"observed {to_jsonable(result['observed_value'])!r}")
    mismatched = (result.get("details") or {}).get("mismatched")
    if mismatched:
        parts.append(f"mismatched {to_jsonable(mismatched)}")
    return "; ".join(parts)


def _row_examples(frame: pd.DataFrame, result: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    index = result.get("partial_unexpected_index_list") or []
    rows = []
    for label in index[:limit]:
        if isinstance(label, dict) or label not in frame.index:
            continue
        rows.append({"row": int(label) + 1, **frame.loc[label].to_dict()})
    return rows


def classify(gx_result: Any, frame: pd.DataFrame, limit: int) -> dict[str, list[dict[str, Any]]]:
    """Sort the failed expectations of a GX suite result into failures, warnings and check errors.

    Args:
        gx_result: GX's ``ExpectationSuiteValidationResult``.
        frame: The validated batch (for example rows; the index is the row position).
        limit: Example rows per failure.

    Returns:
        ``{"failures": [...], "warnings": [...], "check_errors": [...]}``, each item naming the
        check, column, contract rule, reason, count and example rows.
    """
    out: dict[str, list[dict[str, Any]]] = {"failures": [], "warnings": [], "check_errors": []}
    for r in gx_result.results:
        if r.success:
            continue
        config = r.expectation_config
        meta = dict(config.meta or {})
        item: dict[str, Any] = {
            "check": config.type,
            "column": config.kwargs.get("column") or config.kwargs.get("column_A"),
            "rule": meta.get("rule"),
            "blocking": bool(meta.get("blocking", True)),
            "reason": meta.get("reason"),
        }
        error = raised_error(dict(r.exception_info or {}))
        if error is not None:
            out["check_errors"].append({**item, "message": f"the expectation raised: {error}"})
            continue
        res = dict(r.result or {})
        item["message"] = _describe(dict(config.kwargs), res)
        if res.get("unexpected_count") is not None:
            item["unexpected_count"] = int(res["unexpected_count"])
            item["unexpected_percent"] = res.get("unexpected_percent")
        item["examples"] = _row_examples(frame, res, limit)
        out["failures" if item["blocking"] else "warnings"].append(item)
    return out
