"""Rolling-origin backtest of the default model and the candidates on the real data (not a test).

Runs :func:`predmaint.model.backtest.backtest` — the whole training procedure (fit, calibration on
the validation slice, cost-optimal threshold) at each origin of ``backtest.origins``, scored on the
next ``backtest.horizon_rows`` rows — for the default configuration in params.yaml and for the
candidates below, and prints the markdown tables of docs/benchmarks.md. The default in
params.yaml is the candidate this table chose. ``predmaint backtest`` runs the default alone and
logs it to MLflow (a parent run, one child per origin).

    .venv/bin/python bench/backtest.py                      # real data at data.csv_path / PREDMAINT_DATA_PATH
    .venv/bin/python bench/backtest.py --only default       # the default alone
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import warnings
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

OLD_FOREST = {"n_estimators": 100, "max_depth": 10}
CANDIDATES: dict[str, dict[str, Any]] = {
    "default": {},
    "default, no calibration": {"training": {"calibration": "none"}},
    "default, sklearn sigmoid calibration": {"training": {"calibration": "sigmoid"}},
    "default, isotonic calibration": {"training": {"calibration": "isotonic"}},
    "random_forest depth 10, 100 trees (old default)": {"model": {"random_forest": OLD_FOREST}},
    "hist_gradient_boosting": {"model": {"algorithm": "hist_gradient_boosting"}},
    "logistic_regression": {"model": {"algorithm": "logistic_regression"}},
}
SUMMARY = ("mean_f1", "min_f1", "mean_pr_auc", "mean_roc_auc", "mean_brier", "mean_expected_cost_per_1000")
PER_ORIGIN = ("threshold", "f1", "pr_auc", "roc_auc", "brier", "expected_cost_per_1000", "precision", "recall")
MODES = ("TWF", "HDF", "PWF", "OSF", "RNF", "unexplained")


def configured(params: Any, overrides: dict[str, dict[str, Any]]) -> Any:
    """``params`` with section overrides (nested dicts merged one level deep)."""
    update = {}
    for section, values in overrides.items():
        current = getattr(params, section)
        merged = {k: ({**getattr(current, k), **v} if isinstance(v, dict) else v) for k, v in values.items()}
        update[section] = current.model_copy(update=merged)
    return params.model_copy(update=update)


def _cell(value: Any, digits: int = 3) -> str:
    if value is None or math.isnan(value):  # no failure of that category after this origin
        return "n/a"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.{digits}f}"


def _mode_cell(row: Any, mode: str) -> str:
    n = int(row[f"failures_{mode}"])
    return "n/a (0)" if n == 0 else f"{row[f'recall_{mode}']:.2f} ({n})"


def main() -> None:
    """Print the summary table of the candidates and the per-origin table of the default."""
    from predmaint.config import load_params
    from predmaint.config.runtime import disable_telemetry
    from predmaint.data import tables
    from predmaint.model.backtest import backtest

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=list(CANDIDATES), help="run one candidate")
    args = parser.parse_args()
    disable_telemetry()
    warnings.filterwarnings("ignore")
    base = load_params(REPO / "params.yaml")
    source = base.path(base.data.csv_path)
    table = tables.read_table(source)
    print(
        f"data: {source} ({len(table)} rows); origins {base.backtest.origins}, horizon {base.backtest.horizon_rows}\n"
    )
    results = {}
    for name, overrides in CANDIDATES.items():
        if args.only and name != args.only:
            continue
        started = time.perf_counter()
        results[name] = backtest(configured(base, overrides), table)
        print(f"{name}: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    print("| candidate | mean F1 | min F1 | mean PR-AUC | mean ROC-AUC | mean Brier | mean cost / 1,000 |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, result in results.items():
        cells = [_cell(result.aggregate[k], 4 if "brier" in k else 3) for k in SUMMARY]
        print(f"| {name} | " + " | ".join(cells) + " |")
    for name, result in results.items():
        print(f"\n{name}, per origin:\n")
        print(
            "| origin | scored rows | threshold | F1 | PR-AUC | ROC-AUC | Brier | cost / 1,000 | precision | recall |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for _, row in result.per_origin.iterrows():
            cells = [_cell(row[k], 4 if k == "brier" else 3) for k in PER_ORIGIN]
            print(f"| {row['origin']:,} | {row['scored_udi']} | " + " | ".join(cells) + " |")
        if name == "default":
            print("\nRecall per failure category (failures only; count in brackets):\n")
            print("| origin | " + " | ".join(MODES) + " |")
            print("| --- |" + " --- |" * len(MODES))
            for _, row in result.per_origin.iterrows():
                print(f"| {row['origin']:,} | " + " | ".join(_mode_cell(row, m) for m in MODES) + " |")
    if not args.only or args.only == "default":
        reliability(base, table)


BINS = (0.0, 0.02, 0.1, 0.5, 0.9, 1.0 + 1e-9)  # the last bin holds 1.0


def reliability(params: Any, table: Any) -> None:
    """Reliability table at the last origin: mean probability vs observed failure rate per bin."""
    import numpy as np
    import pandas as pd

    from predmaint import schema
    from predmaint.model.backtest import origin_split
    from predmaint.model.train import FitSettings, fit

    origin = params.backtest.origins[-1]
    history, future = origin_split(table, origin, params.backtest.horizon_rows, params.clean.inconsistent_labels)
    print(f"\nReliability at origin {origin:,} (scored rows after it):\n")
    print("| calibration | probability bin | rows | mean probability | observed failure rate |")
    print("| --- | --- | --- | --- | --- |")
    for method in (params.training.calibration, "none"):
        tuned = configured(params, {"training": {"calibration": method}})
        proba = fit(FitSettings.of(tuned), history).pipeline.predict_proba(future.loc[:, list(schema.FEATURE_COLUMNS)])[
            :, 1
        ]
        bins = pd.cut(proba, BINS, include_lowest=True, right=False)
        y = future[schema.TARGET].to_numpy()
        for interval, idx in pd.Series(range(len(proba))).groupby(bins, observed=True):
            rows = idx.to_numpy()
            close = "]" if interval.right >= 1 else ")"
            label = f"[{interval.left:.2f}, {min(interval.right, 1.0):.2f}{close}"
            print(f"| {method} | {label} | {len(rows)} | {np.mean(proba[rows]):.3f} | {np.mean(y[rows]):.3f} |")


if __name__ == "__main__":
    main()
