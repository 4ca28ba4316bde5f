"""``GET /metrics``: Prometheus text exposition."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from serving.api.deps import ServiceDep

router = APIRouter(tags=["metrics"])
_EXAMPLE = (
    'predmaint_http_requests_total{method="POST",route="/predict",status="200"} 1042.0\n'
    'predmaint_predictions_total{predicted_class="failure"} 31.0\n'
    'predmaint_model_info{name="predmaint-failure",run_id="9d2f…",version="3"} 1.0\n'
)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"example": _EXAMPLE}}, "description": "Prometheus text."}},
)
async def metrics(service: ServiceDep) -> Response:
    """Requests, latency histogram, errors, predictions by class, micro-batch sizes, swaps, the
    served model version and whether the registry answered the last poll."""
    service.metrics.registry_up.set(1.0 if service.store.status.reachable else 0.0)
    return Response(generate_latest(service.metrics.registry), media_type=CONTENT_TYPE_LATEST)
