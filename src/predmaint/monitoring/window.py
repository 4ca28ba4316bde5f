"""The frames monitoring compares: checks, labels, served decisions and seeded sampling.

A *window* is any frame with the AI4I feature columns (``schema.FEATURE_COLUMNS``) and, when known,
``prediction`` (failure probability), ``decision`` (the alarm that was served, 0/1), ``threshold``,
``model_version``, ``timestamp`` and ``target`` (the label, NaN until it arrives). The prediction
log's reader returns exactly this; a plain AI4I CSV works too (its ``Machine failure`` column is
taken as the label). The *reference* has the same shape (the training data).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from predmaint import schema
from predmaint.data.tables import SchemaError

PREDICTION = "prediction"
DECISION = "decision"
THRESHOLD = "threshold"
TARGET = "target"
MODEL_VERSION = "model_version"
TIMESTAMP = "timestamp"
LABEL_COLUMNS: tuple[str, ...] = (TARGET, schema.TARGET)


def check_frame(frame: pd.DataFrame, name: str) -> None:
    """Raise a clear error if ``frame`` lacks features or carries invalid predictions or labels.

    Args:
        frame: A window or the reference.
        name: What the frame is, for the message (``"window"``, ``"reference"``).

    Raises:
        SchemaError: A feature column is missing, a probability is outside [0, 1], or a label is
            not 0, 1 or missing. The message names the frame and the column.
    """
    missing = [c for c in schema.FEATURE_COLUMNS if c not in frame.columns]
    if missing:
        raise SchemaError(f"{name}: missing feature column(s): {', '.join(missing)}")
    if frame.empty:
        raise SchemaError(f"{name}: no rows")
    if PREDICTION in frame.columns:
        p = pd.to_numeric(frame[PREDICTION], errors="coerce")
        bad = p.isna() | (p < 0) | (p > 1)
        if bad.any():
            raise SchemaError(
                f"{name}: column '{PREDICTION}' needs probabilities in [0, 1]; {int(bad.sum())} rows are not"
            )
    col = label_column(frame)
    if col is not None:
        y = pd.to_numeric(frame[col], errors="coerce")
        bad = frame[col].notna() & ~y.isin([0, 1])
        if bad.any():
            raise SchemaError(f"{name}: column '{col}' must be 0, 1 or empty; {int(bad.sum())} rows are not")


def label_column(frame: pd.DataFrame) -> str | None:
    """The label column: ``target`` (prediction log) or ``Machine failure`` (AI4I table)."""
    return next((c for c in LABEL_COLUMNS if c in frame.columns), None)


def labels(frame: pd.DataFrame) -> pd.Series:
    """The labels as floats (NaN = not arrived yet); all NaN when the frame has no label column."""
    col = label_column(frame)
    if col is None:
        return pd.Series(np.nan, index=frame.index, dtype=float)
    return pd.to_numeric(frame[col], errors="coerce").astype(float)


def resolve_threshold(frame: pd.DataFrame, threshold: float | None, baseline: dict[str, Any]) -> float | None:
    """The alarm threshold: the argument, else the newest ``threshold`` served, else the baseline's."""
    if threshold is not None:
        return float(threshold)
    if THRESHOLD in frame.columns and frame[THRESHOLD].notna().any():
        return float(frame[THRESHOLD].dropna().iloc[-1])
    value = baseline.get(THRESHOLD)
    return None if value is None else float(value)


def served_decisions(frame: pd.DataFrame, threshold: float | None) -> pd.Series | None:
    """The alarm per row: the ``decision`` served, else ``prediction >= threshold``; None if unknown."""
    if DECISION in frame.columns:
        return pd.to_numeric(frame[DECISION], errors="raise").astype(int)
    if PREDICTION in frame.columns and threshold is not None:
        return (frame[PREDICTION].astype(float) >= threshold).astype(int)
    return None


def sample_rows(frame: pd.DataFrame, max_rows: int, seed: int) -> pd.DataFrame:
    """A seeded uniform sample of at most ``max_rows`` rows, kept in their original order."""
    if len(frame) <= max_rows:
        return frame
    picked = np.sort(np.random.default_rng(seed).choice(len(frame), size=max_rows, replace=False))
    return frame.iloc[picked]


def time_span(frame: pd.DataFrame) -> tuple[str | None, str | None]:
    """First and last ``timestamp`` of the window as ISO strings (None without timestamps)."""
    if TIMESTAMP not in frame.columns or frame[TIMESTAMP].isna().all():
        return None, None
    stamps = pd.to_datetime(frame[TIMESTAMP], utc=True)
    return stamps.min().isoformat(), stamps.max().isoformat()


def model_versions(frame: pd.DataFrame) -> list[str]:
    """The distinct model versions that served the window, in order of first appearance."""
    if MODEL_VERSION not in frame.columns:
        return []
    return [str(v) for v in pd.unique(frame[MODEL_VERSION].dropna())]


def with_predictions(frame: pd.DataFrame, proba: Any, threshold: float) -> pd.DataFrame:
    """A copy of ``frame`` with ``prediction``, ``decision`` and ``threshold`` from a model's scores."""
    out = frame.copy()
    out[PREDICTION] = np.asarray(proba, dtype=float)
    out[DECISION] = (out[PREDICTION] >= threshold).astype(int)
    out[THRESHOLD] = float(threshold)
    return out
