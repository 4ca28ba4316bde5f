"""Smoke test of a live predmaint API: a valid single reading, a valid batch, an invalid reading.

Usage: ``python serving/smoke_test.py --url http://127.0.0.1:8000`` — exits 0 if all three
answers have the documented format, 1 otherwise (each failed check is printed). Standard library
only, so it runs anywhere the API is reachable (CI, a container, an operator's laptop).
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from typing import Any

READING = {
    "type": "M",
    "air_temperature_k": 298.9,
    "process_temperature_k": 309.1,
    "rotational_speed_rpm": 1410,
    "torque_nm": 65.7,
    "tool_wear_min": 191,
}
BATCH = [
    READING,
    {
        "Type": "L",
        "Air temperature [K]": 298.1,
        "Process temperature [K]": 308.6,
        "Rotational speed [rpm]": 1551,
        "Torque [Nm]": 42.8,
        "Tool wear [min]": 0,
    },
]
INVALID = {**READING, "torque_nm": -5.0}
PREDICTION_KEYS = {
    "request_id",
    "failure_probability",
    "failure_predicted",
    "threshold",
    "failure_modes",
    "model",
}


def post(url: str, body: Any, timeout: float) -> tuple[int, Any]:
    """POST JSON and return (status, decoded body)."""
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def check_prediction(p: Any) -> list[str]:
    """Problems with one prediction object (empty if it has the documented format)."""
    if not isinstance(p, dict):
        return [f"prediction is not an object: {p!r}"]
    problems = [f"missing key {k!r}" for k in sorted(PREDICTION_KEYS - p.keys())]
    if problems:
        return problems
    prob = p["failure_probability"]
    if not isinstance(prob, float | int) or not 0 <= prob <= 1:
        problems.append(f"failure_probability {prob!r} is not in [0, 1]")
    if p["failure_predicted"] != (prob >= p["threshold"]):
        problems.append("failure_predicted disagrees with failure_probability ≥ threshold")
    if not isinstance(p["request_id"], str) or not p["request_id"]:
        problems.append("request_id is empty")
    if not {"name", "version"} <= set(p["model"]):
        problems.append("model lacks name/version")
    for mode in p["failure_modes"]:
        if not {"mode", "reason", "violated", "ratio"} <= set(mode):
            problems.append(f"failure mode {mode!r} lacks mode/reason/violated/ratio")
    return problems


def run(url: str, timeout: float = 10.0) -> list[str]:
    """Send the three requests; return every problem found (empty = pass)."""
    base = url.rstrip("/")
    problems: list[str] = []
    status, body = post(f"{base}/predict", READING, timeout)
    if status != 200:
        problems.append(f"single: HTTP {status}: {body}")
    else:
        problems += [f"single: {p}" for p in check_prediction(body)]
    status, body = post(f"{base}/predict", BATCH, timeout)
    if status != 200 or not isinstance(body, list) or len(body) != len(BATCH):
        problems.append(f"batch: expected HTTP 200 with {len(BATCH)} answers, got {status}: {body}")
    else:
        problems += [f"batch[{i}]: {p}" for i, item in enumerate(body) for p in check_prediction(item)]
        if len({item["request_id"] for item in body}) != len(body):
            problems.append("batch: request_ids are not unique")
    status, body = post(f"{base}/predict", INVALID, timeout)
    detail = body.get("detail") if isinstance(body, dict) else None
    if status != 422 or not isinstance(detail, list):
        problems.append(f"invalid: expected HTTP 422 with a list of errors, got {status}: {body}")
    elif not any(d.get("field") == "torque_nm" and "torque_nm" in d.get("msg", "") for d in detail):
        problems.append(f"invalid: the error does not name torque_nm: {detail}")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="Base URL of the API, e.g. http://127.0.0.1:8000")
    parser.add_argument("--timeout", type=float, default=10.0, help="Seconds per request.")
    args = parser.parse_args(argv)
    try:
        problems = run(args.url, args.timeout)
    except (OSError, ValueError) as exc:
        problems = [f"cannot talk to {args.url}: {exc}"]
    for problem in problems:
        print(f"FAIL {problem}")
    print("smoke test passed" if not problems else f"smoke test failed ({len(problems)} problem(s))")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
