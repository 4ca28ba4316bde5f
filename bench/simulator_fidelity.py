"""Simulator fidelity: the default model and the failure rates on simulated data vs the real file (not a test).

For the real file and for ``--seeds`` simulated tables of 10,000 rows, the default model is fitted
as ``predmaint train`` fits it (rows 1–7,000 cleaned by ``clean.inconsistent_labels``; the last
``training.validation_rows`` of them choose the threshold) and scored on rows 7,001–10,000 with
their labels as recorded. Prints F1 / PR-AUC per table and the median over the seeds, then the
per-mode label counts per 10,000 rows (simulated: the mean over the seeds) against the real file.

Run from the project root (real CSV at ``data.csv_path`` or ``PREDMAINT_DATA_PATH``):
``nice .venv/bin/python bench/simulator_fidelity.py`` (``--seeds 10``).
"""

from __future__ import annotations

import argparse
import statistics

import pandas as pd

from predmaint import schema
from predmaint.config import Params, load_params
from predmaint.config.runtime import disable_telemetry
from predmaint.data import tables
from predmaint.data.clean import clean_frame
from predmaint.data.simulate import simulate
from predmaint.model.train import FitSettings, fit, score

LABELS = (schema.TARGET, *schema.FAILURE_MODES)


def quality(params: Params, frame: pd.DataFrame) -> dict[str, float]:
    """F1, PR-AUC and the threshold of the default model fitted on rows 1–7,000, scored on the rest."""
    train_rows = params.split.train_rows
    reference, _ = clean_frame(frame.iloc[:train_rows], params.clean.inconsistent_labels)
    fitted = fit(FitSettings.of(params), reference.reset_index(drop=True))
    stream = frame.iloc[train_rows : train_rows + params.split.production_rows].reset_index(drop=True)
    m = score(fitted.pipeline, stream, fitted.threshold, params.costs)
    return {"threshold": fitted.threshold, "f1": m["f1"], "pr_auc": m["pr_auc"], "failures": m["positives"]}


def main() -> None:
    """Print the per-table quality and the rate comparison as markdown."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=10)
    args = parser.parse_args()
    disable_telemetry()
    params = load_params()
    real = tables.read_table(params.path(params.data.csv_path))
    print("| data | threshold | F1 | PR-AUC | failures in rows 7,001–10,000 |\n| --- | ---: | ---: | ---: | ---: |")
    q = quality(params, real)
    print(f"| real AI4I 2020 | {q['threshold']:.3f} | {q['f1']:.3f} | {q['pr_auc']:.3f} | {q['failures']} |")
    runs, counts = [], []
    for seed in range(args.seeds):
        frame = simulate(params.simulator, params.physics, rows=10_000, seed=seed)
        counts.append(frame[list(LABELS)].sum())
        runs.append(quality(params, frame))
        r = runs[-1]
        print(
            f"| simulator seed {seed} | {r['threshold']:.3f} | {r['f1']:.3f} | {r['pr_auc']:.3f} | {r['failures']} |",
            flush=True,
        )
    f1 = statistics.median(r["f1"] for r in runs)
    pr_auc = statistics.median(r["pr_auc"] for r in runs)
    print(
        f"| **median of {args.seeds} seeds** | | **{f1:.3f}** ({f1 - q['f1']:+.3f}) | **{pr_auc:.3f}** "
        f"({pr_auc - q['pr_auc']:+.3f}) | |\n"
    )
    mean = pd.concat(counts, axis=1).mean(axis=1)
    print("| label per 10,000 rows | real | simulator (mean of seeds) | ratio |\n| --- | ---: | ---: | ---: |")
    for label in LABELS:
        real_count, sim_count = int(real[label].sum()), float(mean[label])
        print(f"| {label} | {real_count} | {sim_count:.1f} | {sim_count / real_count:.2f} |")


if __name__ == "__main__":
    main()
