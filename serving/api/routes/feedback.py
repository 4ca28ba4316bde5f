"""``POST /feedback``: the ground truth for earlier predictions, by ``request_id``."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException, Request

from predmaint.service.predlog import Feedback, UnknownRequestIdsError
from serving.api.validation import read_body
from serving.examples import EXAMPLE_FEEDBACK
from serving.schemas import FeedbackItem, FeedbackResponse, Message, ValidationErrorResponse
from serving.service import Service

router = APIRouter(tags=["feedback"])
_EXAMPLE = EXAMPLE_FEEDBACK
_ITEM = FeedbackItem.model_json_schema()


@router.post(
    "/feedback",
    response_model=FeedbackResponse,
    summary="Record what really happened for one or many predictions",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"oneOf": [_ITEM, {"type": "array", "items": _ITEM, "minItems": 1}]},
                    "examples": {
                        "single": {"summary": "One label", "value": _EXAMPLE},
                        "batch": {
                            "summary": "Several labels",
                            "value": [
                                _EXAMPLE,
                                {"request_id": "01a20b75-d3b0-7e6b-8c9d-0e1f2a3b4c5d", "failure": 0},
                            ],
                        },
                    },
                }
            },
        }
    },
    responses={
        404: {
            "model": Message,
            "description": "Some request_ids were never predicted (named); nothing is recorded.",
        },
        413: {"model": Message, "description": "Body larger than serving.max_body_bytes."},
        422: {"model": ValidationErrorResponse, "description": "Invalid feedback; every problem is named."},
    },
)
async def feedback(request: Request) -> FeedbackResponse:
    """Join labels to predictions by ``request_id``. All-or-nothing: if any id is unknown, nothing is
    stored and the 404 names the unknown ids. Repeating the same feedback is a no-op; a different
    label for an already-labelled id is a correction (``updated``)."""
    service: Service = request.app.state.service
    body = await read_body(request.scope, request.receive, service.settings.serving.max_body_bytes)
    items, _ = service.feedback.parse(body)
    batch = [Feedback(i.request_id, int(i.failure), i.failure_mode) for i in items]
    try:
        result = await asyncio.wrap_future(service.predlog.add_feedback(batch))
    except UnknownRequestIdsError as exc:
        raise HTTPException(404, f"unknown request_id(s), nothing recorded: {', '.join(exc.ids)}") from None
    return FeedbackResponse(
        recorded=len(result.recorded),
        unchanged=len(result.unchanged),
        updated=len(result.updated),
        updated_ids=result.updated,
    )
