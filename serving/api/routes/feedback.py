"""``POST /feedback``: the ground truth for earlier predictions, by ``request_id``."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException, Request

from predmaint.service.labels import Feedback, LabelConflictError, UnknownRequestIdsError
from serving.api.validation import BodyValidationError, limit_errors, read_body
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
        400: {"model": Message, "description": "Host header not in serving.trusted_hosts."},
        401: {"model": Message, "description": "Feedback tokens are configured and no bearer token was sent."},
        403: {"model": Message, "description": "The bearer token is not a feedback token."},
        404: {
            "model": Message,
            "description": "Some request_ids were never predicted, or their predictions were archived by "
            "retention (`predmaint log prune`), named; nothing is recorded.",
        },
        409: {
            "model": Message,
            "description": "A different label is already recorded for some ids and the item does not say "
            "correction: true; nothing is recorded.",
        },
        413: {"model": Message, "description": "Body larger than serving.max_body_bytes."},
        415: {"model": Message, "description": "Content-Type is not application/json."},
        422: {
            "model": ValidationErrorResponse,
            "description": "Invalid feedback, or one request gives one id different labels; problems are named.",
        },
        503: {"model": Message, "description": "The prediction log is unavailable; retry later."},
    },
)
async def feedback(request: Request) -> FeedbackResponse:
    """Join labels to predictions by ``request_id``. All-or-nothing: if any id is unknown, nothing is
    stored and the 404 names the unknown ids. Repeating the same feedback is a no-op; a different
    label for an already-labelled id is refused (409) unless the item says ``"correction": true``;
    then it replaces the label (``updated``) and the earlier one is kept in the label history. Each
    label records its provenance (the feedback token's name, or the client address)."""
    service: Service = request.app.state.service
    body = await read_body(request.scope, request.receive, service.settings.serving.max_body_bytes)
    items, _ = service.feedback.parse(body)
    _refuse_conflicts(items, service.settings.serving.max_errors)
    source = request.scope.get("state", {}).get("identity")
    batch = [Feedback(i.request_id, i.failure, i.failure_mode, source, i.correction) for i in items]
    try:
        result = await asyncio.wrap_future(service.predlog.add_feedback(batch))
    except UnknownRequestIdsError as exc:
        ids = ", ".join(exc.ids[:20])
        raise HTTPException(
            404, f"unknown request_id(s) (never predicted, or archived by retention), nothing recorded: {ids}"
        ) from None
    except LabelConflictError as exc:
        raise HTTPException(
            409,
            f"a different label is already recorded for {', '.join(exc.ids[:20])}; send the item with "
            '"correction": true to replace it (the earlier label is kept in the history); nothing recorded',
        ) from None
    return FeedbackResponse(
        recorded=len(result.recorded),
        unchanged=len(result.unchanged),
        updated=len(result.updated),
        updated_ids=result.updated,
    )


def _refuse_conflicts(items: list[FeedbackItem], max_errors: int) -> None:
    """422 if one request gives one ``request_id`` two different labels (no silent last-wins)."""
    seen: dict[str, tuple[int, str | None]] = {}
    problems = []
    for n, item in enumerate(items):
        label = (item.failure, item.failure_mode)
        first = seen.setdefault(item.request_id, label)
        if first != label:
            problems.append(
                {
                    "loc": ["body", n, "failure"],
                    "field": "failure",
                    "msg": f"feedback item {n}: request_id {item.request_id!r} is given two different labels "
                    f"in this request ({first[0]}/{first[1]} and {label[0]}/{label[1]})",
                    "type": "conflicting_labels",
                }
            )
    if problems:
        raise BodyValidationError(limit_errors(problems, len(problems), max_errors))
