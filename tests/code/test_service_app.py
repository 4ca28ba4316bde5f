"""The app without a model: settings from the contract, readiness, validation first, admin disabled."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from starlette.types import Receive, Scope, Send

from predmaint import schema
from predmaint.config import Params
from predmaint.quality.contract import load_contract
from serving.app import ServiceApp, create_app
from serving.settings import Settings


def test_settings_take_bounds_and_types_from_the_contract(sim_params: Params) -> None:
    settings = Settings.from_params(sim_params, environ={})
    contract = load_contract(sim_params)
    for column in schema.NUMERIC_FEATURES:
        assert settings.bounds[column] == contract.bounds[column]
    assert settings.product_types == contract.product_types
    assert settings.admin_token is None


def test_settings_refuse_a_short_token_and_missing_bounds(sim_params: Params) -> None:
    env_name = sim_params.serving.admin_token_env
    with pytest.raises(ValidationError, match=env_name):
        Settings.from_params(sim_params, environ={env_name: "short"})
    with pytest.raises(ValidationError, match="no bounds"):
        Settings.from_params(sim_params, environ={}, bounds={schema.TORQUE: (0.0, 1.0)})


def test_settings_from_env_apply_overrides(sim_params: Params) -> None:
    env = {"PREDMAINT_PARAMS": str(sim_params.root / "params.yaml"), "PREDMAINT_SERVING__MAX_BATCH": "7"}
    assert Settings.from_env(env).serving.max_batch == 7


GOOD = {"type": "L", "air_temperature_k": 300, "process_temperature_k": 310, "rotational_speed_rpm": 1500}
GOOD |= {"torque_nm": 40, "tool_wear_min": 10}


@pytest.fixture
def client(sim_params: Params) -> Iterator[TestClient]:
    with TestClient(create_app(Settings.from_params(sim_params, environ={})), base_url="http://127.0.0.1") as c:
        yield c


def test_not_ready_without_a_champion_but_alive(client: TestClient) -> None:
    assert client.get("/health").status_code == 200
    deadline = time.monotonic() + 120
    while (body := client.get("/ready").json())["registry"]["checked_at"] is None:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    ready = client.get("/ready")
    assert ready.status_code == 503 and ready.json()["ready"] is False
    assert body["registry"]["reachable"] is True and "alias" in body["reason"]
    assert client.post("/predict", json=GOOD).status_code == 503
    assert client.post("/predict", json={**GOOD, "torque_nm": -3}).status_code == 422
    assert client.get("/model").status_code == 503


def test_admin_is_disabled_without_a_token(client: TestClient, sim_params: Params) -> None:
    r = client.post("/admin/reload", headers={"Authorization": "Bearer anything-at-all-123"})
    assert r.status_code == 403 and sim_params.serving.admin_token_env in r.json()["detail"]


def test_no_champion_yet_is_said_once_not_logged_as_an_error_every_poll(
    sim_params: Params, caplog: pytest.LogCaptureFixture
) -> None:
    fast = sim_params.model_copy(update={"serving": sim_params.serving.model_copy(update={"reload_poll_s": 0.05})})
    caplog.set_level("INFO", logger="predmaint.service.model_store")
    with TestClient(create_app(Settings.from_params(fast, environ={})), base_url="http://127.0.0.1") as c:
        deadline = time.monotonic() + 120
        checks: set[str] = set()
        while len(checks) < 3:  # several polls of the registry, each finding no champion
            assert time.monotonic() < deadline
            checks.add(c.get("/ready").json()["registry"]["checked_at"] or "")
            checks.discard("")
            time.sleep(0.1)
    store = [r for r in caplog.records if r.name == "predmaint.service.model_store"]
    assert not [r for r in store if r.levelname == "ERROR"], [r.getMessage() for r in store]
    assert len([r for r in store if "yet" in r.getMessage()]) == 1


def test_a_model_without_the_alias_yet_is_no_champion_not_an_unreachable_registry(sim_params: Params) -> None:
    from mlflow import MlflowClient

    from predmaint.service.mlflow_registry import MlflowRegistry

    client = MlflowClient(tracking_uri=sim_params.tracking_uri, registry_uri=sim_params.tracking_uri)
    client.create_registered_model(sim_params.mlflow.registered_model)
    client.create_model_version(sim_params.mlflow.registered_model, source=str(sim_params.root))
    with pytest.raises(LookupError, match="alias"):
        MlflowRegistry(sim_params).resolve()


def test_feedback_for_an_unknown_or_archived_id_is_a_404_that_says_which_it_may_be(client: TestClient) -> None:
    """Retention archives old predictions; a late label for one is refused, and the 404 says why it may be."""
    r = client.post("/feedback", json={"request_id": "01a20b75-0000-7000-8000-000000000000", "failure": 1})
    assert r.status_code == 404 and "archived by retention" in r.json()["detail"]


def test_predict_takes_the_short_way_with_the_same_checks_answers_and_metrics(client: TestClient) -> None:
    """POST /predict skips FastAPI's generic layers but keeps the guard, the error format and the metrics."""
    app = client.app
    assert isinstance(app, ServiceApp)

    async def generic(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError(f"{scope['method']} {scope['path']} went through the generic stack")

    stack, app.middleware_stack = app.middleware_stack, generic
    try:
        invalid = client.post("/predict", json={**GOOD, "torque_nm": -3})
        assert invalid.status_code == 422 and invalid.json()["detail"][0]["field"] == "torque_nm"
        assert client.post("/predict", json=GOOD).status_code == 503  # no model yet
        too_big = client.post(
            "/predict", content=b"[" + b" " * 2_000_000 + b"]", headers={"content-type": "application/json"}
        )
        assert too_big.status_code == 413 and "max_body_bytes" in too_big.json()["detail"]
        assert client.post("/predict", json=GOOD, headers={"host": "evil.example"}).status_code == 400
        assert client.post("/predict", content=b"{}", headers={"content-type": "text/plain"}).status_code == 415
        with pytest.raises(AssertionError, match="generic stack"):
            client.get("/predict")
    finally:
        app.middleware_stack = stack
    assert client.get("/predict").status_code == 405
    text = client.get("/metrics").text
    for status in (422, 503, 413, 400, 415):
        assert f'predmaint_http_requests_total{{method="POST",route="/predict",status="{status}"}} 1.0' in text


@pytest.mark.parametrize(
    ("error", "status", "detail"),
    [
        (RuntimeError("boom"), 500, "internal error: RuntimeError"),
        (sqlite3.OperationalError("disk I/O error"), 503, "storage unavailable (OperationalError: disk I/O error)"),
        (OSError(), 503, "storage unavailable (OSError: )"),
    ],
)
def test_an_unexpected_failure_on_the_short_way_is_answered_like_anywhere_else(
    client: TestClient, error: Exception, status: int, detail: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def parse(body: bytes) -> None:
        raise error

    monkeypatch.setattr(client.app.state.service.readings, "parse", parse)  # type: ignore[attr-defined]
    r = client.post("/predict", json=GOOD)
    assert r.status_code == status and r.json() == {"detail": detail if status == 500 else f"{detail}; retry later"}
    assert ("retry-after" in r.headers) is (status == 503)
