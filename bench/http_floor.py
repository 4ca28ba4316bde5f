"""Benchmark: the HTTP floor under the model — what FastAPI itself costs per request.

Serves the same constant JSON answer to ``POST /predict`` three ways under uvicorn (1 worker, the
service's settings: httptools, uvloop, no access log) and loads each with wrk: a bare ASGI app, a
plain ASGI ``Route`` inside a FastAPI app (how the service mounts ``/predict``), and a FastAPI path
operation taking the ``Request``. No model, no validation: the differences are the framework's.

    python bench/http_floor.py
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.telemetry import TelemetryConfig
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from bench.serving import BIN, LUA, READING, REPO, free_port, wrk
from predmaint.service.process import running

ANSWER = {"request_id": "0" * 36, "failure_probability": 0.01, "failure_predicted": False, "failure_modes": []}
_BODY = json.dumps(ANSWER).encode()
_OFF: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


async def _answer(scope: Scope, receive: Receive, send: Send) -> None:
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(_BODY)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": _BODY})


class _Endpoint:
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await _answer(scope, receive, send)


async def _ok(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await _answer(scope, receive, send)


def bare_asgi() -> object:
    """A bare ASGI callable."""
    return _ok


def asgi_route_in_fastapi() -> FastAPI:
    """A FastAPI app whose ``/predict`` is a plain ASGI ``Route``."""
    app = FastAPI(telemetry=_OFF)
    app.router.routes.insert(0, Route("/predict", _Endpoint(), methods=["POST"]))
    return app


def fastapi_path_operation() -> FastAPI:
    """A FastAPI app whose ``/predict`` is a path operation."""
    app = FastAPI(telemetry=_OFF)

    @app.post("/predict")
    async def predict(request: Request) -> JSONResponse:
        await request.body()
        return JSONResponse(ANSWER)

    return app


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns the exit code."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--duration", type=float, default=10.0)
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-floor-"))
    script = work / "post.lua"
    script.write_text(LUA.format(body=json.dumps(json.dumps(READING))))
    print(f"| app (1 uvicorn worker, c={args.concurrency}) | req/s | p50 ms | p99 ms |\n| --- | --- | --- | --- |")
    for factory in (bare_asgi, asgi_route_in_fastapi, fastapi_path_operation):
        port = free_port()
        cmd = [str(BIN / "uvicorn"), f"bench.http_floor:{factory.__name__}", "--factory", "--host", "127.0.0.1"]
        cmd += ["--port", str(port), "--no-access-log", "--log-level", "warning"]
        url = f"http://127.0.0.1:{port}"
        with running(cmd, url + "/docs", work / f"{factory.__name__}.log", dict(os.environ), REPO):
            wrk(url + "/predict", script, args.concurrency, 2)
            row = wrk(url + "/predict", script, args.concurrency, args.duration)
        label = (factory.__doc__ or "").rstrip(".")
        print(f"| {label} | {row['rps']:,.0f} | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
