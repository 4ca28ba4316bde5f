"""Reading and validating request bodies, with errors that name the field and the bound.

Bodies are read with a hard size limit (413 past ``serving.max_body_bytes``) and validated by
pydantic straight from the JSON bytes. A JSON object is one item, a JSON array a batch
(``serving.max_batch`` items at most). Every problem becomes a 422 item
``{"loc", "field", "msg", "type"}``; bad input never reaches the model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import HTTPException
from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from starlette.types import Receive, Scope

from predmaint import schema
from serving.schemas import UNITS

_FIELD_OF: dict[str, str] = {**schema.SNAKE_CASE, **{v: v for v in schema.SNAKE_CASE.values()}}


class BodyValidationError(Exception):
    """The request body is invalid; ``errors`` holds one item per problem (a 422 response)."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors[0]["msg"] if errors else "invalid body")
        self.errors = errors


async def read_body(scope: Scope, receive: Receive, max_bytes: int) -> bytes:
    """The request body, refusing (413) anything larger than ``max_bytes`` before reading it all."""
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit() and int(value) > max_bytes:
            raise HTTPException(
                413, f"request body of {int(value):,} bytes exceeds serving.max_body_bytes = {max_bytes:,}"
            )
    chunks: list[bytes] = []
    total, more = 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise HTTPException(400, "client disconnected before sending the whole body")
        chunk = message.get("body", b"")
        total += len(chunk)
        if total > max_bytes:
            raise HTTPException(413, f"request body exceeds serving.max_body_bytes = {max_bytes:,} bytes")
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def _is_batch(body: bytes) -> bool:
    return body.lstrip()[:1] == b"["


class BodyParser:
    """Validates one kind of item (a reading, a feedback item), alone or as a batch.

    Args:
        item: The pydantic model of one item.
        max_batch: Most items accepted in one array.
        what: The item's name in messages ("reading", "feedback item").
        bounds: AI4I column → (min, max), to name the bound in messages.
    """

    def __init__(
        self,
        item: type[BaseModel],
        max_batch: int,
        what: str,
        bounds: Mapping[str, tuple[float, float]] | None = None,
    ) -> None:
        self.item = item
        self.max_batch = max_batch
        self.what = what
        self.bounds = dict(bounds or {})
        self._batch: TypeAdapter[list[Any]] = TypeAdapter(
            Annotated[list[item], Field(min_length=1, max_length=max_batch)]  # type: ignore[valid-type, arg-type]
        )

    def parse(self, body: bytes) -> tuple[list[Any], bool]:
        """Validate a body: returns the items and whether it was a single object.

        Raises:
            BodyValidationError: Anything is wrong; every problem is listed.
        """
        single = not _is_batch(body)
        try:
            if single:
                return [self.item.model_validate_json(body)], True
            return self._batch.validate_json(body), False
        except ValidationError as exc:
            raise BodyValidationError([self._describe(e, single) for e in exc.errors()]) from None

    def _describe(self, err: Any, single: bool) -> dict[str, Any]:
        loc = list(err["loc"])
        key = next((p for p in reversed(loc) if isinstance(p, str)), None)
        field = _FIELD_OF.get(key, key) if key else None
        kind = err["type"]
        given = err.get("input")
        where = f"{self.what} {loc[0]}: " if not single and loc and isinstance(loc[0], int) else ""
        msg = f"{where}{key}: {err['msg']}" if key else f"{where}{err['msg']}"
        column = schema.FROM_SNAKE_CASE.get(field or "", "")
        if kind in ("greater_than_equal", "less_than_equal") and column in self.bounds:
            low, high = self.bounds[column]
            side, limit = ("below the minimum", low) if kind == "greater_than_equal" else ("above the maximum", high)
            msg = (
                f"{where}{key} = {given!r} is {side} {limit:g} {UNITS[column]} of the data contract "
                f"(accepted range [{low:g}, {high:g}])"
            )
        elif kind == "multiple_of" and column:
            msg = f"{where}{key} must be a whole number (the data contract types it as integer), got {given!r}"
        elif kind == "process_above_air":
            field, loc = "process_temperature_k", [*loc, "process_temperature_k"]
            msg = f"{where}{err['msg']}"
        elif kind == "float_type":
            msg = f"{where}{key} must be a JSON number, got {type(given).__name__} {given!r}"
        elif kind == "literal_error":
            msg = f"{where}{key} must be one of {err['ctx']['expected']}, got {given!r}"
        elif kind == "finite_number":
            msg = f"{where}{key} must be a finite number, got {given!r}"
        elif kind == "missing":
            also = f" (or its AI4I name {column!r})" if column else ""
            msg = f"{where}missing field '{key}'{also}"
        elif kind == "extra_forbidden":
            if key in _FIELD_OF:
                msg = f"{where}field '{field}' given twice (as '{field}' and '{key}')"
            else:
                expected = ", ".join(self.item.model_fields)
                msg = f"{where}unknown field '{key}'; expected {expected}"
        elif kind == "too_long":
            msg = f"batch of {err['ctx']['actual_length']} {self.what}s exceeds the limit of {self.max_batch}"
        elif kind == "too_short" and not loc:
            msg = f"empty batch: send at least one {self.what}"
        elif kind == "json_invalid":
            msg = f"body is not valid JSON: {err['ctx'].get('error', err['msg'])}"
        elif kind in ("model_type", "model_attributes_type"):
            msg = f"{where}each {self.what} must be a JSON object, got {type(given).__name__}"
        return {"loc": ["body", *loc], "field": field, "msg": msg, "type": kind}


def validation_items(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """FastAPI's own validation errors (query, path) in the service's error format."""
    out = []
    for e in errors:
        loc = list(e.get("loc", ()))
        key = next((str(p) for p in reversed(loc) if isinstance(p, str) and p != "body"), None)
        out.append(
            {
                "loc": loc,
                "field": key,
                "msg": f"{key}: {e.get('msg')}" if key else e.get("msg"),
                "type": e.get("type"),
            }
        )
    return out
