"""Prometheus metrics of one service process, and the ASGI middleware that records requests.

Each app gets its own registry (tests can run several apps in one process). With several uvicorn
workers each process exposes its own numbers; a scraper sees the worker that answered.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    ProcessCollector,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """The service's metrics in their own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        ProcessCollector(registry=r)
        self.requests = Counter(
            "predmaint_http_requests",
            "HTTP requests by route, method and status.",
            ["route", "method", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "predmaint_http_request_duration_seconds",
            "Time to answer, by route.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.errors = Counter(
            "predmaint_http_errors",
            "Responses with status ≥ 400, by route and status.",
            ["route", "status"],
            registry=r,
        )
        self.predictions = Counter(
            "predmaint_predictions", "Readings scored, by predicted class.", ["predicted_class"], registry=r
        )
        self.batch_rows = Histogram(
            "predmaint_microbatch_rows",
            "Readings per model call (micro-batch size).",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 1024),
            registry=r,
        )
        self.model = Info("predmaint_model", "The model version being served.", registry=r)
        self.model_version = Gauge("predmaint_model_version", "Registry version being served.", registry=r)
        self.model_loaded = Gauge(
            "predmaint_model_loaded_timestamp_seconds", "When the served version was loaded.", registry=r
        )
        self.reloads = Counter("predmaint_model_swaps", "Model versions swapped in.", ["reason"], registry=r)
        self.shed = Counter(
            "predmaint_shed_requests",
            "Requests refused with 503 + Retry-After under overload, by reason (queue_full, queue_budget).",
            ["reason"],
            registry=r,
        )
        self.registry_up = Gauge("predmaint_registry_reachable", "1 if the last registry poll succeeded.", registry=r)

    def observe_batch(self, rows: int, decisions: Any) -> None:
        """Count one micro-batch and its predicted classes."""
        positives = int(np.count_nonzero(decisions))
        self.batch_rows.observe(rows)
        if positives:
            self.predictions.labels("failure").inc(positives)
        if rows - positives:
            self.predictions.labels("no_failure").inc(rows - positives)

    def observe_model(self, name: str, version: str, run_id: str, reason: str) -> None:
        """Record a swap to a new version."""
        self.model.info({"name": name, "version": version, "run_id": run_id})
        try:
            self.model_version.set(float(version))
        except ValueError:
            self.model_version.set(float("nan"))
        self.model_loaded.set(time.time())
        self.reloads.labels(reason).inc()


class MetricsMiddleware:
    """Pure ASGI middleware: counts requests and errors and times them, labelled by route template."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self._children: dict[tuple[str, str, int], tuple[Any, Any, Any]] = {}

    def _series(self, route: str, method: str, status: int) -> tuple[Any, Any, Any]:
        """The request counter, latency histogram and error counter (or None) of one label set.

        ``labels()`` takes a lock and builds its key on every call; the few label sets a service
        sees are looked up once and kept (an unmatched route is one label, so the set stays small).
        """
        key = (route, method, status)
        found = self._children.get(key)
        if found is None:
            m = self.metrics
            errors = m.errors.labels(route, str(status)) if status >= 400 else None
            found = (m.requests.labels(route, method, str(status)), m.latency.labels(route), errors)
            self._children[key] = found
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Time the request and record its status once the app has answered."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = scope.get("route")
            name = getattr(route, "path", None) or "unmatched"
            requests, latency, errors = self._series(name, scope["method"], status)
            requests.inc()
            latency.observe(time.perf_counter() - started)
            if errors is not None:
                errors.inc()
