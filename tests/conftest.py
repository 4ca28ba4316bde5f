"""Shared fixtures: every test runs against a throw-away copy of the project's configuration."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from predmaint.config import Params, load_params
from predmaint.config.runtime import disable_telemetry

REPO = Path(__file__).resolve().parents[1]
_env_data = os.environ.get("PREDMAINT_DATA_PATH")
REAL_DATA = Path(_env_data).resolve() if _env_data else (REPO.parent / "shared" / "data" / "ai4i2020.csv")
HAVE_REAL_DATA = REAL_DATA.is_file()
needs_real_data = pytest.mark.skipif(
    not HAVE_REAL_DATA, reason=f"real AI4I data not found at {REAL_DATA} (set PREDMAINT_DATA_PATH)"
)


@pytest.fixture(scope="session", autouse=True)
def _isolated_tools(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Telemetry off, Prefect state in a temp PREFECT_HOME, no PREDMAINT_* leaking from the shell."""
    disable_telemetry()
    saved = {k: v for k, v in os.environ.items() if k.startswith("PREDMAINT_")}
    for k in saved:
        del os.environ[k]
    home = tmp_path_factory.mktemp("prefect_home")
    os.environ["PREFECT_HOME"] = str(home)
    os.environ["PREFECT_API_DATABASE_CONNECTION_URL"] = f"sqlite+aiosqlite:///{home}/prefect.db"
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    yield
    os.environ.update(saved)
    # Prefect stops its ephemeral API server at interpreter exit and logs that to a stream pytest
    # has already closed; don't print the resulting "--- Logging error ---" after the summary.
    logging.raiseExceptions = False


SMALL_FOREST: dict[str, Any] = {
    "n_estimators": 30,
    "max_depth": 10,
    "min_samples_leaf": 1,
    "max_features": 0.5,
    "random_state": 42,
    "n_jobs": 1,
}
"""A quick random forest for tests that need a real, fast model (``model.random_forest`` override)."""


def write_params(root: Path, **overrides: dict[str, Any]) -> Path:
    """Copy the repo's params.yaml into ``root`` with per-section overrides applied."""
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    for section, values in overrides.items():
        raw[section].update(values)
    target = root / "params.yaml"
    target.write_text(yaml.safe_dump(raw, sort_keys=False))
    return target


def make_project(root: Path, **overrides: dict[str, Any]) -> Params:
    """A project folder under ``root``: params.yaml and the expectations, nothing generated."""
    root.mkdir(parents=True, exist_ok=True)
    if (REPO / "expectations").is_dir():
        shutil.copytree(REPO / "expectations", root / "expectations", dirs_exist_ok=True)
    data = {"csv_path": str(REAL_DATA), **overrides.pop("data", {})}
    return load_params(write_params(root, data=data, **overrides), environ={})


@pytest.fixture
def real_params(tmp_path: Path) -> Params:
    """Params of a temp project that ingests the real AI4I CSV."""
    if not HAVE_REAL_DATA:
        pytest.skip(f"real AI4I data not found at {REAL_DATA} (set PREDMAINT_DATA_PATH)")
    return make_project(tmp_path / "proj", data={"source_order": ["path"]})


@pytest.fixture
def sim_params(tmp_path: Path) -> Params:
    """Params of a temp project whose only source is the simulator."""
    return make_project(tmp_path / "proj", data={"source_order": ["simulator"]})


def clone_project(dest: Path, *, keep_lock: bool = False, **overrides: dict[str, Any]) -> Path:
    """A fresh git repository with the project's tracked files (as in the work tree) and params overrides.

    Generated state is not copied: like a fresh clone, DVC must rebuild every stage. ``dvc.lock``
    is left out unless ``keep_lock``.
    """
    import subprocess

    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for rel in files:
        src = REPO / rel
        if src.is_file() and (keep_lock or rel != "dvc.lock"):
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    if overrides:
        write_params(dest, **overrides)
    for cmd in (["git", "init", "-q", "-b", "main"], ["git", "add", "-A"], ["git", "commit", "-qm", "clone"]):
        subprocess.run(cmd, cwd=dest, check=True, capture_output=True)
    return dest


def subprocess_env(**extra: str) -> dict[str, str]:
    """This process's environment minus PREDMAINT_* and with the venv's scripts first on PATH."""
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("PREDMAINT_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env.pop("MLFLOW_TRACKING_URI", None)
    env.update(extra)
    return env
