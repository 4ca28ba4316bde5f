"""``/docs`` and ``/redoc`` work offline, and the examples they show are the service's real answers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from predmaint.config import Params
from serving.app import create_app
from serving.examples import EXAMPLE_INVALID_READING, EXAMPLE_READY
from serving.settings import Settings


@pytest.fixture
def client(sim_params: Params) -> Iterator[TestClient]:
    with TestClient(create_app(Settings.from_params(sim_params, environ={})), base_url="http://127.0.0.1") as c:
        yield c


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_their_assets_from_the_service(client: TestClient, page: str) -> None:
    html = client.get(page).text
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, html
    for url in assets:
        assert url.startswith("/"), f"{page} loads {url} from outside the service"
        resp = client.get(url)
        assert resp.status_code == 200 and len(resp.content) > 1000, url
    assert "fonts.googleapis" not in html and "cdn" not in html.lower()


def _documented(client: TestClient) -> dict[str, Any]:
    op = client.get("/openapi.json").json()["paths"]["/predict"]["post"]
    bodies = {code: r["content"]["application/json"] for code, r in op["responses"].items()}
    return {code: body["example"] for code, body in bodies.items() if "example" in body}


def test_predict_error_examples_are_the_real_answers(client: TestClient, sim_params: Params) -> None:
    examples = _documented(client)
    invalid = client.post("/predict", json=EXAMPLE_INVALID_READING)
    assert invalid.status_code == 422 and invalid.json() == examples["422"]
    size = sim_params.serving.max_body_bytes + 1
    big = client.post("/predict", content=b" " * size, headers={"content-type": "application/json"})
    assert big.status_code == 413 and big.json() == examples["413"]
    valid = {**EXAMPLE_INVALID_READING, "torque_nm": 40.0}
    not_ready = client.post("/predict", json=valid)
    assert not_ready.status_code == 503 and not_ready.json() == examples["503"]


def test_ready_example_has_the_real_fields(client: TestClient) -> None:
    real = client.get("/ready").json()
    assert set(real) == set(EXAMPLE_READY)
    assert set(real["registry"]) == set(EXAMPLE_READY["registry"])
    assert set(real["prediction_log"]) == set(EXAMPLE_READY["prediction_log"])
    assert real["instance"] and real["pid"] > 0
