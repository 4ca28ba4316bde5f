"""Re-train a registered version from its recorded params and data, and prove the result is identical.

The version's metadata.json holds the params sections that determine the model and the md5 of its
training data. The data is taken from the recorded path when its bytes still match, otherwise it
is restored from the DVC cache or the DVC remote by md5 (``files/md5/<2>/<30>``). The refit must
give the same threshold, validation metrics and holdout predictions, bit for bit.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from predmaint import schema
from predmaint.config import Params
from predmaint.data.lineage import file_md5
from predmaint.model import registry
from predmaint.model.train import FitSettings, fit, read_training_data


@dataclass(frozen=True)
class ReproduceReport:
    """The outcome of a reproduction: identical or a list of differences."""

    version: str
    data_source: str
    differences: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing differs."""
        return not self.differences


def candidates(params: Params, md5: str, recorded: str) -> list[Path]:
    """Where the training data with this md5 may be: the recorded path, the DVC cache, the DVC remote."""
    rel = Path("files") / "md5" / md5[:2] / md5[2:]
    return [
        params.path(recorded),
        params.root / ".dvc" / "cache" / rel,
        params.path(params.paths.dvc_remote) / rel,
    ]


def locate_data(params: Params, md5: str, recorded: str) -> tuple[Path | None, list[str]]:
    """The first candidate whose bytes have the recorded md5, and what was found elsewhere."""
    notes = []
    for path in candidates(params, md5, recorded):
        if not path.is_file():
            notes.append(f"{path}: absent")
            continue
        actual = file_md5(path)
        if actual == md5:
            return path, notes
        notes.append(f"{path}: md5 {actual} != recorded {md5}")
    return None, notes


def recorded_params(params: Params, metadata: dict[str, Any]) -> Params:
    """``params`` with the model-determining sections replaced by the recorded ones."""
    raw = params.model_dump(mode="python")
    raw.update(metadata["params"])
    return Params.model_validate(raw)


def compare(expected: dict[str, Any], actual: dict[str, Any], prefix: str, differences: list[str]) -> None:
    """Append a line to ``differences`` for every key whose value differs (exactly)."""
    for key in sorted(set(expected) | set(actual)):
        a, b = expected.get(key), actual.get(key)
        same = a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))
        if not same:
            differences.append(f"{prefix}{key}: recorded {a!r} != reproduced {b!r}")


def reproduce(params: Params, version: str) -> ReproduceReport:
    """Re-train ``version`` and compare threshold, validation metrics and holdout predictions.

    Raises:
        predmaint.model.registry.RegistryError: The version does not exist.
    """
    import mlflow

    mv = registry.resolve(params, version=version)
    metadata = registry.read_metadata(params, str(mv.run_id))
    data = metadata["data"]
    path, notes = locate_data(params, data["md5"], data["path"])
    if path is None:
        return ReproduceReport(
            version,
            "missing",
            [f"training data md5 {data['md5']} ({data['path']}) not found:", *(f"  {n}" for n in notes)],
        )
    frame = read_training_data(path)
    fitted = fit(FitSettings.of(recorded_params(params, metadata)), frame)
    differences: list[str] = []
    if fitted.threshold != metadata["threshold"]:
        differences.append(f"threshold: recorded {metadata['threshold']!r} != reproduced {fitted.threshold!r}")
    compare(metadata["metrics"]["validation"], fitted.validation, "validation.", differences)
    with tempfile.TemporaryDirectory() as tmp:
        local = mlflow.artifacts.download_artifacts(
            run_id=str(mv.run_id), artifact_path=registry.HOLDOUT_PREDICTIONS_ARTIFACT, dst_path=tmp
        )
        recorded = pd.read_csv(local, float_precision="round_trip")
    mine = pd.DataFrame({schema.UDI: fitted.holdout[schema.UDI], "proba": fitted.holdout_proba})
    if len(recorded) != len(mine) or not np.array_equal(recorded[schema.UDI], mine[schema.UDI]):
        differences.append(f"holdout rows: recorded {len(recorded)} rows != reproduced {len(mine)} rows")
    else:
        delta = np.abs(recorded["proba"].to_numpy() - mine["proba"].to_numpy())
        changed = int((delta != 0).sum())
        if changed:
            differences.append(f"holdout predictions: {changed} of {len(mine)} differ (max |Δ| {delta.max():.3g})")
    source = "workspace" if path == params.path(data["path"]) else str(path)
    return ReproduceReport(version, source, differences)
