"""`dvc repro` on a fresh clone builds every stage; a second run does nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from predmaint.lineage import Manifest, file_md5
from tests.conftest import HAVE_REAL_DATA, REAL_DATA, REPO

pytestmark = pytest.mark.slow


def _run(cmd: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A fresh git clone of the working tree (committed or not) with its own DVC cache and remote."""
    root = tmp_path_factory.mktemp("clone") / "predmaint"
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for rel in files:
        src = REPO / rel
        if src.is_file():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, root / rel)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREDMAINT_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env["MLFLOW_TRACKING_URI"] = ""
    if HAVE_REAL_DATA:
        env["PREDMAINT_DATA_PATH"] = str(REAL_DATA)
    else:
        env["PREDMAINT_DATA__SOURCE_ORDER"] = "[simulator]"
    for cmd in (["git", "init", "-q", "-b", "main"], ["git", "add", "-A"], ["git", "commit", "-qm", "clone"]):
        _run(cmd, root, env)
    return root, env


def test_dvc_repro_twice_second_run_does_nothing(clone: tuple[Path, dict[str, str]]) -> None:
    root, env = clone
    (root / "dvc.lock").unlink(missing_ok=True)
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
