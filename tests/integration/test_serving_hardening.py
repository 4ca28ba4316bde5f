"""Abuse and fault cases of the API (issue 18): bounded error work, origin checks, load shedding,
honest readiness, storage faults as 503, and the OpenAPI contract fuzzed by schemathesis.

A real uvicorn server (loopback, free port) for what a client sees; an in-process app for faults
injected into the running parts (a closed log connection, a replaced registry file).
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from predmaint.config import Params
from serving.app import create_app
from serving.settings import Settings
from serving.tokens import new_token
from tests.integration.serving_env import ADMIN_TOKEN, GOOD, Server, add_version, champion_project, running_server

pytestmark = pytest.mark.timeout(900)
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Params:
    base = tmp_path_factory.getbasetemp()
    return champion_project(base / "serving_champion", base / "serving_hardening", serving={"max_queue": 1})


def _wait_for(predicate: Callable[[], bool], timeout_s: float = 60, why: Callable[[], Any] = lambda: "") -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"condition not reached in time {why()}"
        time.sleep(0.1)


def _flood(keys: int) -> bytes:
    return json.dumps({f"k{i:05d}": 1 for i in range(keys)}, separators=(",", ":")).encode()


@pytest.mark.parametrize("route", ["/predict", "/feedback"])
def test_a_flood_of_unknown_keys_gets_a_small_422_naming_count_and_examples(client: httpx.Client, route: str) -> None:
    body = _flood(90_000)
    assert len(body) < 1_000_000
    r = client.post(route, content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert len(r.content) < 4096
    (item,) = r.json()["detail"]
    assert "90,000 unknown field(s)" in item["msg"] and "'k00000'" in item["msg"]


def test_many_problems_are_cut_at_max_errors(client: httpx.Client, project: Params) -> None:
    bad = [{**GOOD, "torque_nm": -1, "tool_wear_min": -1}] * 500
    r = client.post("/predict", json=bad)
    detail = r.json()["detail"]
    limit = project.serving.max_errors
    assert r.status_code == 422 and len(detail) == limit + 1
    assert detail[-1]["type"] == "too_many_errors" and f"{1000 - limit:,} more" in detail[-1]["msg"]
    huge = {**GOOD, "type": "Q" * 500_000}
    r = client.post("/predict", json=huge)
    assert r.status_code == 422 and len(r.content) < 1024


@pytest.mark.parametrize("route", ["/predict", "/feedback"])
@pytest.mark.parametrize("content_type", ["text/plain", None, "application/x-www-form-urlencoded"])
def test_write_routes_need_a_json_content_type(client: httpx.Client, route: str, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    r = client.post(route, content=json.dumps(GOOD).encode(), headers=headers)
    assert r.status_code == 415 and "application/json" in r.json()["detail"]


def test_an_untrusted_host_header_is_refused(client: httpx.Client) -> None:
    r = client.post("/predict", json=GOOD, headers={"Host": "attacker.example"})
    assert r.status_code == 400 and "trusted_hosts" in r.json()["detail"]
    assert client.get("/health", headers={"Host": "localhost:1234"}).status_code == 200


@pytest.mark.parametrize("label", ["true", "1.0", "false", '"1"'])
def test_labels_must_be_the_integers_0_or_1(client: httpx.Client, label: str) -> None:
    rid = client.post("/predict", json=GOOD).json()["request_id"]
    body = f'{{"request_id": "{rid}", "failure": {label}}}'.encode()
    r = client.post("/feedback", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "failure"


def test_conflicting_labels_in_one_request_are_a_422(client: httpx.Client) -> None:
    rid = client.post("/predict", json=GOOD).json()["request_id"]
    r = client.post("/feedback", json=[{"request_id": rid, "failure": 0}, {"request_id": rid, "failure": 1}])
    assert r.status_code == 422 and "two different labels" in r.json()["detail"][0]["msg"]
    assert client.post("/feedback", json=[{"request_id": rid, "failure": 1}] * 2).status_code == 200


def test_a_different_later_label_needs_correction_and_keeps_the_history(client: httpx.Client, project: Params) -> None:
    from predmaint.service import labels, predlog

    rid = client.post("/predict", json=GOOD).json()["request_id"]
    assert client.post("/feedback", json={"request_id": rid, "failure": 1}).json()["recorded"] == 1
    r = client.post("/feedback", json={"request_id": rid, "failure": 0})
    assert r.status_code == 409 and "correction" in r.json()["detail"]
    r = client.post("/feedback", json={"request_id": rid, "failure": 0, "correction": True})
    assert r.status_code == 200 and r.json()["updated_ids"] == [rid]
    path = predlog.location(project)
    row = predlog.read_window(path).set_index("request_id").loc[rid]
    assert row["target"] == 0 and row["label_source"] == "open:127.0.0.1"
    conn = predlog.connect(path, readonly=True)
    try:
        assert [h[:3] for h in labels.history(conn, rid)] == [(1, None, "open:127.0.0.1")]
    finally:
        conn.close()


def test_a_forwarded_for_header_cannot_rename_the_source_of_a_label(client: httpx.Client, project: Params) -> None:
    """An open label's source is the peer's address; a local caller cannot claim another one."""
    from predmaint.service import predlog

    rid = client.post("/predict", json=GOOD).json()["request_id"]
    spoof = {"X-Forwarded-For": "10.9.9.9", "X-Forwarded-Proto": "https"}
    assert client.post("/feedback", json={"request_id": rid, "failure": 1}, headers=spoof).status_code == 200
    row = predlog.read_window(predlog.location(project)).set_index("request_id").loc[rid]
    assert row["label_source"] == "open:127.0.0.1"


def test_overload_is_shed_at_once_with_retry_after_and_counted(client: httpx.Client, project: Params) -> None:
    """max_queue = 1: while one request waits (its log commit blocked by a lock), the next is a 503."""
    lock = sqlite3.connect(project.path(project.paths.prediction_log), timeout=30)
    lock.execute("BEGIN EXCLUSIVE")
    answers: list[int] = []
    waiting = threading.Thread(target=lambda: answers.append(client.post("/predict", json=GOOD).status_code))
    try:
        waiting.start()
        shed: httpx.Response | None = None
        deadline = time.monotonic() + 60
        while shed is None and time.monotonic() < deadline:
            try:
                r = client.post("/predict", json=GOOD, timeout=3)
            except httpx.ReadTimeout:  # this one was admitted before the thread's: the next is shed
                continue
            shed = r if r.status_code == 503 else None
        assert shed is not None and "serving.max_queue" in shed.json()["detail"]
        assert shed.headers["Retry-After"] == str(project.serving.retry_after_s)
        ready = client.get("/ready")
        assert ready.status_code == 503 and "did not take a write" in ready.json()["reason"]
    finally:
        lock.rollback()
        lock.close()
    waiting.join(60)
    assert answers == [200]
    _wait_for(lambda: client.get("/ready").status_code == 200, 10, lambda: client.get("/ready").json())
    metrics = client.get("/metrics").text
    assert 'predmaint_shed_requests_total{reason="queue_full"}' in metrics


def test_openapi_contract_fuzzed_without_server_errors_or_schema_violations(server: Server, tmp_path: Path) -> None:
    cmd = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{server.url}/openapi.json",
        "--checks",
        "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
        "--max-examples",
        "25",
        "--phases",
        "examples,coverage,fuzzing",
        "--generation-deterministic",
        "--exclude-path",
        "/admin/reload",
    ]
    env = {"SCHEMATHESIS_HOOKS": "", "NO_COLOR": "1", "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(cmd, check=False, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    counts = re.search(r"(\d+) generated, (\d+) passed", out.stdout)
    assert counts is not None and int(counts[1]) == int(counts[2]) >= 100, out.stdout[-2000:]


# --- faults injected into a running app (in-process) ---------------------------------------------


def _app(project: Params, **environ: str) -> TestClient:
    slow_poll = project.model_copy(update={"serving": project.serving.model_copy(update={"reload_poll_s": 3600.0})})
    env = {slow_poll.serving.admin_token_env: ADMIN_TOKEN, **environ}
    return TestClient(create_app(Settings.from_params(slow_poll, environ=env)), base_url="http://127.0.0.1")


def test_scoped_tokens_guard_predict_and_feedback(project: Params) -> None:
    predict_token, predict_entry = new_token("replay")
    feedback_token, feedback_entry = new_token("plant-a")
    s = project.serving
    env = {s.predict_tokens_env: predict_entry, s.feedback_tokens_env: feedback_entry}
    assert predict_token not in predict_entry  # only the hash is configured
    with _app(project, **env) as c:
        _wait_for(lambda: c.get("/ready").status_code == 200)
        assert c.post("/predict", json=GOOD).status_code == 401
        assert c.post("/predict", json=GOOD, headers={"Authorization": f"Bearer {feedback_token}"}).status_code == 403
        assert c.post("/predict", json=GOOD, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).status_code == 403
        r = c.post("/predict", json=GOOD, headers={"Authorization": f"Bearer {predict_token}"})
        assert r.status_code == 200
        label = {"request_id": r.json()["request_id"], "failure": 0}
        assert c.post("/feedback", json=label, headers={"Authorization": f"Bearer {predict_token}"}).status_code == 403
        assert c.post("/feedback", json=label, headers={"Authorization": f"Bearer {feedback_token}"}).status_code == 200
        for token, status in [(predict_token, 200), (predict_token + "x", 403), (predict_token, 200)]:  # remembered
            assert c.post("/predict", json=GOOD, headers={"Authorization": f"Bearer {token}"}).status_code == status


def test_tokens_are_required_off_loopback(project: Params) -> None:
    public = project.model_copy(update={"serving": project.serving.model_copy(update={"host": "0.0.0.0"})})
    with pytest.raises(ValueError, match=project.serving.predict_tokens_env):
        Settings.from_params(public, environ={})


def test_storage_failures_are_503_and_ready_says_why(project: Params) -> None:
    with _app(project) as c:
        _wait_for(lambda: c.get("/ready").status_code == 200)
        rid = c.post("/predict", json=GOOD).json()["request_id"]
        svc = c.app.state.service  # type: ignore[attr-defined]
        svc.predlog.submit(lambda conn: conn.close()).result(10)  # the writer's connection is gone
        ready = c.get("/ready")
        assert ready.status_code == 503 and "cannot be written" in ready.json()["reason"]
        r = c.post("/feedback", json={"request_id": rid, "failure": 1})
        assert r.status_code == 503 and "storage unavailable" in r.json()["detail"]
        assert c.post("/predict", json=GOOD).status_code == 503


def test_a_replaced_registry_file_is_detected_and_reopened(project: Params, tmp_path: Path) -> None:
    db = project.registry_file
    with _app(project) as c:
        _wait_for(lambda: c.get("/ready").status_code == 200)
        served = c.get("/model").json()["version"]
        restored = tmp_path / "restored.db"
        shutil.copy2(db, restored)
        other = project.model_copy(
            update={"mlflow": project.mlflow.model_copy(update={"tracking_uri": f"sqlite:///{restored}"})}
        )
        newer = add_version(other, threshold=0.3, alias=project.mlflow.champion_alias)
        restored.replace(db)  # a restore from backup: a new file at the same path
        ready = c.get("/ready")
        assert ready.status_code == 503 and "was replaced" in ready.json()["reason"]
        _wait_for(lambda: c.get("/model").json().get("version") == newer)
        assert newer != served
        assert c.get("/ready").status_code == 200


def test_a_deleted_champion_alias_is_a_409(project: Params, tmp_path: Path) -> None:
    from mlflow import MlflowClient

    copy = champion_project(project.root.parent / "serving_champion", tmp_path / "alias")
    with _app(copy) as c:
        _wait_for(lambda: c.get("/ready").status_code == 200)
        MlflowClient(tracking_uri=copy.tracking_uri).delete_registered_model_alias(
            copy.mlflow.registered_model, copy.mlflow.champion_alias
        )
        r = c.post("/admin/reload", headers=AUTH)
        assert r.status_code == 409 and "alias" in r.json()["detail"]
        assert c.post("/predict", json=GOOD).status_code == 200  # still serving the loaded model


def test_a_deleted_registry_file_is_not_recreated_and_ready_says_so(project: Params, tmp_path: Path) -> None:
    """MLflow creates an empty registry at a missing SQLite path: the service must not let it."""
    copy = champion_project(project.root.parent / "serving_champion", tmp_path / "deleted")
    db = copy.registry_file
    with _app(copy) as c:
        _wait_for(lambda: c.get("/ready").status_code == 200)
        backup = tmp_path / "backup.db"
        shutil.copy2(db, backup)
        db.unlink()
        r = c.post("/admin/reload", json={"force": True}, headers=AUTH)
        assert r.status_code == 503 and "is missing" in r.json()["detail"]
        ready = c.get("/ready")
        assert ready.status_code == 503 and "is missing" in ready.json()["reason"]
        assert ready.json()["registry"]["reachable"] is False
        assert not db.exists()  # no empty registry in its place
        assert c.post("/predict", json=GOOD).status_code == 200  # the loaded model keeps serving
        backup.replace(db)  # restored
        _wait_for(lambda: c.get("/ready").status_code == 200, 30, lambda: c.get("/ready").json())


def _restore_with_new_champion(params: Params, db: Path, tmp_path: Path, threshold: float) -> str:
    """Replace the registry file by a copy whose champion alias points at a new version (a restore)."""
    restored = tmp_path / f"restored-{threshold}.db"
    shutil.copy2(db, restored)
    other = params.model_copy(
        update={"mlflow": params.mlflow.model_copy(update={"tracking_uri": f"sqlite:///{restored}"})}
    )
    version = add_version(other, threshold=threshold, alias=params.mlflow.champion_alias)
    restored.replace(db)
    return version


def test_a_real_server_reads_every_restored_registry_file(project: Params, tmp_path: Path) -> None:
    """MLflow caches one store per URI, holding its engine: the old reopen dropped only the engine map's
    entry, so it worked once; from the second replacement on, the server read the unlinked file for
    ever (alias moves unseen, a deleted or corrupt registry still "reachable", /ready 200)."""
    copy = champion_project(project.root.parent / "serving_champion", tmp_path / "restored")
    db = copy.registry_file
    with running_server(copy) as server, httpx.Client(base_url=server.url, timeout=30) as c:
        for threshold in (0.3, 0.31):
            newer = _restore_with_new_champion(copy, db, tmp_path, threshold)
            _wait_for(lambda v=newer: c.get("/model").json().get("version") == v, 60, lambda: c.get("/ready").json())
            assert c.get("/ready").status_code == 200
        with db.open("r+b") as f:  # corrupt in place (same inode): the registry can no longer answer
            f.write(b"not a database" * 100)
        r = c.post("/admin/reload", json={"force": True}, headers=AUTH)
        assert r.status_code == 503 and "unreachable" in r.json()["detail"]
        assert c.get("/ready").json()["registry"]["reachable"] is False
        assert c.post("/predict", json=GOOD).status_code == 200
