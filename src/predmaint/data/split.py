"""Chronological split: the first rows train, the rest are the production stream in daily batches.

Row order is time order in AI4I (air temperature drifts over it), so nothing is shuffled. Each
production day is written as ``day_XX/features.csv`` (what the plant sends) and
``day_XX/labels.csv`` (the ground truth that arrives later), joined by ``UDI``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from predmaint import schema

from predmaint.data import tables
from predmaint.config import Params
from predmaint.data.lineage import DataVersion, Manifest, file_md5

FEATURES_FILE = "features.csv"
LABELS_FILE = "labels.csv"


@dataclass(frozen=True)
class SplitResult:
    """The versions the split wrote."""

    reference: DataVersion
    days: list[tuple[DataVersion, DataVersion]]


def chronological_split(
    frame: pd.DataFrame, train_rows: int, production_rows: int, batch_size: int
) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """Cut a table in time order into a reference part and production batches.

    Args:
        frame: The full table in time order.
        train_rows: Rows at the start that form the training/reference set.
        production_rows: Rows after them that form the production stream.
        batch_size: Rows per production batch (one "day").

    Returns:
        The reference frame and the list of production batches.

    Raises:
        ValueError: The table has fewer rows than ``train_rows + production_rows``.
    """
    needed = train_rows + production_rows
    if len(frame) < needed:
        raise ValueError(f"split needs {needed} rows ({train_rows} + {production_rows}); the table has {len(frame)}")
    reference = frame.iloc[:train_rows].reset_index(drop=True)
    stream = frame.iloc[train_rows:needed].reset_index(drop=True)
    batches = [stream.iloc[i : i + batch_size].reset_index(drop=True) for i in range(0, len(stream), batch_size)]
    return reference, batches


def day_dir(params: Params, day: int) -> Path:
    """The folder of production day ``day`` (1-based)."""
    return params.path(params.paths.production_dir) / f"day_{day:02d}"


def feature_part(frame: pd.DataFrame) -> pd.DataFrame:
    """The columns a production batch carries: ids and features, no labels."""
    return frame[[*schema.ID_COLUMNS, *schema.FEATURE_COLUMNS]]


def label_part(frame: pd.DataFrame) -> pd.DataFrame:
    """The ground truth of a batch, keyed by ``UDI``."""
    return frame[[schema.UDI, *schema.LABEL_COLUMNS]]


def split(params: Params, source: Path | None = None) -> SplitResult:
    """Split the raw table and record every output in the manifest.

    The caller checks the gate first (:func:`predmaint.ops.stages.split` refuses a table whose
    current content has no passing ``raw`` result).

    Args:
        params: The project parameters.
        source: The table to split; defaults to ``paths.raw_file``.
    """
    src = source or params.path(params.paths.raw_file)
    manifest = Manifest(params.path(params.paths.manifest), params.root)
    parent = manifest.latest_for(src)
    if parent is None or parent.md5 != file_md5(src):
        parent = manifest.record(src, stage="ingest", rows=tables.count_rows(src), details={"source": "external"})
    frame = tables.read_table(src)
    s = params.split
    reference, batches = chronological_split(frame, s.train_rows, s.production_rows, s.batch_size)

    ref_path = tables.write_table(reference, params.path(params.paths.reference_raw))
    parents = (parent.version_id,)
    details = {"train_rows": s.train_rows, "first_udi": int(reference[schema.UDI].iloc[0])}
    ref_version = manifest.record(ref_path, stage="split", rows=len(reference), parents=parents, details=details)

    prod_root = params.path(params.paths.production_dir)
    for stale in sorted(prod_root.glob("day_*")):
        for f in stale.iterdir():
            f.unlink()
        stale.rmdir()
    days = []
    for i, batch in enumerate(batches, start=1):
        folder = day_dir(params, i)
        info = {"day": i, "first_udi": int(batch[schema.UDI].iloc[0]), "batch_size": s.batch_size}
        feats = tables.write_table(feature_part(batch), folder / FEATURES_FILE)
        labels = tables.write_table(label_part(batch), folder / LABELS_FILE)
        days.append(
            (
                manifest.record(feats, stage="split", rows=len(batch), parents=parents, details=info),
                manifest.record(labels, stage="split", rows=len(batch), parents=parents, details=info),
            )
        )
    return SplitResult(reference=ref_version, days=days)


def load_day(params: Params, day: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read production day ``day``: its features and its labels."""
    folder = day_dir(params, day)
    features = tables.read_table(folder / FEATURES_FILE, required=(*schema.ID_COLUMNS, *schema.FEATURE_COLUMNS))
    labels = tables.read_table(folder / LABELS_FILE, required=(schema.UDI, *schema.LABEL_COLUMNS))
    return features, labels


def production_days(params: Params) -> list[int]:
    """The production days present on disk, in order."""
    root = params.path(params.paths.production_dir)
    return sorted(int(p.name.split("_")[1]) for p in root.glob("day_*") if (p / FEATURES_FILE).exists())
