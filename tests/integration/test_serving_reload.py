"""Hot reload: the champion alias moves under concurrent load with zero failed requests; the
registry going away never stops the service."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from predmaint.config import Params
from predmaint.service import deployment_log
from serving.app import create_app
from serving.settings import Settings
from tests.integration.serving_env import (
    ADMIN_TOKEN,
    add_version,
    champion_project,
    free_port,
    running_server,
    set_champion,
)

pytestmark = pytest.mark.timeout(900)
READING = {
    "type": "M",
    "air_temperature_k": 300.2,
    "process_temperature_k": 310.1,
    "rotational_speed_rpm": 1400,
    "torque_nm": 55.0,
    "tool_wear_min": 150,
}
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Params:
    base = tmp_path_factory.getbasetemp()
    return champion_project(base / "serving_champion", base / "serving_reload", serving={"reload_poll_s": 0.5})


def _hammer(url: str, stop: threading.Event, results: list[tuple[int, str]]) -> None:
    with httpx.Client(base_url=url, timeout=30) as c:
        while not stop.is_set():
            try:
                r = c.post("/predict", json=[READING, READING])
                results.append((r.status_code, r.json()[0]["model"]["version"] if r.status_code == 200 else r.text))
            except (httpx.HTTPError, ValueError) as exc:
                results.append((-1, repr(exc)))


def _wait_for(predicate: object, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.1)


def test_alias_moves_under_load_without_a_failed_request(project: Params) -> None:
    log_path = project.path(project.paths.deployment_log)
    with running_server(project) as server:
        results: list[tuple[int, str]] = []
        stop = threading.Event()
        with ThreadPoolExecutor(8) as pool:
            for _ in range(8):
                pool.submit(_hammer, server.url, stop, results)
            _wait_for(lambda: len(results) > 200)
            new = add_version(project, threshold=0.77, alias=project.mlflow.champion_alias)
            _wait_for(lambda: any(v == new for _, v in results[-50:]))
            seen_after = len(results)
            _wait_for(lambda: len(results) > seen_after + 200)
            set_champion(project, "1")
            _wait_for(lambda: results[-1][1] == "1" and any(v == new for _, v in results))
            time.sleep(1.0)
            stop.set()
        statuses = Counter(status for status, _ in results)
        assert statuses == Counter({200: len(results)}), [r for r in results if r[0] != 200][:5]
        versions = [v for _, v in results]
        first_new, last_new = versions.index(new), len(versions) - 1 - versions[::-1].index(new)
        assert set(versions[:first_new]) == {"1"} and set(versions[first_new : last_new + 1]) <= {"1", new}
        rows = deployment_log.read(log_path)
        assert list(rows["reason"]) == ["startup", "alias change", "rollback"]
        assert list(rows["version"]) == ["1", new, "1"]
        assert list(rows["previous_version"]) == ["", "1", new]
        with httpx.Client(base_url=server.url) as c:
            assert c.get("/model").json()["version"] == "1"
            assert 'predmaint_model_swaps_total{reason="rollback"} 1.0' in c.get("/metrics").text


@pytest.fixture
def app_client(project: Params) -> Iterator[TestClient]:
    slow_poll = project.model_copy(update={"serving": project.serving.model_copy(update={"reload_poll_s": 3600.0})})
    settings = Settings.from_params(slow_poll, environ={slow_poll.serving.admin_token_env: ADMIN_TOKEN})
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        _wait_for(lambda: client.get("/ready").status_code == 200)
        yield client


def test_admin_reload_swaps_and_reports(project: Params, app_client: TestClient) -> None:
    before = app_client.get("/model").json()["version"]
    new = add_version(project, threshold=0.66, alias=project.mlflow.champion_alias)
    try:
        assert app_client.post("/predict", json=READING).json()["model"]["version"] == before
        r = app_client.post("/admin/reload", headers=AUTH)
        assert r.status_code == 200, r.text
        assert r.json()["result"] == "swapped" and r.json()["version"] == new
        assert r.json()["reason"] == "manual reload" and r.json()["previous_version"] == before
        answer = app_client.post("/predict", json=READING).json()
        assert answer["model"]["version"] == new and answer["threshold"] == pytest.approx(0.66)
        assert deployment_log.read(project.path(project.paths.deployment_log)).iloc[-1]["reason"] == "manual reload"
    finally:
        set_champion(project, before)


@pytest.fixture
def remote_registry(
    project: Params, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Params, subprocess.Popen[bytes]]]:
    """A real ``mlflow server`` in front of the project's store, and params that use it over HTTP."""
    port = free_port()
    db = project.tracking_uri
    cmd = [
        str(Path(sys.executable).with_name("mlflow")),
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    cmd += ["--backend-store-uri", db, "--workers", "1", "--no-serve-artifacts"]
    log = (project.root / "mlflow-server.log").open("wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=project.root, start_new_session=True)
    uri = f"http://127.0.0.1:{port}"
    _wait_for(lambda: _healthy(uri), timeout_s=180)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    remote = project.model_copy(
        update={
            "mlflow": project.mlflow.model_copy(update={"tracking_uri": uri}),
            "serving": project.serving.model_copy(update={"reload_poll_s": 3600.0}),
        }
    )
    try:
        yield remote, proc
    finally:
        _kill(proc)
        log.close()


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """Kill the server and its workers at once (SIGKILL to the group): no wait on a slow graceful exit."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _healthy(uri: str) -> bool:
    try:
        return httpx.get(f"{uri}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_unreachable_registry_keeps_serving(remote_registry: tuple[Params, subprocess.Popen[bytes]]) -> None:
    params, registry_proc = remote_registry
    settings = Settings.from_params(params, environ={params.serving.admin_token_env: ADMIN_TOKEN})
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        _wait_for(lambda: client.get("/ready").status_code == 200, timeout_s=120)
        assert client.get("/ready").json()["registry"]["reachable"] is True
        _kill(registry_proc)
        r = client.post("/admin/reload", headers=AUTH)
        assert r.status_code == 503 and "registry unreachable" in r.json()["detail"], r.text
        ready = client.get("/ready")
        assert ready.status_code == 200
        assert ready.json()["registry"]["reachable"] is False and ready.json()["registry"]["error"]
        assert client.post("/predict", json=READING).status_code == 200
        assert "predmaint_registry_reachable 0.0" in client.get("/metrics").text
