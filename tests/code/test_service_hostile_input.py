"""Hostile input below the routes (issue 18 re-audit): repeated JSON keys, Host header and
Content-Type variants. The parser and the guard middleware are driven directly (no model, no server).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from predmaint.config import Params
from serving.api.guard import GuardMiddleware
from serving.api.validation import BodyValidationError
from serving.service import Service
from serving.settings import Settings

READING = (
    '{"type": "L", "air_temperature_k": 300.0, "process_temperature_k": 310.0, '
    '"rotational_speed_rpm": 1500, "torque_nm": 40.0, "tool_wear_min": 100}'
)


@pytest.fixture
def service(sim_params: Params) -> Service:
    return Service(Settings.from_params(sim_params, environ={}))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (READING.replace('"torque_nm": 40.0', '"torque_nm": 99.0, "torque_nm": 40.0'), "torque_nm"),
        ("[" + READING + ", " + READING.replace('"type": "L"', '"type": "H", "type": "L"') + "]", "type"),
    ],
)
def test_a_reading_with_a_repeated_key_is_refused_not_last_wins(service: Service, body: str, field: str) -> None:
    with pytest.raises(BodyValidationError) as err:
        service.readings.parse(body.encode())
    (item,) = err.value.errors
    assert item["type"] == "duplicate_field" and item["field"] == field and "given twice" in item["msg"]


def test_a_feedback_item_with_a_repeated_label_is_refused(service: Service) -> None:
    repeated = (
        '{"request_id": "a", "failure": 0, "failure": 1}',
        '{"request_id": "x", "request_id": "a", "failure": 1}',
    )
    for body in repeated:
        with pytest.raises(BodyValidationError) as err:
            service.feedback.parse(body.encode())
        assert err.value.errors[0]["type"] == "duplicate_field"


def test_repeated_keys_in_many_items_are_bounded_by_max_errors(service: Service) -> None:
    item = '{"request_id": "a", "failure": 1, "failure": 1}'
    with pytest.raises(BodyValidationError) as err:
        service.feedback.parse(f"[{','.join([item] * 500)}]".encode())
    limit = service.settings.serving.max_errors
    assert len(err.value.errors) == limit + 1 and "480 more" in err.value.errors[-1]["msg"]


def test_a_colon_inside_a_string_value_is_not_a_repeated_key(service: Service) -> None:
    items, single = service.feedback.parse(json.dumps({"request_id": 'a":b', "failure": 1}).encode())
    assert single and items[0].request_id == 'a":b'
    assert service.readings.parse(READING.encode())[0][0].torque_nm == 40.0


def _call(guard: GuardMiddleware, headers: list[tuple[bytes, bytes]], path: str = "/predict") -> int:
    sent: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    guard.app = app
    scope = {"type": "http", "method": "POST", "path": path, "headers": headers, "client": ("127.0.0.1", 1)}
    asyncio.run(guard(scope, receive, send))
    return int(sent[0]["status"])


JSON = (b"content-type", b"application/json")


@pytest.mark.parametrize(
    ("hosts", "status"),
    [
        ([b"localhost"], 200),
        ([b"LOCALHOST:8000"], 200),
        ([b"localhost."], 200),  # the same name, fully qualified
        ([b"[::1]:8000"], 200),
        ([b"evil.example", b"localhost"], 400),  # two Host headers: refused whichever comes last
        ([b"localhost", b"localhost"], 400),
        ([b"localhost:abc"], 400),  # a port must be digits
        ([b"[::1"], 400),  # unclosed bracket
        ([b"[::1]x"], 400),
        ([], 400),
    ],
)
def test_host_header_variants(sim_params: Params, hosts: list[bytes], status: int) -> None:
    guard = GuardMiddleware(lambda *a: None, Settings.from_params(sim_params, environ={}))  # type: ignore[arg-type]
    assert _call(guard, [*((b"host", h) for h in hosts), JSON]) == status


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        (b"application/json", 200),
        (b"APPLICATION/JSON", 200),
        (b"application/json; charset=UTF-8", 200),
        (b'application/json; charset="utf-8"', 200),
        (b"application/problem+json", 200),
        (b"application/json; charset=latin-1", 415),  # the body is read as UTF-8: say so instead
        (b"application/json; charset=utf-16", 415),
        (b"application/jsonx", 415),
        (b"text/plain", 415),
    ],
)
def test_content_type_variants(sim_params: Params, content_type: bytes, status: int) -> None:
    guard = GuardMiddleware(lambda *a: None, Settings.from_params(sim_params, environ={}))  # type: ignore[arg-type]
    assert _call(guard, [(b"host", b"127.0.0.1"), (b"content-type", content_type)], "/feedback") == status
