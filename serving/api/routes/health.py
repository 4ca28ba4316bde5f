"""Liveness (``/health``) and readiness (``/ready``)."""

from __future__ import annotations

import os

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from serving.api.deps import ServiceDep
from serving.schemas import Health, Ready

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, summary="Liveness: the process answers")
async def health() -> dict[str, str]:
    """Always 200 while the process runs, model or not (use ``/ready`` to route traffic)."""
    return {"status": "ok"}


@router.get(
    "/ready",
    response_model=Ready,
    summary="Readiness: a model is loaded",
    responses={503: {"model": Ready, "description": "No model loaded yet (details say why)."}},
)
async def ready(service: ServiceDep) -> JSONResponse:
    """200 once a model is loaded, 503 before. Details include whether the registry answered the
    last poll: if it did not, the service keeps serving the loaded model and says so here."""
    store = service.store
    served = store.current
    status = store.status
    reason = None
    if served is None:
        if store.load_error:
            reason = store.load_error
        elif status.reachable is False:
            reason = f"registry unreachable: {status.error}"
        else:
            reason = status.error or "loading the model"
    body = Ready(
        ready=served is not None,
        reason=reason,
        model={"name": str(served.loaded.name), "version": served.version} if served else None,
        registry={
            "reachable": status.reachable,
            "checked_at": status.checked_at,
            "alias": store.registry.alias,
            "alias_version": status.alias_version,
            "error": status.error,
        },
        load_error=store.load_error,
        prediction_log={"path": str(service.settings.prediction_log), "write_errors": service.predlog.errors},
        instance=service.settings.instance_id,
        pid=os.getpid(),
    )
    service.metrics.registry_up.set(1.0 if status.reachable else 0.0)
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if served is not None else 503)
