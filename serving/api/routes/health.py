"""Liveness (``/health``) and readiness (``/ready``)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from predmaint.service.predlog_db import display
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
    summary="Readiness: a model is loaded and the prediction log takes writes",
    responses={
        503: {
            "model": Ready,
            "description": "No model loaded yet, the prediction log cannot be written, or the registry file "
            "was replaced under the service (``reason`` says which).",
        }
    },
)
async def ready(service: ServiceDep) -> JSONResponse:
    """200 once a model is loaded and a probe write to the prediction log commits, 503 otherwise,
    with the reason. Details include whether the registry answered the last poll: if it did not, the
    service keeps serving the loaded model and says so here. A registry file replaced under the
    service (restore, reset) makes this 503 until the file is reopened and the champion reloaded."""
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
    problems = await service.not_ready_because()
    if problems:
        reason = "; ".join([reason, *problems] if reason else problems)
    ok = served is not None and not problems
    body = Ready(
        ready=ok,
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
        prediction_log={"path": display(service.settings.prediction_log), "write_errors": service.predlog.errors},
    )
    service.metrics.registry_up.set(1.0 if status.reachable else 0.0)
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if ok else 503)
