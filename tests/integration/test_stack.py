"""`make up` in a temporary copy on free ports: train through the Prefect API, see the model in the
MLflow server and served by the API, fire the retraining trigger, then `make down` leaves nothing."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import HAVE_REAL_DATA, REAL_DATA, SMALL_FOREST, clone_project, subprocess_env

pytestmark = pytest.mark.slow
VENV = Path(sys.executable).parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _make(target: str, root: Path, env: dict[str, str], timeout: float = 300) -> str:
    cmd = ["make", "-o", f"{VENV}/.synced", f"VENV={VENV}", target]
    done = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"make {target} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _wait(what: str, check: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except (httpx.HTTPError, KeyError, ValueError):
            value = None
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _processes_in(root: Path) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            cwd = str((proc / "cwd").readlink())
        except OSError:
            continue
        if str(root) in cmdline or cwd.startswith(str(root)):
            found.append(f"{proc.name}: {cmdline[:200]}")
    return found


def _flow_runs(prefect: str, flow: str) -> list[dict[str, Any]]:
    body = {"flows": {"name": {"any_": [flow]}}}
    return list(httpx.post(f"{prefect}/api/flow_runs/filter", json=body, timeout=10).json())


def test_make_up_train_serve_retrain_down(tmp_path: Path) -> None:
    root = clone_project(
        tmp_path / "predmaint",
        serving={"reload_poll_s": 1.0},
        model={"random_forest": SMALL_FOREST},
    )
    ports = {"prefect": _free_port(), "mlflow": _free_port(), "api": _free_port()}
    data = (
        {"PREDMAINT_DATA_PATH": str(REAL_DATA)} if HAVE_REAL_DATA else {"PREDMAINT_DATA__SOURCE_ORDER": "[simulator]"}
    )
    env = subprocess_env(
        **data,
        PREDMAINT_ORCHESTRATION__PREFECT_PORT=str(ports["prefect"]),
        PREDMAINT_ORCHESTRATION__MLFLOW_PORT=str(ports["mlflow"]),
        PREDMAINT_SERVING__PORT=str(ports["api"]),
        PREDMAINT_ADMIN_TOKEN="x" * 32,
    )
    env.pop("PREFECT_HOME", None)
    env.pop("PREFECT_API_DATABASE_CONNECTION_URL", None)
    prefect, mlflow, api = (f"http://127.0.0.1:{ports[k]}" for k in ("prefect", "mlflow", "api"))
    try:
        up = _make("up", root, env)
        assert all(name in up for name in ("prefect", "mlflow", "api", "runner")), up
        assert "already up" in _make("up", root, env)
        assert "up (pid" in _make("status", root, env)

        client_env = {**env, "PREFECT_API_URL": f"{prefect}/api"}
        run = subprocess.run(
            [str(VENV / "bin" / "prefect"), "deployment", "run", "training-pipeline/manual", "--watch"],
            cwd=root,
            env=client_env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        assert run.returncode == 0 and "Completed" in run.stdout, run.stdout + run.stderr

        alias = httpx.get(
            f"{mlflow}/api/2.0/mlflow/registered-models/alias",
            params={"name": "predmaint-failure", "alias": "champion"},
            timeout=10,
        ).json()["model_version"]
        assert alias["version"] == "1"
        _wait("the API to serve v1", lambda: httpx.get(f"{api}/model", timeout=5).json()["version"] == "1", 120)

        replay = subprocess.run(
            [str(VENV / "bin" / "predmaint"), "replay", "--url", api, "--days", "1"],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert replay.returncode == 0 and "500 labels" in replay.stdout, replay.stdout + replay.stderr

        emit = (
            "from prefect.events import emit_event; "
            "emit_event(event='predmaint.retrain.requested', "
            "resource={'prefect.resource.id': 'predmaint.model.predmaint-failure'}, payload={'reasons': 'test'})"
        )
        subprocess.run([sys.executable, "-c", emit], env=client_env, check=True, timeout=120)
        finished = _wait(
            "a completed retraining run",
            lambda: [
                r for r in _flow_runs(prefect, "retraining") if r["state_type"] in {"COMPLETED", "FAILED", "CRASHED"}
            ],
            600,
        )
        assert finished[0]["state_type"] == "COMPLETED", json.dumps(finished[0])[:2000]
        assert finished[0]["parameters"]["reason"] == "test"
        versions = httpx.get(
            f"{mlflow}/api/2.0/mlflow/model-versions/search", params={"filter": "name='predmaint-failure'"}, timeout=10
        ).json()["model_versions"]
        assert sorted(v["version"] for v in versions) == ["1", "2"]
        # each version names the deployment run that trained it (v1 too: trained in a DVC stage the flow ran)
        tags = {v["version"]: {t["key"]: t["value"] for t in v.get("tags", [])} for v in versions}
        trained_by = {"1": _flow_runs(prefect, "training-pipeline")[0]["id"], "2": finished[0]["id"]}
        for version, run_id in trained_by.items():
            assert tags[version].get("prefect_flow_run_id") == run_id, (version, tags[version])
            assert tags[version]["git_dirty"] == "false", (version, tags[version])
    finally:
        down = _make("down", root, env, timeout=120)
    assert "stopped" in down
    time.sleep(1)
    assert _processes_in(root) == [], "make down left processes behind"
