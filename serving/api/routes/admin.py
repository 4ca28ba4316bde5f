"""``POST /admin/reload``: serve the version behind the champion alias now (bearer token)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, HTTPException
from starlette.concurrency import run_in_threadpool

from predmaint.service.model_store import RegistryUnavailableError
from serving.api.deps import ServiceDep, require_admin
from serving.schemas import Message, ReloadRequest, ReloadResponse

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require_admin)])


@router.post(
    "/reload",
    response_model=ReloadResponse,
    summary="Reload the champion now",
    responses={
        401: {"model": Message, "description": "No bearer token sent."},
        403: {"model": Message, "description": "Wrong token, or admin disabled (no token configured)."},
        409: {"model": Message, "description": "The alias points at no version."},
        503: {
            "model": Message,
            "description": "Registry unreachable or the new version failed to load; the current model keeps serving.",
        },
    },
)
async def reload(service: ServiceDep, request: Annotated[ReloadRequest | None, Body()] = None) -> ReloadResponse:
    """Ask the registry which version the champion alias points at and, if it differs from the served
    one (or ``force``), load it off the request path and swap it in atomically. Requests in flight
    finish on the old model. A rollback is moving the alias back, then calling this."""
    force = request.force if request else False
    try:
        result = await run_in_threadpool(service.store.reload, "manual reload", force)
    except RegistryUnavailableError as exc:
        raise HTTPException(503, f"{exc}; still serving the current model") from None
    except LookupError as exc:
        raise HTTPException(409, f"{exc}; still serving the current model") from None
    except Exception as exc:
        raise HTTPException(503, f"reload failed, still serving the current model: {exc}") from None
    return ReloadResponse(**vars(result))
