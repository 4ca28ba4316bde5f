"""Request and response models of the API, with the OpenAPI examples shown at ``/docs``.

A reading's numeric bounds and product types come from the data contract at start-up
(:func:`reading_model`), so the API accepts exactly what the data gate accepts. Field names are
snake_case with units; the original AI4I column names are accepted too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, create_model, model_validator
from pydantic_core import PydanticCustomError

from predmaint import schema

UNITS: dict[str, str] = {
    schema.AIR_TEMP: "K",
    schema.PROCESS_TEMP: "K",
    schema.SPEED: "rpm",
    schema.TORQUE: "Nm",
    schema.TOOL_WEAR: "min",
}
EXAMPLE_READING: dict[str, Any] = {
    "type": "L",
    "air_temperature_k": 298.1,
    "process_temperature_k": 308.6,
    "rotational_speed_rpm": 1551,
    "torque_nm": 42.8,
    "tool_wear_min": 0,
}
EXAMPLE_RISKY: dict[str, Any] = {
    "type": "L",
    "air_temperature_k": 302.1,
    "process_temperature_k": 310.4,
    "rotational_speed_rpm": 1320,
    "torque_nm": 68.2,
    "tool_wear_min": 160,
}
EXAMPLE_AI4I: dict[str, Any] = {schema.FROM_SNAKE_CASE[k]: v for k, v in EXAMPLE_READING.items()}
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


EXAMPLE_PREDICTION: dict[str, Any] = {
    "request_id": "6f1c2a9e0b4d4c3e8a1f5b7d9c2e4a60",
    "failure_probability": 0.87,
    "failure_predicted": True,
    "threshold": 0.31,
    "failure_modes": [
        {
            "mode": "PWF",
            "name": "power failure",
            "violated": True,
            "ratio": 1.048,
            "reason": "power 9,427 W above the 9,000 W limit",
        },
        {
            "mode": "OSF",
            "name": "overstrain failure",
            "violated": False,
            "ratio": 0.992,
            "reason": "tool wear × torque at 99 % of the overstrain limit for type L",
        },
    ],
    "model": {"name": "predmaint-failure", "version": "3"},
}


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

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "detail": [
                        {
                            "loc": ["body", 0, "torque_nm"],
                            "field": "torque_nm",
                            "msg": "torque_nm = 95.0 is above the maximum 76.6 Nm of the data contract "
                            "(accepted range [3.8, 76.6])",
                            "type": "less_than_equal",
                        }
                    ]
                }
            ]
        }
    )

    detail: list[ErrorItem]


class Message(BaseModel):
    """An error or status with a human-readable explanation."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"detail": "no model loaded yet"}]})

    detail: str


class FeedbackItem(BaseModel):
    """The ground truth for one earlier prediction."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"request_id": "6f1c2a9e0b4d4c3e8a1f5b7d9c2e4a60", "failure": 1, "failure_mode": "PWF"}
            ]
        },
    )

    request_id: str = Field(min_length=1, max_length=64)
    failure: Literal[0, 1] = Field(description="1 if the machine failed, else 0.")
    failure_mode: FAILURE_MODE_CODES | None = Field(default=None, description="The observed mode, if known.")


class FeedbackResponse(BaseModel):
    """What the feedback changed. Sending the same feedback again changes nothing (idempotent)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"recorded": 2, "unchanged": 1, "updated": 0, "updated_ids": []}],
        }
    )

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

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "ready": True,
                    "reason": None,
                    "model": {"name": "predmaint-failure", "version": "3"},
                    "registry": {
                        "reachable": False,
                        "checked_at": "2026-11-23T10:00:00.000+00:00",
                        "alias": "champion",
                        "alias_version": "3",
                        "error": "OperationalError: unable to open database file",
                    },
                    "load_error": None,
                    "prediction_log": {"path": "/srv/predmaint/data/predictions/predictions.db", "ok": True},
                }
            ]
        }
    )

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
        json_schema_extra={
            "examples": [
                {
                    "name": "predmaint-failure",
                    "version": "3",
                    "alias": "champion",
                    "run_id": "9d2f0c8e7b6a4c1d9e8f7a6b5c4d3e2f",
                    "data_version": "v4_clean",
                    "data_hash": "5d41402abc4b2a76b9719d911017c592",
                    "git_commit": "1dedafe0c5f3b7e4d2a1908f6e5d4c3b2a190807",
                    "metrics": {"val_f1": 0.71, "val_recall": 0.83},
                    "threshold": 0.31,
                    "loaded_at": "2026-11-23T10:00:00.000+00:00",
                    "fast_path": True,
                    "scoring": "forest",
                }
            ]
        },
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

    force: bool = Field(
        default=False, description="Reload even if the alias still points at the served version."
    )


class ReloadResponse(BaseModel):
    """The outcome of a reload."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "result": "swapped",
                    "version": "4",
                    "previous_version": "3",
                    "reason": "manual reload",
                    "seconds": 2.7,
                }
            ]
        }
    )

    result: Literal["swapped", "unchanged"]
    version: str
    previous_version: str | None
    reason: str | None
    seconds: float
