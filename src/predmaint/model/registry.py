"""The MLflow model registry: load by alias, metadata.json, the promotions log and rollback.

Aliases only (``champion`` serves, ``challenger`` is the newest candidate); the deprecated stage API
is never used. Every decision is tagged on the versions involved and appended to
``paths.promotions_log``.
"""

from __future__ import annotations

import csv
import json
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from predmaint.config import Params
from predmaint.model import features

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

METADATA_FILE = "metadata.json"
HOLDOUT_ARTIFACT = "holdout/holdout.csv"
HOLDOUT_PREDICTIONS_ARTIFACT = "holdout/predictions.csv"
LOG_FIELDS = (
    "timestamp",
    "action",
    "challenger_version",
    "champion_version",
    "promoted",
    "primary_metric",
    "challenger_value",
    "champion_value",
    "gate_rows",
    "rows_source",
    "udi_range",
    "reasons",
)


class RegistryError(RuntimeError):
    """The registry lacks what a command needs (no such alias, version or previous champion)."""


@dataclass(frozen=True)
class LoadedModel:
    """A registered model version ready to score: the fitted pipeline and its decision threshold."""

    pipeline: Any
    name: str
    version: str
    alias: str | None
    run_id: str
    threshold: float
    metadata: dict[str, Any]

    def predict_proba(self, frame: pd.DataFrame) -> Any:
        """Failure probability for each row of an AI4I-shaped frame."""
        return self.pipeline.predict_proba(features.model_input(frame))[:, 1]


@dataclass(frozen=True)
class RollbackResult:
    """The champion before and after a rollback."""

    from_version: str
    to_version: str


def client(params: Params) -> MlflowClient:
    """An MLflow client on ``params.tracking_uri`` (also set as the process default)."""
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(params.tracking_uri)
    return MlflowClient(tracking_uri=params.tracking_uri)


def resolve(params: Params, alias: str | None = None, version: str | None = None) -> ModelVersion:
    """The model version named by ``version``, else by ``alias`` (default: the champion alias).

    Raises:
        RegistryError: The alias or version does not exist.
    """
    from mlflow.exceptions import MlflowException

    c, name = client(params), params.mlflow.registered_model
    try:
        if version is not None:
            return c.get_model_version(name, str(version))
        return c.get_model_version_by_alias(name, alias or params.mlflow.champion_alias)
    except MlflowException as exc:
        what = f"version {version}" if version is not None else f"alias @{alias or params.mlflow.champion_alias}"
        raise RegistryError(f"model {name!r} has no {what} at {params.tracking_uri}") from exc


def read_metadata(params: Params, run_id: str) -> dict[str, Any]:
    """The metadata.json logged with the run of a model version (read from ``params.tracking_uri``)."""
    import mlflow

    with tempfile.TemporaryDirectory() as tmp:
        local = mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path=METADATA_FILE, dst_path=tmp, tracking_uri=params.tracking_uri
        )
        return dict(json.loads(Path(local).read_text(encoding="utf-8")))


def load_model(params: Params, alias: str | None = None, version: str | None = None) -> LoadedModel:
    """Load a registered pipeline with its threshold and metadata.

    Args:
        params: The project parameters.
        alias: Registry alias; defaults to ``mlflow.champion_alias`` when ``version`` is not given.
        version: An explicit version number instead of an alias.

    Raises:
        RegistryError: The alias or version does not exist.
    """
    import mlflow.sklearn

    mv = resolve(params, alias, version)
    name = params.mlflow.registered_model
    uri = (
        f"models:/{name}/{mv.version}"
        if version is not None
        else f"models:/{name}@{alias or params.mlflow.champion_alias}"
    )
    pipeline = mlflow.sklearn.load_model(uri)
    metadata = read_metadata(params, str(mv.run_id))
    threshold = float(mv.tags.get("threshold", metadata["threshold"]))
    used_alias = None if version is not None else (alias or params.mlflow.champion_alias)
    return LoadedModel(pipeline, name, str(mv.version), used_alias, str(mv.run_id), threshold, metadata)


def metadata_path(params: Params, version: str) -> Path:
    """``paths.models_dir/<registered model>/v<version>/metadata.json``."""
    return params.path(params.paths.models_dir) / params.mlflow.registered_model / f"v{version}" / METADATA_FILE


def write_metadata(params: Params, metadata: dict[str, Any]) -> Path:
    """Write a version's metadata.json beside the model and return its path."""
    path = metadata_path(params, str(metadata["version"]))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(metadata, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    return path


def append_log(params: Params, row: dict[str, Any]) -> None:
    path = params.path(params.paths.promotions_log)
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists()
    with path.open("a", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=LOG_FIELDS, lineterminator="\n")
        if new:
            writer.writeheader()
        writer.writerow(row)


def previous_champion(params: Params, version: str) -> str | None:
    """The champion that ``version`` replaced: its ``previous_champion`` tag, else the promotions log."""
    c = client(params)
    tag = c.get_model_version(params.mlflow.registered_model, version).tags.get("previous_champion")
    if tag:
        return tag
    path = params.path(params.paths.promotions_log)
    if not path.exists():
        return None
    with path.open(newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["action"] == "promote" and r["promoted"] == "true"]
    found = [r["champion_version"] for r in rows if r["challenger_version"] == version]
    return (found[-1] or None) if found else None


def rollback(params: Params) -> RollbackResult:
    """Move ``champion`` back to the version the current champion replaced.

    Raises:
        RegistryError: There is no champion, or it has no recorded predecessor.
    """
    current = resolve(params, alias=params.mlflow.champion_alias)
    target = previous_champion(params, str(current.version))
    if not target:
        raise RegistryError(f"champion v{current.version} has no previous champion to roll back to")
    c, name = client(params), params.mlflow.registered_model
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    c.set_registered_model_alias(name, params.mlflow.champion_alias, target)
    c.set_model_version_tag(name, str(current.version), "rolled_back_at", stamp)
    c.set_model_version_tag(name, target, "restored_by_rollback_at", stamp)
    append_log(
        params,
        {
            "timestamp": stamp,
            "action": "rollback",
            "challenger_version": target,
            "champion_version": str(current.version),
            "promoted": "true",
            "reasons": f"rollback: champion v{current.version} -> v{target}",
        },
    )
    return RollbackResult(from_version=str(current.version), to_version=target)
