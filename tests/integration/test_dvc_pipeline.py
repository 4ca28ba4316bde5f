"""`dvc repro` on a fresh clone builds every stage; a second run does nothing."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from predmaint.data.lineage import Manifest, file_md5
from tests.conftest import HAVE_REAL_DATA, REAL_DATA, clone_project, subprocess_env

pytestmark = pytest.mark.slow


def _run(cmd: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A fresh clone of the working tree with its own DVC cache and remote."""
    root = clone_project(tmp_path_factory.mktemp("clone") / "predmaint")
    data = (
        {"PREDMAINT_DATA_PATH": str(REAL_DATA)} if HAVE_REAL_DATA else {"PREDMAINT_DATA__SOURCE_ORDER": "[simulator]"}
    )
    env = subprocess_env(**data, PREDMAINT_MODEL__RANDOM_FOREST__N_ESTIMATORS="20")
    return root, env


def test_dvc_repro_twice_second_run_does_nothing(clone: tuple[Path, dict[str, str]]) -> None:
    root, env = clone
    _run(["dvc", "repro"], root, env)
    raw = root / "data" / "raw" / "ai4i2020.csv"
    raw_md5 = file_md5(raw)
    second = _run(["dvc", "repro"], root, env)
    assert "Running stage" not in second, second
    assert "up to date" in second
    assert file_md5(raw) == raw_md5, "a later stage modified the raw file"
    manifest = Manifest(root / "data" / "manifest.csv", root)
    assert manifest.latest_for("data/raw/ai4i2020.csv") is not None
    _run(["dvc", "push"], root, env)
    assert any((root / ".dvc-remote").rglob("*")), "dvc push sent nothing to the local remote"


def test_committed_lock_matches_the_code_and_params(tmp_path: Path) -> None:
    root = clone_project(tmp_path / "predmaint", keep_lock=True)
    status = json.loads(_run(["dvc", "status", "--json"], root, subprocess_env()).strip().splitlines()[-1])
    stale = {
        stage: {path: change for path, change in entry["changed deps"].items() if change != "deleted"}
        for stage, entries in status.items()
        for entry in entries
        if isinstance(entry, dict) and "changed deps" in entry
    }
    stale = {stage: changes for stage, changes in stale.items() if changes}
    assert not stale, f"dvc.lock is stale for {stale}: run `dvc repro` and commit dvc.lock"
