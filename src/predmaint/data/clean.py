"""The cleaning stage: gated reference rows → the cleaned training data version.

Everything that makes data *invalid* was stopped at the gate, so cleaning changes no values. It
applies one documented policy: rows whose ``Machine failure`` disagrees with the failure-mode
flags (the 27 label quirks of the real data, 23 of them in the reference rows) are dropped into a
sidecar file with the reason (``clean.inconsistent_labels: drop``) or kept (``keep``). The output
is recorded in the manifest with the reference rows' version as its parent; the input is untouched.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from predmaint import schema

from predmaint.data import tables
from predmaint.config import Params
from predmaint.data.lineage import DataVersion, Manifest, file_md5

REASON_COLUMN = "excluded_reason"
FLAG_WITHOUT_FAILURE = "label inconsistency: a failure-mode flag is 1 but 'Machine failure' is 0"
FAILURE_WITHOUT_FLAG = "label inconsistency: 'Machine failure' is 1 but no failure-mode flag is set"


class CleanError(RuntimeError):
    """The input of the cleaning stage is missing or has no recorded version."""


@dataclass(frozen=True)
class CleanResult:
    """The cleaned version and the facts recorded with it."""

    version: DataVersion
    details: dict[str, object]


def label_inconsistency(frame: pd.DataFrame) -> pd.Series:
    """The reason each row's label disagrees with its mode flags ("" where it agrees)."""
    any_mode = frame[list(schema.FAILURE_MODES)].max(axis=1)
    target = frame[schema.TARGET]
    reason = pd.Series("", index=frame.index, dtype=object)
    reason[(any_mode == 1) & (target == 0)] = FLAG_WITHOUT_FAILURE
    reason[(any_mode == 0) & (target == 1)] = FAILURE_WITHOUT_FLAG
    return reason


def clean_frame(frame: pd.DataFrame, inconsistent_labels: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply the cleaning policy.

    Args:
        frame: Gated rows with labels.
        inconsistent_labels: ``drop`` (exclude the rows) or ``keep``.

    Returns:
        The cleaned rows and the excluded rows (with an ``excluded_reason`` column), both in the
        original order.

    Raises:
        ValueError: Unknown policy.
    """
    if inconsistent_labels not in {"drop", "keep"}:
        raise ValueError(f"clean.inconsistent_labels must be 'drop' or 'keep', got {inconsistent_labels!r}")
    reason = label_inconsistency(frame)
    drop = (reason != "") if inconsistent_labels == "drop" else pd.Series(False, index=frame.index)
    excluded = frame[drop].assign(**{REASON_COLUMN: reason[drop]})
    return frame[~drop].reset_index(drop=True), excluded.reset_index(drop=True)


def clean(params: Params) -> CleanResult:
    """Write ``paths.reference`` (and the excluded-rows sidecar beside it) from ``paths.reference_raw``.

    Raises:
        CleanError: The input is missing or the manifest has no version of its current content.
    """
    src = params.path(params.paths.reference_raw)
    out = params.path(params.paths.reference)
    if not src.is_file():
        raise CleanError(f"{src} not found: run `predmaint split` (after the gate) first")
    manifest = Manifest(params.path(params.paths.manifest), params.root)
    parent = manifest.latest_for(src)
    if parent is None or parent.md5 != file_md5(src):
        raise CleanError(f"{src} has no recorded version in {manifest.path}: it did not come from `predmaint split`")
    frame = tables.read_table(src)
    policy = params.clean.inconsistent_labels
    cleaned, excluded = clean_frame(frame, policy)
    sidecar = tables.write_table(excluded, out.parent / params.clean.excluded_rows_file)
    tables.write_table(cleaned, out)
    counts = label_inconsistency(frame).value_counts()
    details: dict[str, object] = {
        "policy": {"inconsistent_labels": policy},
        "input_rows": len(frame),
        "output_rows": len(cleaned),
        "excluded_rows": len(excluded),
        "inconsistent_labels": int(counts.drop("", errors="ignore").sum()),
        "inconsistent_by_reason": {k: int(v) for k, v in counts.items() if k},
        "excluded_file": sidecar.relative_to(params.root).as_posix()
        if sidecar.is_relative_to(params.root)
        else str(sidecar),
        "excluded_md5": file_md5(sidecar),
        "values_modified": 0,
    }
    version = manifest.record(out, stage="clean", rows=len(cleaned), parents=(parent.version_id,), details=details)
    return CleanResult(version=version, details=details)
