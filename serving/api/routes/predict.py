"""``POST /predict``: one reading or a list, scored through the micro-batcher."""

from __future__ import annotations

import os
import random
from typing import Any

import numpy as np
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from predmaint import schema
from predmaint.service.scoring import ModelNotReadyError, PredictionLogError
from serving.api.validation import read_body
from serving.examples import EXAMPLE_AI4I, EXAMPLE_PREDICTION, EXAMPLE_READING, EXAMPLE_RISKY
from serving.schemas import (
    Message,
    Prediction,
    ValidationErrorResponse,
)
from serving.service import Service

_FIELDS = [schema.SNAKE_CASE[c] for c in schema.NUMERIC_FEATURES]
_ids = random.Random(os.urandom(32))


def _request_id() -> str:
    """A random 128-bit hex id; no syscall (``uuid4`` reads /dev/urandom and gives up the GIL)."""
    return f"{_ids.getrandbits(128):032x}"


def _openapi(reading: type[BaseModel], max_batch: int) -> dict[str, Any]:
    one = reading.model_json_schema()
    many = {"type": "array", "items": one, "minItems": 1, "maxItems": max_batch, "title": "Batch"}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"oneOf": [one, many]},
                    "examples": {
                        "single": {"summary": "One reading", "value": EXAMPLE_READING},
                        "batch": {
                            "summary": "A batch of readings",
                            "value": [EXAMPLE_READING, EXAMPLE_RISKY],
                        },
                        "ai4i_names": {"summary": "Original AI4I column names", "value": EXAMPLE_AI4I},
                    },
                }
            },
        }
    }


def build_router(reading: type[BaseModel], max_batch: int) -> APIRouter:
    """The predict router, its OpenAPI request schema carrying the contract's bounds."""
    router = APIRouter(tags=["predict"])

    @router.post(
        "/predict",
        summary="Failure probability, decision and likely failure modes",
        response_model=Prediction | list[Prediction],
        openapi_extra=_openapi(reading, max_batch),
        responses={
            200: {
                "description": "One answer per reading (an object for an object, a list for a list).",
                "content": {"application/json": {"example": EXAMPLE_PREDICTION}},
            },
            413: {"model": Message, "description": "Body larger than serving.max_body_bytes."},
            422: {
                "model": ValidationErrorResponse,
                "description": "Invalid reading(s); every problem is named.",
            },
            503: {
                "model": Message,
                "description": "No model loaded yet, or the prediction log is unavailable.",
            },
        },
    )
    async def predict(request: Request) -> JSONResponse:
        """Score readings with the served model. Each answer carries a ``request_id`` for
        ``POST /feedback``, the model version, and the physical reason behind risky readings."""
        service: Service = request.app.state.service
        body = await read_body(request, service.settings.serving.max_body_bytes)
        readings, single = service.readings.parse(body)
        if service.store.current is None:
            raise HTTPException(503, "no model loaded yet; see GET /ready")
        types = [r.type for r in readings]
        numeric = np.array([[getattr(r, f) for f in _FIELDS] for r in readings], dtype=float)
        ids = [_request_id() for _ in readings]
        try:
            scored = await service.batcher.submit_async(types, numeric, ids)
        except (ModelNotReadyError, PredictionLogError) as exc:
            raise HTTPException(503, str(exc)) from None
        if single:
            return JSONResponse(scored.predictions[0], headers={"X-Request-ID": ids[0]})
        return JSONResponse(scored.predictions)

    return router
