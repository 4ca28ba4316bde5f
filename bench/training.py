"""Model-quality and training-time benchmark on the chronological split (not a test).

Builds a throw-away project from params.yaml, runs the real data stages (ingest → split → clean;
reference = rows 1–7,000), fits each algorithm as configured, and scores it on the production
stream (rows 7,001–10,000) at the threshold chosen on the validation slice. Then times one full
``train()`` (fit + MLflow logging + registration) of the default config.

    .venv/bin/python bench/training.py            # prints the markdown tables
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

ALGORITHMS = ("random_forest", "hist_gradient_boosting", "logistic_regression")
COLUMNS = ("f1", "pr_auc", "roc_auc", "precision", "recall", "expected_cost_per_1000")


def _project(root: Path, algorithm: str) -> Any:
    from tests.conftest import make_project

    return make_project(root, data={"source_order": ["path"]}, model={"algorithm": algorithm})


def _row(name: str, m: dict[str, Any], threshold: float, seconds: float) -> str:
    cells = [f"{m[c]:.3f}" if c != "expected_cost_per_1000" else f"{m[c]:,.0f}" for c in COLUMNS]
    return f"| {name} | {threshold:.3f} | " + " | ".join(cells) + f" | {seconds:.1f} |"


def main() -> None:
    """Print the per-algorithm quality table and the training-time table."""
    from predmaint.config.runtime import disable_telemetry
    from predmaint.model.run import train
    from predmaint.model.train import FitSettings, fit, production_stream, read_training_data, score
    from tests.model.conftest import prepare_data

    disable_telemetry()
    tmp = Path(tempfile.mkdtemp(prefix="predmaint-bench-"))
    try:
        base = _project(tmp / "data", ALGORITHMS[0])
        prepare_data(base)
        frame = read_training_data(base.path(base.paths.reference))
        stream = production_stream(base)
        assert stream is not None
        print(f"reference rows after clean: {len(frame)}; production rows: {len(stream)}\n")
        print("| algorithm | threshold | F1 | PR-AUC | ROC-AUC | precision | recall | cost / 1,000 | fit s |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for algorithm in ALGORITHMS:
            params = _project(tmp / algorithm, algorithm)
            params = params.model_copy(update={"root": base.root})
            started = time.perf_counter()
            fitted = fit(FitSettings.of(params), frame)
            seconds = time.perf_counter() - started
            print(
                _row(
                    algorithm,
                    score(fitted.pipeline, stream, fitted.threshold, params.costs),
                    fitted.threshold,
                    seconds,
                )
            )
        started = time.perf_counter()
        result = train(base)
        total = time.perf_counter() - started
        started = time.perf_counter()
        train(base)
        warm = time.perf_counter() - started
        per_mode = {k[len("production_recall_") :]: v for k, v in result.metrics.items() if "recall_" in k}
        print(f"\nper-mode recall (default, production): {per_mode} (HDF absent = no HDF failures: n/a)")
        print("\n| step | seconds |\n| --- | --- |")
        print(f"| first `train()` in a fresh process (imports, new DB, fit, log, register) | {total:.1f} |")
        print(f"| second `train()` in the same process | {warm:.1f} |")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
