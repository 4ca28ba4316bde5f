"""The FastAPI application of the predmaint service.

``create_app(settings)`` builds an app and nothing else: the prediction log, the model worker
and the registry poll start in the app's lifespan (when a server runs it) and stop with it.
``create_app_from_env()`` is the factory uvicorn calls in each worker process
(``uvicorn serving.app:create_app_from_env --factory``; ``predmaint serve`` does this).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from predmaint.config.runtime import disable_telemetry
from serving.api.routes import admin, docs, feedback, health, metrics, model, predict
from serving.api.validation import BodyValidationError, validation_items
from serving.metrics import MetricsMiddleware
from serving.service import Service
from serving.settings import Settings

log = logging.getLogger("serving")

DESCRIPTION = """
Failure prediction for the AI4I milling process, served from the MLflow registry's champion.

* `POST /predict` — one reading or a list; probability, decision at the model's threshold,
  likely failure modes with their physical reason, model version and a `request_id`.
* `POST /feedback` — the ground truth for earlier `request_id`s (joins the prediction log).
* `GET /model`, `GET /ready`, `GET /health`, `GET /metrics`; `POST /admin/reload` (bearer token).
"""


def create_app(settings: Settings, service: Service | None = None) -> FastAPI:
    """Build the app for ``settings``; nothing starts until the app's lifespan runs.

    Args:
        settings: Validated settings (see :class:`serving.settings.Settings`).
        service: The running parts; built from ``settings`` by default.
    """
    svc = service or Service(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        disable_telemetry()
        svc.start()
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            svc.stop()

    app = FastAPI(
        title="predmaint",
        summary="Predictive-maintenance failure prediction",
        description=DESCRIPTION,
        version=settings.params.project.name,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.service = svc
    app.add_middleware(MetricsMiddleware, metrics=svc.metrics)
    app.include_router(health.router)
    app.router.routes.insert(0, predict.route())
    app.include_router(feedback.router)
    app.include_router(model.router)
    app.include_router(metrics.router)
    app.include_router(admin.router)
    docs.install(app)

    plain_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            predict.document(plain_openapi(), svc.readings.item, settings.serving.max_batch)
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]

    @app.exception_handler(BodyValidationError)
    async def _body_invalid(request: Request, exc: BodyValidationError) -> JSONResponse:
        return JSONResponse({"detail": exc.errors}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": validation_items(list(exc.errors()))}, status_code=422)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": f"internal error: {type(exc).__name__}"}, status_code=500)

    return app


def create_app_from_env() -> FastAPI:
    """The app of this process: settings from ``$PREDMAINT_PARAMS`` (or ./params.yaml) and the env."""
    disable_telemetry()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return create_app(Settings.from_env())
