"""``GET /model``: the served model version and where it came from."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from serving.api.deps import ServiceDep
from serving.schemas import Message, ModelInfo
from serving.service import model_facts

router = APIRouter(tags=["model"])


@router.get(
    "/model",
    response_model=ModelInfo,
    summary="The served model: version, lineage, metrics, threshold",
    responses={503: {"model": Message, "description": "No model loaded yet."}},
)
async def model(service: ServiceDep) -> ModelInfo:
    """Name, version, alias, run id, training data version and hash, git commit, training metrics,
    decision threshold and when this process loaded it."""
    served = service.store.current
    if served is None:
        raise HTTPException(503, "no model loaded yet; see GET /ready")
    loaded = served.loaded
    return ModelInfo(
        name=str(loaded.name),
        version=served.version,
        alias=loaded.alias,
        run_id=str(loaded.run_id),
        threshold=served.threshold,
        loaded_at=served.loaded_at,
        fast_path=served.fast_path,
        scoring=served.scoring,
        **model_facts(loaded),
    )
