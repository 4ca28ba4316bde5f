"""The FastAPI application of the predmaint service.

``create_app(settings)`` builds an app and nothing else: the prediction log, the model worker
and the registry poll start in the app's lifespan (when a server runs it) and stop with it.
``create_app_from_env()`` is the factory uvicorn calls in each worker process
(``uvicorn serving.app:create_app_from_env --factory``; ``predmaint serve`` does this).
"""

from __future__ import annotations

import gc
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from predmaint.config.runtime import disable_telemetry
from serving.api.guard import GuardMiddleware
from serving.api.routes import admin, feedback, health, metrics, model, predict
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
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.service = svc
    app.add_middleware(GuardMiddleware, settings=settings)
    app.add_middleware(MetricsMiddleware, metrics=svc.metrics)
    app.include_router(health.router)
    app.router.routes.insert(0, predict.route())
    app.include_router(feedback.router)
    app.include_router(model.router)
    app.include_router(metrics.router)
    app.include_router(admin.router)

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
        items = validation_items(list(exc.errors()), settings.serving.max_errors)
        return JSONResponse({"detail": items}, status_code=422)

    async def _storage_failed(request: Request, exc: Exception) -> JSONResponse:
        log.error("storage failure on %s %s: %s", request.method, request.url.path, exc)
        detail = f"storage unavailable ({type(exc).__name__}: {str(exc).splitlines()[0][:200]}); retry later"
        headers = {"Retry-After": str(settings.serving.retry_after_s)}
        return JSONResponse({"detail": detail}, status_code=503, headers=headers)

    for kind in storage_errors():
        app.add_exception_handler(kind, _storage_failed)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        if is_storage_error(exc):
            return await _storage_failed(request, exc)
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": f"internal error: {type(exc).__name__}"}, status_code=500)

    return app


_STORAGE_MODULES = ("sqlite3", "sqlalchemy", "psycopg", "psycopg2")


def is_storage_error(exc: BaseException) -> bool:
    """True for a failure of the storage under the service (database driver errors, OS I/O errors)."""
    if isinstance(exc, sqlite3.Error | OSError):
        return True
    return any(cls.__module__.split(".")[0] in _STORAGE_MODULES for cls in type(exc).__mro__)


def storage_errors() -> list[type[Exception]]:
    """Exception classes of the storage under the service (SQLite, the OS, SQLAlchemy when installed)."""
    kinds: list[type[Exception]] = [sqlite3.Error, OSError]
    try:
        from sqlalchemy.exc import SQLAlchemyError
    except ImportError:  # pragma: no cover - sqlalchemy comes with mlflow
        return kinds
    return [*kinds, SQLAlchemyError]


def create_app_from_env() -> FastAPI:
    """The app of this process: settings from ``$PREDMAINT_PARAMS`` (or ./params.yaml) and the env."""
    disable_telemetry()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return create_app(Settings.from_env())
