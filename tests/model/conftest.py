"""Fixtures for model tests: a temp project with real data split and cleaned, and a small forest."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from predmaint.config import Params, load_params
from predmaint.data.lineage import Manifest
from predmaint.data.tables import count_rows
from tests.conftest import HAVE_REAL_DATA, REAL_DATA, make_project

SMALL_FOREST: dict[str, Any] = {
    "n_estimators": 20,
    "max_depth": 8,
    "max_features": 0.5,
    "min_samples_leaf": 1,
    "random_state": 42,
    "n_jobs": 1,
}


def prepare_data(params: Params) -> None:
    """Run the real data stages: ingest, GX gate, split and clean → ``paths.reference``."""
    from predmaint.data.ingest import ingest
    from predmaint.ops.stages import split

    ingest(params)
    try:
        from predmaint.quality.gate import validate_file
    except ImportError:
        pass
    else:
        result = validate_file(params, params.path(params.paths.raw_file), "raw")
        assert result.success, result
    split(params)
    try:
        from predmaint.data.clean import clean
    except ImportError:
        target = params.path(params.paths.reference)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(params.path(params.paths.reference_raw), target)
        manifest = Manifest(params.path(params.paths.manifest), params.root)
        parent = manifest.latest_for(params.path(params.paths.reference_raw))
        parents = (parent.version_id,) if parent else ()
        manifest.record(target, stage="clean", rows=count_rows(target), parents=parents)
    else:
        clean(params)


def reconfigure(params: Params, **sections: dict[str, Any]) -> Params:
    """Rewrite the project's params.yaml with section overrides and load it again."""
    file = params.root / "params.yaml"
    raw = yaml.safe_load(file.read_text())
    for section, values in sections.items():
        raw[section].update(values)
    file.write_text(yaml.safe_dump(raw, sort_keys=False))
    return load_params(file, environ={})


@pytest.fixture
def project(tmp_path: Path) -> Params:
    """A temp project on the real data, cleaned, with a 20-tree forest and its own MLflow store."""
    if not HAVE_REAL_DATA:
        pytest.skip(f"real AI4I data not found at {REAL_DATA} (set PREDMAINT_DATA_PATH)")
    params = make_project(
        tmp_path / "proj",
        data={"source_order": ["path"]},
        model={"algorithm": "random_forest", "random_forest": SMALL_FOREST},
    )
    prepare_data(params)
    import mlflow

    mlflow.set_tracking_uri(params.tracking_uri)
    return params
