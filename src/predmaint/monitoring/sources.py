"""Where monitoring's inputs come from: the reference table, the window, the champion's baseline.

The I/O edge of the package: the CLI and the monitoring flow call these, the pure functions in
:mod:`predmaint.monitoring.summary` and :mod:`predmaint.monitoring.trigger` never read files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from predmaint import schema
from predmaint.config import Params
from predmaint.data import tables
from predmaint.data.lineage import file_md5
from predmaint.model.registry import RegistryError, load_model, read_metadata, resolve
from predmaint.monitoring import window as w
from predmaint.monitoring.performance import baseline_from_metrics
from predmaint.service.predlog import location, read_log
from predmaint.service.predlog_db import display

LOG_WINDOW = "log"


@dataclass(frozen=True)
class Champion:
    """What monitoring needs of the serving model: its scores, threshold and training baseline."""

    version: str
    threshold: float
    baseline: dict[str, float]
    model: Any

    def score(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with the model's ``prediction``/``decision``/``threshold`` columns added."""
        return w.with_predictions(frame, self.model.predict_proba(frame), self.threshold)


def reference_path(params: Params) -> Path:
    """``paths.reference`` (cleaned training data), else ``paths.reference_raw``.

    Raises:
        FileNotFoundError: Neither exists; the message names both.
    """
    for candidate in (params.paths.reference, params.paths.reference_raw):
        path = params.path(candidate)
        if path.is_file():
            return path
    raise FileNotFoundError(
        f"no reference data at {params.path(params.paths.reference)} or "
        f"{params.path(params.paths.reference_raw)} (run `predmaint ingest` and `predmaint split`)"
    )


def load_reference(params: Params, path: Path | None = None) -> pd.DataFrame:
    """Read the reference table (features and labels)."""
    return tables.read_table(path or reference_path(params), required=schema.FEATURE_COLUMNS)


def load_window(params: Params, source: str, rows: int | None = None) -> pd.DataFrame:
    """The window to monitor: a CSV file, or the newest ``rows`` predictions of the prediction log
    (across its archive when the live log holds fewer).

    Args:
        params: The project parameters.
        source: A CSV path (AI4I columns, optional ``prediction``/``decision``/``target``) or ``"log"``.
        rows: Rows to take from the log (default ``monitoring.window_rows``); ignored for a CSV.

    Raises:
        FileNotFoundError: The CSV does not exist, or the log holds no predictions yet.
    """
    if source == LOG_WINDOW:
        frame = read_log(params, limit=rows or params.monitoring.window_rows)
        if frame.empty:
            raise FileNotFoundError(f"the prediction log {display(location(params))} holds no predictions yet")
        return frame
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"window file not found: {path}")
    return tables.read_table(path, required=schema.FEATURE_COLUMNS)


def load_baseline(path: Path) -> dict[str, float]:
    """A training baseline from a JSON file of metrics (e.g. a model's ``metadata.json`` metrics)."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    metrics = doc.get("metrics", {}).get("validation", doc) if isinstance(doc, dict) else doc
    return baseline_from_metrics(metrics)


def champion_reference(params: Params) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Monitoring's reference: the serving champion's training window, as its ``metadata.json`` records it.

    Drift is measured against the data the serving model learned from, so after a promotion the
    reference moves with the champion and a shift it was trained on is no longer drift. The file
    must still hold the recorded version (its md5 is checked against the metadata; the manifest
    version id is carried along). Without a champion, or when that file is gone or changed, the
    reference is :func:`reference_path` and ``info["note"]`` says why.

    Returns:
        The reference table and what it is: ``source`` (``champion`` or ``paths.reference``),
        ``model_version``, ``path``, ``md5``, ``version_id``, ``rows`` and, on a fallback, ``note``.
    """
    info: dict[str, Any] = {}
    try:
        mv = resolve(params)
        recorded = read_metadata(params, str(mv.run_id)).get("data", {})
    except RegistryError as exc:
        info["note"] = f"no champion ({exc}): reference is paths.reference"
    else:
        path = params.path(recorded.get("path", ""))
        info.update(model_version=str(mv.version), version_id=recorded.get("version_id"), md5=recorded.get("md5"))
        if path.is_file() and file_md5(path) == recorded.get("md5"):
            frame = load_reference(params, path)
            return frame, {**info, "source": "champion", "path": recorded["path"], "rows": len(frame)}
        why = "is missing" if not path.is_file() else "no longer holds the recorded version (md5 differs)"
        info["note"] = f"the champion's training window {recorded.get('path')} {why}: reference is paths.reference"
    path = reference_path(params)
    frame = load_reference(params, path)
    return frame, {**info, "source": "paths.reference", "path": str(path), "md5": file_md5(path), "rows": len(frame)}


def champion_baseline(params: Params) -> tuple[str, float, dict[str, float]]:
    """The champion's version, threshold and validation baseline, without loading the model.

    Raises:
        predmaint.model.registry.RegistryError: There is no champion in the registry.
    """
    mv = resolve(params)
    metadata = read_metadata(params, str(mv.run_id))
    threshold = float(mv.tags.get("threshold", metadata["threshold"]))
    return str(mv.version), threshold, baseline_from_metrics(metadata["metrics"]["validation"])


def champion(params: Params) -> Champion:
    """The champion model with its validation metrics as the training baseline.

    Raises:
        predmaint.model.registry.RegistryError: There is no champion in the registry.
    """
    loaded = load_model(params)
    baseline = baseline_from_metrics(loaded.metadata["metrics"]["validation"])
    return Champion(version=loaded.version, threshold=loaded.threshold, baseline=baseline, model=loaded)
