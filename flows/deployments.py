"""The deployments of predmaint, served by one long-running process (``make up`` / compose ``runner``).

| deployment | how it runs |
| --- | --- |
| ``training-pipeline/manual`` | ``prefect deployment run 'training-pipeline/manual'`` |
| ``monitoring/scheduled`` | on ``orchestration.monitoring_cron``; emits ``predmaint.retrain.requested`` |
| ``retraining/on-trigger`` | by that event (a deployment trigger = a Prefect automation), reason in its params |
| ``batch-scoring/manual`` | ``prefect deployment run 'batch-scoring/manual' --param input_path=…`` |

Needs ``PREFECT_API_URL`` pointing at a Prefect server (``make up`` sets it).
"""

from __future__ import annotations

import sys
from pathlib import Path

from prefect import serve
from prefect.events import DeploymentEventTrigger
from prefect.schedules import Cron

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from flows.batch_scoring import batch_scoring  # noqa: E402
from flows.common import project_params  # noqa: E402
from flows.monitoring import RETRAIN_EVENT, monitoring  # noqa: E402
from flows.retraining import retraining  # noqa: E402
from flows.training import training_pipeline  # noqa: E402
from predmaint.config import Params  # noqa: E402


def deployments(params: Params) -> list[object]:
    """Build every deployment from params.yaml (schedules, names) without registering them."""
    model = params.mlflow.registered_model
    return [
        training_pipeline.to_deployment(name="manual", description="DVC stages + promotion gate, on demand."),
        monitoring.to_deployment(
            name="scheduled",
            schedules=[Cron(params.orchestration.monitoring_cron, timezone="UTC")],
            parameters={"on_trigger": "event"},
            description="Evidently drift/performance of the newest served window; emits the retrain event.",
        ),
        retraining.to_deployment(
            name="on-trigger",
            triggers=[
                DeploymentEventTrigger(
                    name="retrain-when-monitoring-says-so",
                    expect={RETRAIN_EVENT},
                    match={"prefect.resource.id": f"predmaint.model.{model}"},
                    # `default`: an event emitted by hand (without a window) still starts the run.
                    parameters={
                        "reason": "{{ event.payload.reasons | default('event without reasons') }}",
                        "window_id": "{{ event.payload.window_id | default(none) }}",
                    },
                )
            ],
            description="Run by the monitoring trigger: new window → gate → challenger → promotion gate.",
        ),
        batch_scoring.to_deployment(name="manual", description="Score a CSV/Parquet file through the champion."),
    ]


def main() -> None:
    """Register and serve every deployment until interrupted (SIGTERM/SIGINT)."""
    params = project_params()
    serve(*deployments(params), limit=params.orchestration.runner_limit)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
