"""`predmaint reproduce`: identical re-training, tamper detection, restore from the DVC cache layout."""

from __future__ import annotations

import shutil

from typer.testing import CliRunner

from predmaint.cli import app
from predmaint.config import Params
from predmaint.data.lineage import file_md5
from predmaint.model.reproduce import reproduce
from predmaint.model.run import train
from tests.model.conftest import reconfigure


def test_reproduce_passes_then_fails_on_tampered_data_then_restores_from_cache(project: Params) -> None:
    result = train(project)
    moved_on = reconfigure(project, model={"random_forest": {**project.model.random_forest, "n_estimators": 5}})
    ok = reproduce(moved_on, result.version)  # recorded params win over the current params.yaml
    assert ok.ok, ok.differences
    assert ok.data_source == "workspace"

    data = project.path(project.paths.reference)
    original = data.read_bytes()
    md5 = file_md5(data)
    data.write_bytes(original.replace(b"\n1,", b"\n2,", 1) if b"\n1," in original else original + b"\n")
    bad = reproduce(project, result.version)
    assert not bad.ok
    assert any("not found" in d for d in bad.differences)
    runner = CliRunner()
    cli = runner.invoke(app, ["--params", str(project.root / "params.yaml"), "reproduce", result.version])
    assert cli.exit_code == 1 and "NOT reproduced" in cli.output

    cached = project.root / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]
    cached.parent.mkdir(parents=True)
    cached.write_bytes(original)
    restored = reproduce(project, result.version)
    assert restored.ok, restored.differences
    assert restored.data_source == str(cached)


def test_reproduce_reports_a_diff_when_the_code_path_changes_the_model(project: Params) -> None:
    result = train(project)
    shutil.copyfile(project.root / "params.yaml", project.root / "params.bak")
    # Tamper with the recorded metadata's params through a changed threshold: the diff must name it.
    from predmaint.model import registry

    mv = registry.resolve(project, version=result.version)
    meta = registry.read_metadata(project, str(mv.run_id))
    meta["threshold"] = 0.999
    import mlflow

    with mlflow.start_run(run_id=str(mv.run_id)):
        mlflow.log_dict(meta, registry.METADATA_FILE)
    report = reproduce(project, result.version)
    assert not report.ok
    assert any(d.startswith("threshold:") for d in report.differences)
