"""MLflow set-up and the lineage tags every training run carries.

:func:`setup` points MLflow at ``params.tracking_uri`` and creates the experiment with its
artifact root under ``mlflow.artifact_root`` (fixed at creation time, so it is set explicitly).
:func:`lineage_tags` collects what ties a model version to its code and data: git commit and dirty
flag, the training data's md5 (the hash DVC stores) and manifest version, the GX validation
summary, the params hash and the Prefect flow-run id when running inside a flow.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from predmaint.config import Params
from predmaint.data.lineage import Manifest, file_md5, git_state

MODEL_SECTIONS: tuple[str, ...] = ("model", "training", "costs", "physics", "split")


def setup(params: Params) -> str:
    """Set the tracking URI and the training experiment; return the experiment id."""
    import mlflow

    mlflow.set_tracking_uri(params.tracking_uri)
    return ensure_experiment(params, params.mlflow.experiment)


def ensure_experiment(params: Params, name: str) -> str:
    """Create ``name`` (artifacts under ``mlflow.artifact_root``) unless it exists; make it active."""
    import mlflow

    experiment = mlflow.get_experiment_by_name(name)
    if experiment is None:
        root = params.path(params.mlflow.artifact_root)
        uri = params.tracking_uri
        # a tracking server decides (proxied mlflow-artifacts:/); a direct database or file store
        # (sqlite, postgresql, ...) keeps artifacts under mlflow.artifact_root, never in the CWD
        location = None if uri.startswith(("http://", "https://", "databricks")) else root.as_uri()
        if location is not None:
            root.mkdir(parents=True, exist_ok=True)
        experiment_id = mlflow.create_experiment(name, artifact_location=location)
    else:
        experiment_id = experiment.experiment_id
    mlflow.set_experiment(experiment_id=experiment_id)
    return str(experiment_id)


def model_params(params: Params) -> dict[str, Any]:
    """The params sections that determine the trained model (what ``reproduce`` restores)."""
    dumped = params.model_dump(mode="json")
    return {section: dumped[section] for section in MODEL_SECTIONS}


def params_hash(params: Params) -> str:
    """sha256 of the canonical JSON of :func:`model_params`."""
    canonical = json.dumps(model_params(params), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def validation_summary(params: Params, data_md5: str) -> dict[str, Any] | None:
    """A compact summary of the newest GX result under ``paths.validation_dir``, if any.

    A result that names the training data's md5 is preferred; otherwise the newest file is used and
    the summary says it may not match the data.
    """
    folder = params.path(params.paths.validation_dir)
    files = sorted(folder.glob("**/*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    if not files:
        return None
    chosen, matched = files[0], False
    for f in files:
        text = f.read_text(encoding="utf-8", errors="replace")
        if data_md5 in text:
            chosen, matched = f, True
            break
    try:
        doc = json.loads(chosen.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        return {"file": chosen.name, "error": f"unreadable: {exc}"}
    return {"file": chosen.name, "matches_data": matched, **_compact(doc)}


def _compact(doc: Any) -> dict[str, Any]:
    if not isinstance(doc, dict):
        return {}
    out: dict[str, Any] = {k: doc[k] for k in ("success", "suite", "suite_name") if k in doc}
    stats = doc.get("statistics")
    if isinstance(stats, dict):
        for key in ("evaluated_expectations", "successful_expectations", "unsuccessful_expectations"):
            if key in stats:
                out[key] = stats[key]
    for key in ("summary", "result"):
        if isinstance(doc.get(key), dict) and "success" not in out:
            out.update(_compact(doc[key]))
    return out


def prefect_flow_run_id() -> str | None:
    """The id of the Prefect flow run this code runs in, without importing Prefect otherwise."""
    if "prefect" not in sys.modules:
        return None
    try:
        from prefect.runtime import flow_run

        run_id = flow_run.id
    except Exception:
        return None
    return str(run_id) if run_id else None


def lineage_tags(params: Params, data_file: Path) -> dict[str, str]:
    """The tags that tie a run and its model version to code, data and configuration."""
    commit, dirty = git_state(params.root)
    md5 = file_md5(data_file)
    manifest = Manifest(params.path(params.paths.manifest), params.root)
    version = manifest.latest_for(data_file)
    tags = {
        "git_commit": commit,
        "git_dirty": str(dirty).lower(),
        "data_path": _relative(data_file, params.root),
        "data_md5": md5,
        "data_version": version.version_id if version is not None and version.md5 == md5 else "unrecorded",
        "params_hash": params_hash(params),
    }
    summary = validation_summary(params, md5)
    if summary is not None:
        tags["gx_validation"] = json.dumps(summary, sort_keys=True, default=str)
    flow_run_id = prefect_flow_run_id()
    if flow_run_id:
        tags["prefect_flow_run_id"] = flow_run_id
    return tags


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()
