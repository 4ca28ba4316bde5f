"""Reading and validating request bodies, with errors that name the field and the bound.

Bodies are read with a hard size limit (413 past ``serving.max_body_bytes``) and validated by
pydantic straight from the JSON bytes. A JSON object is one item, a JSON array a batch
(``serving.max_batch`` items at most). Each problem becomes a 422 item
``{"loc", "field", "msg", "type"}``; bad input never reaches the model.

The error work is bounded: a body holding more members than its items can have (a flood of
unknown keys) is refused by counting bytes, before pydantic builds one error per key, and names the
unknown keys by count plus a few examples; otherwise at most ``serving.max_errors`` problems are
described (then one "N more" item), each message capped in length.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import HTTPException
from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from starlette.types import Receive, Scope

from predmaint import schema
from serving.schemas import UNITS

_FIELD_OF: dict[str, str] = {**schema.SNAKE_CASE, **{v: v for v in schema.SNAKE_CASE.values()}}
_KEY_SEP = re.compile(rb'"[ \t\r\n]*:')
_KEY = re.compile(rb'"((?:[^"\\]|\\.){0,80})"[ \t\r\n]*:')
MAX_MSG_CHARS = 300
EXAMPLE_KEYS = 5


def _clip(text: str, limit: int = MAX_MSG_CHARS) -> str:
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def _members(body: bytes) -> int:
    """Number of object members (``"key":``) in a JSON body, counted in C over the bytes."""
    plain = body.count(b'":')
    return plain if body.count(b":") == plain else len(_KEY_SEP.findall(body))


def limit_errors(items: list[dict[str, Any]], total: int, max_errors: int) -> list[dict[str, Any]]:
    """The first ``max_errors`` items, plus one item saying how many more were not listed."""
    shown = items[:max_errors]
    if total > len(shown):
        more = total - len(shown)
        shown.append(
            {
                "loc": ["body"],
                "field": None,
                "msg": f"… and {more:,} more problem(s) not listed (serving.max_errors = {max_errors})",
                "type": "too_many_errors",
            }
        )
    return shown


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
        max_errors: Most problems described in one answer.
    """

    def __init__(
        self,
        item: type[BaseModel],
        max_batch: int,
        what: str,
        bounds: Mapping[str, tuple[float, float]] | None = None,
        max_errors: int = 20,
    ) -> None:
        self.item = item
        self.max_batch = max_batch
        self.what = what
        self.bounds = dict(bounds or {})
        self.max_errors = max_errors
        self.known: set[str] = set()
        for name, info in item.model_fields.items():
            self.known.add(name)
            choices = getattr(info.validation_alias, "choices", None) or []
            self.known.update(c for c in choices if isinstance(c, str))
        required = [f for f in item.model_fields.values() if f.is_required()]
        self._required = len(required) if len(required) == len(item.model_fields) else 0  # fields every item sets
        self._batch: TypeAdapter[list[Any]] = TypeAdapter(
            Annotated[list[item], Field(min_length=1, max_length=max_batch)]  # type: ignore[valid-type, arg-type]
        )

    def parse(self, body: bytes) -> tuple[list[Any], bool]:
        """Validate a body: returns the items and whether it was a single object.

        Raises:
            BodyValidationError: Anything is wrong; every problem is listed.
        """
        single = not _is_batch(body)
        objects = 1 if single else max(1, body.count(b"{"))
        if objects > self.max_batch:  # counted, not parsed: items never hold braces in their strings
            msg = f"batch of {objects} {self.what}s exceeds the limit of {self.max_batch}"
            raise BodyValidationError([{"loc": ["body"], "field": None, "msg": msg, "type": "too_long"}])
        members = _members(body)
        if members > len(self.item.model_fields) * objects + self.max_errors:  # a few extra: named one by one
            raise BodyValidationError([self._too_many_fields(body, members, objects)])
        try:
            items = [self.item.model_validate_json(body)] if single else self._batch.validate_json(body)
        except ValidationError as exc:
            total = exc.error_count()
            described = [self._describe(e, single) for e in exc.errors(include_url=False)[: self.max_errors]]
            raise BodyValidationError(limit_errors(described, total, self.max_errors)) from None
        # JSON parsers keep the last of two equal keys; more members than fields set means a key repeats
        given = self._required * len(items) if self._required else sum(len(i.model_fields_set) for i in items)
        if members > given:
            self._refuse_duplicates(body, single)
        return items, single

    def _refuse_duplicates(self, body: bytes, single: bool) -> None:
        """422 naming each key given twice in one object (a silent last-wins could flip a label)."""
        problems: list[dict[str, Any]] = []
        index = iter(range(self.max_batch))

        def pairs(members: list[tuple[str, Any]]) -> dict[str, Any]:
            n = next(index, self.max_batch)
            seen: set[str] = set()
            for key, _ in members:
                if key in seen:
                    where = "" if single else f"{self.what} {n}: "
                    problems.append(
                        {
                            "loc": ["body", key] if single else ["body", n, key],
                            "field": _FIELD_OF.get(key, key),
                            "msg": _clip(f"{where}field '{key}' given twice in one object"),
                            "type": "duplicate_field",
                        }
                    )
                seen.add(key)
            return dict(members)

        json.loads(body, object_pairs_hook=pairs)
        if problems:
            raise BodyValidationError(limit_errors(problems[: self.max_errors], len(problems), self.max_errors))

    def _too_many_fields(self, body: bytes, members: int, objects: int) -> dict[str, Any]:
        """One error for a body with more members than its items can hold (found without parsing it)."""
        known = sum(body.count(b'"%s"' % k.encode()) for k in self.known)
        examples: list[str] = []
        for match in _KEY.finditer(body):
            key = match.group(1).decode("utf-8", "replace")
            if key not in self.known and key not in examples:
                examples.append(key[:40])
                if len(examples) == EXAMPLE_KEYS:
                    break
        unknown = max(members - known, len(examples))
        allowed = len(self.item.model_fields)
        msg = (
            f"body has {members:,} fields in {objects:,} object(s) but a {self.what} has at most {allowed}: "
            f"{unknown:,} unknown field(s), e.g. {', '.join(repr(k) for k in examples)}; "
            f"expected {', '.join(self.item.model_fields)}"
        )
        return {"loc": ["body"], "field": None, "msg": _clip(msg), "type": "too_many_fields"}

    def _describe(self, err: Any, single: bool) -> dict[str, Any]:
        loc = list(err["loc"])
        key = next((p for p in reversed(loc) if isinstance(p, str)), None)
        field = _FIELD_OF.get(key, key) if key else None
        kind = err["type"]
        given = _Short(err.get("input"))
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
            msg = f"{where}{key} must be a JSON number, got {given.kind} {given!r}"
        elif kind == "int_type":
            msg = f"{where}{key} must be a JSON integer, got {given.kind} {given!r}"
        elif kind == "bool_type":
            msg = f"{where}{key} must be true or false, got {given.kind} {given!r}"
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
            msg = f"{where}each {self.what} must be a JSON object, got {given.kind}"
        return {"loc": ["body", *loc], "field": field, "msg": _clip(msg), "type": kind}


class _Short:
    """A value whose ``repr`` is cut short (an error message never echoes a huge input)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return _clip(repr(self.value), 60)

    @property
    def kind(self) -> str:
        return type(self.value).__name__


def validation_items(errors: list[dict[str, Any]], max_errors: int = 20) -> list[dict[str, Any]]:
    """FastAPI's own validation errors (query, path) in the service's error format, at most ``max_errors``."""
    out = []
    for e in errors[:max_errors]:
        loc = list(e.get("loc", ()))
        key = next((str(p) for p in reversed(loc) if isinstance(p, str) and p != "body"), None)
        out.append(
            {
                "loc": loc,
                "field": key,
                "msg": _clip(f"{key}: {e.get('msg')}" if key else str(e.get("msg"))),
                "type": e.get("type"),
            }
        )
    return limit_errors(out, len(errors), max_errors)
