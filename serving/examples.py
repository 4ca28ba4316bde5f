"""Examples shown in the OpenAPI docs (``/docs``) for every request and response."""

from __future__ import annotations

from typing import Any

from predmaint import schema

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
EXAMPLE_PREDICTION: dict[str, Any] = {
    "request_id": "01a20b75-d3af-7c3e-8a1f-5b7d9c2e4a60",
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
EXAMPLE_AI4I: dict[str, Any] = {schema.FROM_SNAKE_CASE[k]: v for k, v in EXAMPLE_READING.items()}
EXAMPLE_INVALID_READING: dict[str, Any] = {**EXAMPLE_READING, "torque_nm": 120.0}
"""The request behind :data:`EXAMPLE_VALIDATION_ERROR` (a test sends it and compares the answers)."""
EXAMPLE_VALIDATION_ERROR: dict[str, Any] = {
    "detail": [
        {
            "loc": ["body", "torque_nm"],
            "field": "torque_nm",
            "msg": "torque_nm = 120.0 is above the maximum 100 Nm of the data contract (accepted range [0, 100])",
            "type": "less_than_equal",
        }
    ]
}
EXAMPLE_TOO_LARGE: dict[str, Any] = {
    "detail": "request body of 1,000,001 bytes exceeds serving.max_body_bytes = 1,000,000"
}
EXAMPLE_NOT_READY: dict[str, Any] = {"detail": "no model loaded yet; see GET /ready"}
EXAMPLE_FEEDBACK: dict[str, Any] = {
    "request_id": "01a20b75-d3af-7c3e-8a1f-5b7d9c2e4a60",
    "failure": 1,
    "failure_mode": "PWF",
}
EXAMPLE_FEEDBACK_RESPONSE: dict[str, Any] = {"recorded": 2, "unchanged": 1, "updated": 0, "updated_ids": []}
EXAMPLE_READY: dict[str, Any] = {
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
    "prediction_log": {"path": "/srv/predmaint/data/predictions/predictions.db", "write_errors": 0},
    "instance": "3f9c2a7be1d04c58",
    "pid": 4242,
}
EXAMPLE_MODEL_INFO: dict[str, Any] = {
    "name": "predmaint-failure",
    "version": "3",
    "alias": "champion",
    "run_id": "9d2f0c8e7b6a4c1d9e8f7a6b5c4d3e2f",
    "data_version": "v4_clean",
    "data_hash": "5d41402abc4b2a76b9719d911017c592",
    "data_source": "path:/data/ai4i2020.csv",
    "lineage": ["v4_clean", "v3_split", "v1_ingest"],
    "git_commit": "1dedafe0c5f3b7e4d2a1908f6e5d4c3b2a190807",
    "params_hash": "0c1f4d9a7e2b5c8d3f6a9b2e5d8c1f4a7b0e3d6c9f2a5b8e1d4c7f0a3b6e9d2c",
    "prefect_flow_run_id": "0675a1f2-3b4c-7d5e-8f60-718293a4b5c6",
    "metrics": {"val_f1": 0.71, "val_recall": 0.83},
    "threshold": 0.31,
    "loaded_at": "2026-11-23T10:00:00.000+00:00",
    "fast_path": True,
    "scoring": "forest",
}
EXAMPLE_RELOAD: dict[str, Any] = {
    "result": "swapped",
    "version": "4",
    "previous_version": "3",
    "reason": "manual reload",
    "seconds": 2.7,
}
