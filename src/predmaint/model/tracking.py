"""MLflow set-up and the lineage every training run and model version carries.

:func:`setup` points MLflow at ``params.tracking_uri`` and creates the experiment with its
artifact root under ``mlflow.artifact_root`` (fixed at creation time, so it is set explicitly),
tagged for MLflow's classical-ML view. :func:`lineage_facts` walks the lineage manifest from the
training data back to the raw data: the data versions and their md5s (the hashes DVC stores), the
raw data's source, the GX results, and the labelled production rows of a retraining window.
:func:`lineage_tags` adds the git commit and dirty flag, the params hash and the Prefect flow-run id.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from predmaint.config import Params
from predmaint.data.lineage import DataVersion, Manifest, file_md5, git_state

MODEL_SECTIONS: tuple[str, ...] = ("model", "training", "costs", "physics", "split")
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
"""The experiment tag MLflow's UI reads to choose its view (``custom_model_development`` = classical ML)."""
CLASSICAL_ML = "custom_model_development"
FLOW_RUN_ENV = "PREFECT__FLOW_RUN_ID"
"""Set by Prefect in a flow run's process, and by the pipeline for the DVC stages it runs."""


def setup(params: Params) -> str:
    """Set the tracking URI and the training experiment; return the experiment id."""
    import mlflow

    mlflow.set_tracking_uri(params.tracking_uri)
    return ensure_experiment(params, params.mlflow.experiment)


def ensure_experiment(params: Params, name: str) -> str:
    """Create ``name`` (artifacts under ``mlflow.artifact_root``) unless it exists; make it active.

    The experiment is tagged for the classical-ML view, and MLflow's ``Default`` experiment is
    removed (soft delete) while it holds no run, so the UI lists only the project's experiments.
    """
    import mlflow

    client = mlflow.MlflowClient()
    experiment = client.get_experiment_by_name(name)
    if experiment is None:
        root = params.path(params.mlflow.artifact_root)
        uri = params.tracking_uri
        # a tracking server decides (proxied mlflow-artifacts:/); a direct database or file store
        # (sqlite, postgresql, ...) keeps artifacts under mlflow.artifact_root, never in the CWD
        location = None if uri.startswith(("http://", "https://", "databricks")) else root.as_uri()
        if location is not None:
            root.mkdir(parents=True, exist_ok=True)
        experiment_id = client.create_experiment(name, artifact_location=location)
        client.set_experiment_tag(experiment_id, EXPERIMENT_KIND_TAG, CLASSICAL_ML)
        _drop_empty_default(client)
    else:
        experiment_id = experiment.experiment_id
        if experiment.tags.get(EXPERIMENT_KIND_TAG) != CLASSICAL_ML:
            client.set_experiment_tag(experiment_id, EXPERIMENT_KIND_TAG, CLASSICAL_ML)
    mlflow.set_experiment(experiment_id=experiment_id)
    return str(experiment_id)


def _drop_empty_default(client: Any) -> None:
    default = client.get_experiment_by_name("Default")
    if (
        default is not None
        and default.lifecycle_stage == "active"
        and not client.search_runs([default.experiment_id], max_results=1)
    ):
        client.delete_experiment(default.experiment_id)


def model_params(params: Params) -> dict[str, Any]:
    """The params sections that determine the trained model (what ``reproduce`` restores)."""
    dumped = params.model_dump(mode="json")
    return {section: dumped[section] for section in MODEL_SECTIONS}


def params_hash(params: Params) -> str:
    """sha256 of the canonical JSON of :func:`model_params`."""
    canonical = json.dumps(model_params(params), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


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


def gx_summary(params: Params, result: DataVersion) -> dict[str, Any]:
    """A compact summary of a stored GX result (a ``validate`` row of the manifest)."""
    base = {"version_id": result.version_id, "file": result.path, "validated_md5": result.details.get("validated_md5")}
    try:
        doc = json.loads(params.path(Path(result.path)).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        return {**base, "error": f"unreadable: {exc}"}
    return {**base, **_compact(doc)}


def prefect_flow_run_id() -> str | None:
    """The id of the Prefect flow run this code runs in (also inside a DVC stage the flow started)."""
    if "prefect" in sys.modules:
        try:
            from prefect.runtime import flow_run

            run_id = flow_run.id
        except Exception:
            run_id = None
        if run_id:
            return str(run_id)
    return os.environ.get(FLOW_RUN_ENV) or None


def lineage_facts(params: Params, data_file: Path) -> dict[str, Any]:
    """The training data's lineage from the manifest: versions, md5s, source, GX results, production rows."""
    manifest = Manifest(params.path(params.paths.manifest), params.root)
    md5 = file_md5(data_file)
    version = manifest.latest_for(data_file)
    if version is None or version.md5 != md5:
        empty: dict[str, Any] = {"chain": [], "dvc_md5": {}, "gx": [], "production": None}
        return {"data_version": "unrecorded", "data_source": "unrecorded", **empty}
    chain = manifest.chain(version.version_id)
    labelled = next((v for v in chain if v.stage == "labelled_production"), None)
    return {
        "data_version": version.version_id,
        "chain": [v.version_id for v in chain],
        "data_source": manifest.source(chain),
        "dvc_md5": {v.path: v.md5 for v in chain},
        "gx": [gx_summary(params, r) for r in manifest.validations({v.md5 for v in chain})],
        "production": None if labelled is None else {"version_id": labelled.version_id, **labelled.details},
    }


def lineage_tags(params: Params, data_file: Path, facts: dict[str, Any] | None = None) -> dict[str, str]:
    """The tags that tie a run and its model version to code, data and configuration."""
    facts = facts if facts is not None else lineage_facts(params, data_file)
    commit, dirty = git_state(params.root)
    tags = {
        "git_commit": commit,
        "git_dirty": str(dirty).lower(),
        "data_path": _relative(data_file, params.root),
        "data_md5": file_md5(data_file),
        "data_version": facts["data_version"],
        "data_source": facts["data_source"],
        "lineage": " <- ".join(facts["chain"]),
        "dvc_md5": json.dumps(facts["dvc_md5"], sort_keys=True),
        "params_hash": params_hash(params),
    }
    if facts["gx"]:
        tags["gx_validation"] = json.dumps(facts["gx"], sort_keys=True, default=str)[:4900]
    production = facts.get("production")
    if production:
        keys = ("version_id", "prediction_log_sha256", "feedback_rows", "trigger_window")
        tags["production_rows"] = json.dumps({k: production.get(k) for k in keys}, sort_keys=True)
    flow_run_id = prefect_flow_run_id()
    if flow_run_id:
        tags["prefect_flow_run_id"] = flow_run_id
    return tags


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()
