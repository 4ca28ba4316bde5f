"""``POST /predict``: one reading or a list, scored through the micro-batcher.

This is the hot route, so it is a plain ASGI endpoint (a Starlette ``Route``) rather than a FastAPI
path operation: FastAPI's per-request machinery (dependency solving, request and response objects)
costs ~150 µs per call, as much as everything else a request needs here. The app sends it the short
way (:class:`serving.app.ServiceApp`: metrics and guard middleware, then this endpoint), so the
endpoint answers its own errors with the app's mapping (:func:`serving.api.errors.error_answer`:
a ``BodyValidationError`` is the same 422 as anywhere else), and :func:`document` adds the operation
to the OpenAPI schema that ``/docs`` shows.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from fastapi import HTTPException
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.routing import Match, Route
from starlette.types import Receive, Scope, Send

from predmaint import schema
from predmaint.service.batcher import ShedError
from predmaint.service.predlog import new_request_id
from predmaint.service.scoring import ModelNotReadyError, PredictionLogError
from serving.api.errors import error_answer
from serving.api.responses import send_json
from serving.api.validation import read_body
from serving.examples import (
    EXAMPLE_AI4I,
    EXAMPLE_INVALID_READING,
    EXAMPLE_NOT_READY,
    EXAMPLE_PREDICTION,
    EXAMPLE_READING,
    EXAMPLE_RISKY,
    EXAMPLE_TOO_LARGE,
    EXAMPLE_VALIDATION_ERROR,
)
from serving.schemas import Message, Prediction, ValidationErrorResponse
from serving.service import Service

PATH = "/predict"
_FIELDS = [schema.SNAKE_CASE[c] for c in schema.NUMERIC_FEATURES]


_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))  # built once, not per call


def _encode(content: Any) -> bytes:
    return _ENCODER.encode(content).encode()


class Predict:
    """The ASGI endpoint of ``POST /predict`` (a class: Starlette mounts instances as plain ASGI apps)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Score readings with the served model. Each answer carries a ``request_id`` for
        ``POST /feedback``, the model version, and the physical reason behind risky readings."""
        service: Service = scope["app"].state.service
        s = service.settings.serving
        if service.waiting >= s.max_queue:  # answered here, without the exception machinery: shedding is cheap
            service.metrics.shed.labels("queue_full").inc()
            detail = (
                f"overloaded: {service.waiting} requests already wait for the model (serving.max_queue); retry later"
            )
            await send_json(send, 503, _encode({"detail": detail}), [(b"retry-after", str(s.retry_after_s).encode())])
            return
        service.waiting += 1
        try:
            scored, ids, single = await self._score(service, scope, receive)
        except Exception as exc:  # answered here, as the app's handlers would (this route may bypass them)
            status, content, headers = error_answer(exc, scope["method"], scope["path"], s.retry_after_s)
            raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
            await send_json(send, status, _encode(content), raw)
            return
        finally:
            service.waiting -= 1
        if single:
            await send_json(send, 200, _encode(scored.predictions[0]), [(b"x-request-id", ids[0].encode())])
        else:
            await send_json(send, 200, _encode(scored.predictions))

    @staticmethod
    async def _score(service: Service, scope: Scope, receive: Receive) -> tuple[Any, list[str], bool]:
        body = await read_body(scope, receive, service.settings.serving.max_body_bytes)
        readings, single = service.readings.parse(body)
        if service.store.current is None:
            raise HTTPException(503, "no model loaded yet; see GET /ready")
        types = [r.type for r in readings]
        numeric = np.array([[getattr(r, f) for f in _FIELDS] for r in readings], dtype=float)
        ids = [new_request_id() for _ in readings]
        try:
            scored = await service.batcher.submit_async(types, numeric, ids)
        except ShedError as exc:
            service.metrics.shed.labels("queue_budget").inc()
            retry = str(service.settings.serving.retry_after_s)
            raise HTTPException(503, str(exc), headers={"Retry-After": retry}) from None
        except (ModelNotReadyError, PredictionLogError) as exc:
            raise HTTPException(503, str(exc)) from None
        return scored, ids, single


class _Route(Route):
    """A plain ASGI route that, like FastAPI's own, puts itself in ``scope["route"]`` (metrics label)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child = super().matches(scope)
        if match is not Match.NONE:
            child["route"] = self
        return match, child


def route() -> Route:
    """The ``POST /predict`` route (the app's service is found through ``scope["app"]``)."""
    return _Route(PATH, Predict(), methods=["POST"], name="predict", include_in_schema=False)


def _register(spec: dict[str, Any], *models: type[BaseModel]) -> list[dict[str, Any]]:
    """Add ``models`` (and the models they use) to ``components/schemas``; a ``$ref`` for each."""
    refs, defs = models_json_schema([(m, "serialization") for m in models], ref_template="#/components/schemas/{model}")
    components = spec.setdefault("components", {}).setdefault("schemas", {})
    for name, definition in defs.get("$defs", {}).items():
        components.setdefault(name, definition)
    return [refs[(m, "serialization")] for m in models]


def _request_body(reading: type[BaseModel], max_batch: int) -> dict[str, Any]:
    one = reading.model_json_schema()
    many = {"type": "array", "items": one, "minItems": 1, "maxItems": max_batch, "title": "Batch"}
    return {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"oneOf": [one, many]},
                "examples": {
                    "single": {"summary": "One reading", "value": EXAMPLE_READING},
                    "batch": {"summary": "A batch of readings", "value": [EXAMPLE_READING, EXAMPLE_RISKY]},
                    "ai4i_names": {"summary": "Original AI4I column names", "value": EXAMPLE_AI4I},
                    "invalid": {
                        "summary": "Torque above the contract (answered 422)",
                        "value": EXAMPLE_INVALID_READING,
                    },
                },
            }
        },
    }


def document(spec: dict[str, Any], reading: type[BaseModel], max_batch: int) -> dict[str, Any]:
    """Add ``POST /predict`` to an OpenAPI schema: the request's bounds from the data contract,
    examples, and the response models (registered under ``components/schemas``)."""
    prediction, invalid, message = _register(spec, Prediction, ValidationErrorResponse, Message)

    def answer(description: str, ref: dict[str, Any], example: Any = None) -> dict[str, Any]:
        content: dict[str, Any] = {"schema": ref}
        if example is not None:
            content["example"] = example
        return {"description": description, "content": {"application/json": content}}

    spec.setdefault("paths", {})[PATH] = {
        "post": {
            "tags": ["predict"],
            "summary": "Failure probability, decision and likely failure modes",
            "description": Predict.__call__.__doc__,
            "operationId": "predict",
            "requestBody": _request_body(reading, max_batch),
            "responses": {
                "200": answer(
                    "One answer per reading (an object for an object, a list for a list).",
                    {"oneOf": [prediction, {"type": "array", "items": prediction}]},
                    EXAMPLE_PREDICTION,
                ),
                "413": answer("Body larger than serving.max_body_bytes.", message, EXAMPLE_TOO_LARGE),
                "422": answer("Invalid reading(s); every problem is named.", invalid, EXAMPLE_VALIDATION_ERROR),
                "400": answer("Host header not in serving.trusted_hosts.", message),
                "401": answer("Predict tokens are configured and no bearer token was sent.", message),
                "403": answer("The bearer token is not a predict token.", message),
                "415": answer("Content-Type is not application/json.", message),
                "503": answer(
                    "No model loaded yet, the prediction log is unavailable, or the service is overloaded "
                    "(serving.max_queue / serving.queue_budget_ms; the answer carries Retry-After).",
                    message,
                    EXAMPLE_NOT_READY,
                ),
            },
        }
    }
    return spec
