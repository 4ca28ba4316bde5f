"""Additions to the app's OpenAPI schema for what FastAPI does not derive itself."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema


def register(
    spec: dict[str, Any], *models: type[BaseModel], mode: Literal["validation", "serialization"] = "serialization"
) -> list[dict[str, Any]]:
    """Add ``models`` (and the models they use) to ``components/schemas``; returns a ``$ref`` for each."""
    refs, defs = models_json_schema([(m, mode) for m in models], ref_template="#/components/schemas/{model}")
    components = spec.setdefault("components", {}).setdefault("schemas", {})
    for name, definition in defs.get("$defs", {}).items():
        components.setdefault(name, definition)
    return [refs[(m, mode)] for m in models]
