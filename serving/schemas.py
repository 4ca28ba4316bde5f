"""Request and response models of the API, with the OpenAPI examples shown at ``/docs``.

A reading's numeric bounds and product types come from the data contract at start-up
(:func:`reading_model`), so the API accepts exactly what the data gate accepts. Field names are
snake_case with units; the original AI4I column names are accepted too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, StrictBool, StrictInt, create_model, model_validator
from pydantic_core import PydanticCustomError

from predmaint import schema
from serving.examples import (
    EXAMPLE_FEEDBACK,
    EXAMPLE_FEEDBACK_RESPONSE,
    EXAMPLE_MODEL_INFO,
    EXAMPLE_PREDICTION,
    EXAMPLE_READING,
    EXAMPLE_READY,
    EXAMPLE_RELOAD,
    EXAMPLE_VALIDATION_ERROR,
)

UNITS: dict[str, str] = {
    schema.AIR_TEMP: "K",
    schema.PROCESS_TEMP: "K",
    schema.SPEED: "rpm",
    schema.TORQUE: "Nm",
    schema.TOOL_WEAR: "min",
}
FAILURE_MODE_CODES = Literal["TWF", "HDF", "PWF", "OSF", "RNF"]


def _process_above_air(reading: Any) -> Any:
    if not reading.process_temperature_k > reading.air_temperature_k:
        raise PydanticCustomError(
            "process_above_air",
            "process_temperature_k = {process} K must be above air_temperature_k = {air} K "
            "(data contract rule process_above_air)",
            {"process": reading.process_temperature_k, "air": reading.air_temperature_k},
        )
    return reading


def reading_model(
    bounds: Mapping[str, tuple[float, float]],
    product_types: tuple[str, ...],
    integer_columns: tuple[str, ...] = (),
    process_above_air: bool = False,
) -> type[BaseModel]:
    """The model of one sensor reading, with the contract's bounds and rules.

    Args:
        bounds: AI4I numeric column → (min, max).
        product_types: Accepted values of ``type``.
        integer_columns: Columns that must hold whole numbers (``1551`` or ``1551.0``, not ``1551.5``).
        process_above_air: Refuse readings whose process temperature is not above the air temperature.

    Returns:
        A pydantic model with snake_case fields; each also accepts its AI4I column name. Numbers
        must be finite JSON numbers (no strings, booleans, NaN or infinities); unknown fields are refused.
    """
    fields: dict[str, Any] = {
        "type": (
            Literal[product_types],
            Field(
                validation_alias=AliasChoices("type", schema.TYPE),
                description=f"Product quality variant, one of {', '.join(product_types)}.",
            ),
        )
    }
    for column in schema.NUMERIC_FEATURES:
        low, high = bounds[column]
        fields[schema.SNAKE_CASE[column]] = (
            float,
            Field(
                ge=low,
                le=high,
                strict=True,
                allow_inf_nan=False,
                multiple_of=1 if column in integer_columns else None,
                validation_alias=AliasChoices(schema.SNAKE_CASE[column], column),
                description=f"{column} — accepted range [{low:g}, {high:g}] {UNITS[column]} (data contract).",
            ),
        )
    return create_model(
        "Reading",
        __config__=ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE_READING]}),
        __doc__="One sensor reading of the milling machine.",
        __validators__={"process_above_air": model_validator(mode="after")(_process_above_air)}  # type: ignore[dict-item]
        if process_above_air
        else None,
        **fields,
    )


class FailureMode(BaseModel):
    """A failure mode the reading violates or approaches, with its physical reason."""

    mode: Literal["TWF", "HDF", "PWF", "OSF"]
    name: str
    violated: bool = Field(description="True if the rule's limit is crossed, False if only approached.")
    ratio: float = Field(description="Closeness to the limit: 1.0 at the limit, above 1 beyond it.")
    reason: str


class ModelRef(BaseModel):
    """The model version that answered."""

    name: str
    version: str


class Prediction(BaseModel):
    """The answer for one reading."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_PREDICTION]})

    request_id: str = Field(description="Quote it in POST /feedback when the truth is known.")
    failure_probability: float = Field(ge=0, le=1)
    failure_predicted: bool = Field(description="failure_probability ≥ the model's threshold.")
    threshold: float
    failure_modes: list[FailureMode]
    model: ModelRef


class ErrorItem(BaseModel):
    """One problem with the request."""

    loc: list[str | int]
    field: str | None
    msg: str
    type: str


class ValidationErrorResponse(BaseModel):
    """422: every problem found, each naming the field (and the bound, if one was crossed)."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_VALIDATION_ERROR]})

    detail: list[ErrorItem]


class Message(BaseModel):
    """An error or status with a human-readable explanation."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"detail": "no model loaded yet"}]})

    detail: str


class FeedbackItem(BaseModel):
    """The ground truth for one earlier prediction."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [EXAMPLE_FEEDBACK]},
    )

    request_id: str = Field(min_length=1, max_length=64)
    failure: StrictInt = Field(
        ge=0, le=1, description="1 if the machine failed, else 0 (a JSON integer).", json_schema_extra={"enum": [0, 1]}
    )
    failure_mode: FAILURE_MODE_CODES | None = Field(default=None, description="The observed mode, if known.")
    correction: StrictBool = Field(
        default=False,
        description="Replace a different label recorded earlier (kept in the label history); without it, 409.",
    )


class FeedbackResponse(BaseModel):
    """What the feedback changed. Sending the same feedback again changes nothing (idempotent)."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_FEEDBACK_RESPONSE]})

    recorded: int = Field(description="Predictions labelled for the first time.")
    unchanged: int = Field(description="Already labelled the same way.")
    updated: int = Field(description="Relabelled (a correction).")
    updated_ids: list[str]


class Health(BaseModel):
    """Liveness."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok"}]})

    status: Literal["ok"]


class RegistryState(BaseModel):
    """The last conversation with the model registry."""

    reachable: bool | None
    checked_at: str | None
    alias: str
    alias_version: str | None
    error: str | None


class Ready(BaseModel):
    """Readiness: 200 once a model is loaded, 503 before; details either way."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_READY]})

    ready: bool
    reason: str | None
    model: ModelRef | None
    registry: RegistryState
    load_error: str | None
    prediction_log: dict[str, Any]


class ModelInfo(BaseModel):
    """Everything known about the served model version."""

    model_config = ConfigDict(
        protected_namespaces=(),
        json_schema_extra={"examples": [EXAMPLE_MODEL_INFO]},
    )

    name: str
    version: str
    alias: str | None
    run_id: str
    data_version: str | None
    data_hash: str | None
    git_commit: str | None
    metrics: dict[str, float]
    threshold: float
    loaded_at: str
    fast_path: bool = Field(description="True if requests skip the per-request DataFrame.")
    scoring: Literal["forest", "numpy", "pipeline"] = Field(
        description="The scoring path, verified equal to the pipeline's predict_proba at load time."
    )


class ReloadRequest(BaseModel):
    """Optional body of ``POST /admin/reload``."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"force": False}]})

    force: bool = Field(default=False, description="Reload even if the alias still points at the served version.")


class ReloadResponse(BaseModel):
    """The outcome of a reload."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_RELOAD]})

    result: Literal["swapped", "unchanged"]
    version: str
    previous_version: str | None
    reason: str | None
    seconds: float
