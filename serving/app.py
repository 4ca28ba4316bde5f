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
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from predmaint.config.runtime import disable_telemetry
from serving.api.errors import error_answer, storage_errors
from serving.api.guard import GuardMiddleware
from serving.api.routes import admin, docs, feedback, health, metrics, model, predict
from serving.api.validation import BodyValidationError, validation_items
from serving.metrics import MetricsMiddleware
from serving.service import Service
from serving.settings import Settings

DESCRIPTION = """
Failure prediction for the AI4I milling process, served from the MLflow registry's champion.

* `POST /predict` — one reading or a list; probability, decision at the model's threshold,
  likely failure modes with their physical reason, model version and a `request_id`.
* `POST /feedback` — the ground truth for earlier `request_id`s (joins the prediction log).
* `GET /model`, `GET /ready`, `GET /health`, `GET /metrics`; `POST /admin/reload` (bearer token).
"""


class ServiceApp(FastAPI):
    """FastAPI with a short way in for the hot route.

    ``POST /predict`` goes straight to the same metrics and guard middleware and then the endpoint,
    skipping the generic layers (server-error and exception middleware, FastAPI's telemetry check,
    routing) that cost about a fifth of a request's CPU (see docs/serving.md). The endpoint answers
    its errors with the same mapping as the app's exception handlers (:func:`serving.api.errors.error_answer`).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hot: dict[tuple[str, str], tuple[Route, ASGIApp]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the hot route's requests the short way; everything else through FastAPI."""
        if scope["type"] == "http" and not scope.get("root_path") and not self.root_path:
            hot = self.hot.get((scope["method"], scope["path"]))
            if hot is not None:
                scope["app"], scope["route"] = self, hot[0]
                await hot[1](scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings, service: Service | None = None) -> ServiceApp:
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

    app = ServiceApp(
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
    app.add_middleware(GuardMiddleware, settings=settings)
    app.add_middleware(MetricsMiddleware, metrics=svc.metrics)
    app.include_router(health.router)
    hot_route = predict.route()
    app.router.routes.insert(0, hot_route)
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

    retry_after = settings.serving.retry_after_s

    async def _answer(request: Request, exc: Exception) -> JSONResponse:
        status, content, headers = error_answer(exc, request.method, request.url.path, retry_after)
        return JSONResponse(content, status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        items = validation_items(list(exc.errors()), settings.serving.max_errors)
        return JSONResponse({"detail": items}, status_code=422)

    handled: list[type[Exception]] = [BodyValidationError, *storage_errors(), Exception]
    for kind in handled:
        app.add_exception_handler(kind, _answer)
    short_way = MetricsMiddleware(GuardMiddleware(hot_route.app, settings), svc.metrics)
    app.hot = {("POST", predict.PATH): (hot_route, short_way)}
    return app


def create_app_from_env() -> ServiceApp:
    """The app of this process: settings from ``$PREDMAINT_PARAMS`` (or ./params.yaml) and the env."""
    disable_telemetry()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return create_app(Settings.from_env())
