"""Provenance you can trust (issue 15): a clean tree after `make demo`, data versions that survive
`dvc repro`, lineage from raw data to model version, and what MLflow shows.

One `make demo` on the real data, in a fresh clone at an unusual path, is shared by the tests of
this module (its time is printed in the terminal summary). A second test runs the DVC pipeline in
two clones at paths of different lengths and compares their ``dvc.lock``.
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from predmaint.config import Params, load_params
from predmaint.data.lineage import Manifest, file_md5
from tests.conftest import HAVE_REAL_DATA, REAL_DATA, clone_project, report_timing, subprocess_env
from tests.integration.serving_env import free_port

pytestmark = pytest.mark.slow


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: int = 1800) -> str:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, (
        f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    )
    return done.stdout + done.stderr


def _clone_env(**extra: str) -> dict[str, str]:
    env = subprocess_env(**extra)
    env.pop("PREFECT_API_DATABASE_CONNECTION_URL", None)  # the clone's Prefect state stays in the clone
    env.pop("PREFECT_HOME", None)
    return env


@dataclass
class DemoRun:
    """What one `make demo` left behind, read before and after a later `dvc repro`."""

    params: Params
    seconds: float
    porcelain: str
    dvc_status: str
    manifest_before: dict[str, str]
    console: str = ""
    repro_output: str = ""
    porcelain_after_repro: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _latest_md5(params: Params) -> dict[str, str]:
    latest: dict[str, str] = {}
    for version in Manifest(params.path(params.paths.manifest), params.root).read():
        latest[version.path] = version.md5
    return latest


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    if not HAVE_REAL_DATA:
        pytest.skip(f"the committed dvc.lock is built from the real data; not found at {REAL_DATA}")
    unusual = tmp_path_factory.mktemp("prov") / "a folder with spaces.and_dots" / "and-a-much-longer-path-than-usual"
    root = clone_project(unusual / "predmaint", keep_lock=True)
    # `make demo` runs `make setup` first: the clone gets its own .venv (uv sync from the uv cache). Never link
    # the repo's venv here: the sync would re-point its editable install at the clone.
    env = _clone_env(PREDMAINT_DATA_PATH=str(REAL_DATA), PREDMAINT_API_PORT=str(free_port()))
    started = time.monotonic()
    done = subprocess.run(
        ["make", "demo"],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
        timeout=1800,
    )
    assert done.returncode == 0, f"make demo failed ({done.returncode}):\n{done.stdout[-8000:]}"
    seconds = time.monotonic() - started
    report_timing(f"make demo in a fresh clone (real data): {seconds:.0f} s")
    params = load_params(root / "params.yaml", environ={})
    run = DemoRun(
        params=params,
        seconds=seconds,
        porcelain=_run(["git", "status", "--porcelain"], root, env),
        dvc_status=_run(["dvc", "status"], root, env),
        manifest_before=_latest_md5(params),
        console=done.stdout,
    )
    run.repro_output = _run(["dvc", "repro"], root, env)
    run.porcelain_after_repro = _run(["git", "status", "--porcelain"], root, env)
    return run


def _versions(params: Params) -> list[Any]:
    from predmaint.model.registry import client

    return list(client(params).search_model_versions(f"name='{params.mlflow.registered_model}'"))


def test_demo_leaves_a_clean_git_tree_and_dvc_status(demo: DemoRun) -> None:
    assert demo.porcelain == "", f"`make demo` changed tracked files or left untracked ones:\n{demo.porcelain}"
    assert "up to date" in demo.dvc_status.lower() or not demo.dvc_status.strip(), demo.dvc_status
    assert "Running stage" not in demo.repro_output, "dvc repro after the demo re-ran a stage"
    assert demo.porcelain_after_repro == ""


def test_the_demo_ends_with_a_justified_promotion_and_a_hot_swap(demo: DemoRun) -> None:
    """The drift period (replay.*) makes retraining pay: v2 wins the gate on held-out rows and is served."""
    import csv

    from predmaint.model.registry import client

    params = demo.params
    registry = client(params)
    champion = registry.get_model_version_by_alias(params.mlflow.registered_model, params.mlflow.champion_alias)
    assert str(champion.version) == "2" and champion.tags["gate_decision"] == "promoted", champion.tags
    with params.path(params.paths.promotions_log).open() as fh:
        gate = list(csv.DictReader(fh))[-1]
    assert (gate["challenger_version"], gate["champion_version"], gate["promoted"]) == ("2", "1", "true"), gate
    assert gate["rows_source"].startswith("data version ") and "lower bound +" in gate["reasons"], gate
    first = params.split.train_rows + params.split.production_rows + 1
    assert int(gate["udi_range"].split("-")[0]) >= first, "the gate judged rows from the drift period"
    with params.path(params.paths.deployment_log).open() as fh:
        served = list(csv.DictReader(fh))
    assert served[0]["version"] == "1" and served[-1]["version"] == "2" and served[-1]["reason"] != "startup", served


def test_the_demo_console_tells_the_story_in_at_most_60_lines(demo: DemoRun) -> None:
    """Issue 17: after the dependency sync (make's echo of the `predmaint demo` command), ≤ 60 lines."""
    lines = demo.console.splitlines()
    start = next(i for i, line in enumerate(lines) if line.rstrip().endswith("predmaint demo"))
    story = lines[start + 1 :]
    report_timing(f"make demo console after the dependency sync: {len(story)} lines")
    assert len(story) <= 60, "\n".join(story)
    assert any("promot" in line.lower() for line in story), "\n".join(story)


def test_every_version_records_a_clean_tree(demo: DemoRun) -> None:
    params = demo.params
    versions = _versions(params)
    assert len(versions) >= 2, "the demo registers the first model and a retrained one"
    for v in versions:
        assert v.tags["git_dirty"] == "false", (v.version, v.tags)
        meta = json.loads(
            (
                params.path(params.paths.models_dir)
                / params.mlflow.registered_model
                / f"v{v.version}"
                / "metadata.json"
            ).read_text()
        )
        assert meta["git"]["dirty"] is False
    rows = Manifest(params.path(params.paths.manifest), params.root).read()
    assert rows and not [r.version_id for r in rows if r.git_dirty]


def test_dvc_repro_after_the_demo_keeps_every_manifest_file(demo: DemoRun) -> None:
    params = demo.params
    for path, md5 in demo.manifest_before.items():
        target = params.path(Path(path))
        assert target.is_file(), f"{path} (in the manifest) is gone after dvc repro"
        assert file_md5(target) == md5, f"{path} changed after dvc repro"
    from predmaint.model.registry import read_metadata

    for v in _versions(params):  # and every file a model version points to
        meta = read_metadata(params, str(v.run_id))
        pointed = {**meta["lineage"]["dvc_md5"], meta["data"]["path"]: meta["data"]["md5"]}
        pointed.update({gx["file"]: demo.manifest_before[gx["file"]] for gx in meta["lineage"]["gx"]})
        for path, md5 in pointed.items():
            target = params.path(Path(path))
            assert target.is_file() and file_md5(target) == md5, f"v{v.version} points to {path}: gone or changed"
    retrain = [p for p in demo.manifest_before if p.startswith(params.paths.retrain_dir.as_posix())]
    assert {Path(p).suffix for p in retrain} == {".csv", ".json"}, retrain  # window, labelled rows, gate result
    remote = params.path(params.paths.dvc_remote)
    for path in retrain:
        md5 = demo.manifest_before[path]
        assert (remote / "files" / "md5" / md5[:2] / md5[2:]).is_file(), f"{path} was not pushed to the DVC remote"


def test_lineage_reaches_the_raw_data_and_the_production_rows(demo: DemoRun) -> None:
    params = demo.params
    env = _clone_env()
    for v in _versions(params):
        tags = v.tags
        assert tags["data_source"] == f"path:{REAL_DATA}", tags
        assert tags["prefect_flow_run_id"] and tags["params_hash"] and tags["gx_validation"], tags
        assert json.loads(tags["dvc_md5"]), tags
    out = _run(["predmaint", "lineage", "--model", "2"], params.root, env)
    for fact in ("v1_ingest", "labelled_production", "prediction_log_sha256=", "feedback_rows=", "trigger_window=day_"):
        assert fact in out, f"{fact!r} missing from the lineage:\n{out}"
    assert f"path:{REAL_DATA}" in out


def test_mlflow_shows_datasets_views_names_and_descriptions(demo: DemoRun) -> None:
    from predmaint.model.registry import client

    params = demo.params
    c = client(params)
    names = {e.name: e for e in c.search_experiments()}
    assert "Default" not in names, "the empty Default experiment is left beside the project's"
    for name in (params.mlflow.experiment, params.mlflow.monitoring_experiment):
        assert names[name].tags.get("mlflow.experimentKind") == "custom_model_development", name
    for v in _versions(params):
        run = c.get_run(v.run_id)
        assert run.info.run_name.startswith(f"train v{v.version} · "), run.info.run_name
        contexts = {next(t.value for t in d.tags if t.key == "mlflow.data.context") for d in run.inputs.dataset_inputs}
        assert {"training", "validation", "backtest", "gate"} <= contexts, (v.version, contexts)
        for d in run.inputs.dataset_inputs:
            assert d.dataset.digest and d.dataset.source, d.dataset
        assert "gate" in (c.get_model_version(params.mlflow.registered_model, v.version).description or "").lower()
    retrained = c.get_run(sorted(_versions(params), key=lambda v: int(v.version))[-1].run_id)
    assert "retrain" in retrained.info.run_name and "day_" in retrained.info.run_name


def test_get_model_returns_the_served_versions_lineage_ids(demo: DemoRun, tmp_path: Path) -> None:
    """`GET /model` of the retrained champion: its chain (window, reference, labelled rows … raw), code and flow run."""
    import httpx

    from predmaint.model.registry import client, read_metadata
    from predmaint.service.process import running

    params = demo.params
    champion = client(params).get_model_version_by_alias(params.mlflow.registered_model, params.mlflow.champion_alias)
    meta = read_metadata(params, str(champion.run_id))
    port = free_port()
    env = _clone_env(PREDMAINT_API_PORT=str(port), PREDMAINT_PATHS__DEPLOYMENT_LOG=str(tmp_path / "deployments.csv"))
    url = f"http://127.0.0.1:{port}"
    with running(["predmaint", "serve"], f"{url}/ready", tmp_path / "serve.log", env, params.root):
        info = httpx.get(f"{url}/model", timeout=30).json()
    chain = meta["lineage"]["chain"]
    assert info["version"] == str(champion.version) and info["lineage"] == chain, info
    stages = [v.split("_", 1)[1] for v in chain]
    assert stages[0] == "retrain_window" and stages[-1] == "ingest" and "labelled_production" in stages, chain
    assert info["git_commit"] == champion.tags["git_commit"] and not info["git_commit"].endswith("+dirty")
    assert info["prefect_flow_run_id"] == champion.tags["prefect_flow_run_id"] and info["params_hash"]
    assert info["data_source"] == f"path:{REAL_DATA}"


def test_pipeline_outputs_are_identical_in_two_clones_at_paths_of_different_lengths(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    data = (
        {"PREDMAINT_DATA_PATH": str(REAL_DATA)} if HAVE_REAL_DATA else {"PREDMAINT_DATA__SOURCE_ORDER": "[simulator]"}
    )
    env = _clone_env(**data, PREDMAINT_MODEL__RANDOM_FOREST__N_ESTIMATORS="20")
    locks = []
    for folder in ("a", "b" * 40 + "/" + "c" * 40):
        root = clone_project(tmp_path_factory.mktemp("lock") / folder / "predmaint")
        _run(["dvc", "repro"], root, env)
        locks.append((root / "dvc.lock").read_text())
    assert locks[0] == locks[1]
