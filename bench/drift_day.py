"""Demo drift-day benchmark: on which drift day does the demo's retrain pay, by the gate? (not a test)

Emulates what ``make demo`` does after its six production days, without the HTTP service: the
champion is the default model fitted on the cleaned reference (rows 1–``split.train_rows``); the
labelled production rows are the next ``split.production_rows`` rows; the drift day is
``simulate(scenario, rows, seed=simulator.seed + 1)`` (as :func:`predmaint.ops.replay.drift_day`).
As in :func:`predmaint.data.retrain.prepare`, the newest ``--hold`` labelled rows (default
``promotion.recent_window_rows``, at most half) are held out for the gate, and the challenger is
fitted on the reference plus the rest. Both models decide at their own thresholds on the held-out
rows and the promotion gate of params.yaml (:func:`~predmaint.model.gate.compare` +
:func:`~predmaint.model.gate.decide`) gives its verdict.

A candidate ``SCENARIO:ROWS`` is a drift period of ``ROWS`` rows (e.g. 3,000 = six 500-row days),
retrained once after all its labels arrived (as the demo does). ``--policy``/``--window`` override
``monitoring.retrain_policy``/``sliding_window_rows``; ``--seeds`` repeats each candidate with the
simulator's seed moved by each offset (``sim``: the whole stream; ``real``: the drift period).

Run from the project root: ``nice .venv/bin/python bench/drift_day.py real|sim SCENARIO:ROWS ...``
(``real`` reads ``PREDMAINT_DATA_PATH`` or ``data.csv_path``; ``sim`` is the simulator fallback).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import pandas as pd

from predmaint import schema
from predmaint.config import Params, load_params
from predmaint.config.runtime import disable_telemetry
from predmaint.data import tables
from predmaint.data.clean import clean_frame
from predmaint.data.retrain import build_window
from predmaint.data.simulate import simulate
from predmaint.model import features, metrics
from predmaint.model.gate import compare, decide
from predmaint.model.train import FitSettings, Fitted, fit


def scored(model: Fitted, frame: pd.DataFrame, params: Params) -> dict[str, Any]:
    """Metrics of a model at its own threshold, with its alarms as ``flags``."""
    proba = model.pipeline.predict_proba(features.model_input(frame))[:, 1]
    return {
        **metrics.metrics(frame[schema.TARGET], proba, model.threshold, params.costs),
        "flags": proba >= model.threshold,
    }


def source_frame(params: Params, source: str) -> pd.DataFrame:
    """The real table (``PREDMAINT_DATA_PATH`` or ``data.csv_path``) or the simulator's fallback table."""
    if source == "sim":
        return simulate(params.simulator, params.physics, rows=params.data.simulator_rows)
    path = os.environ.get("PREDMAINT_DATA_PATH") or str(params.path(params.data.csv_path))
    return tables.read_table(Path(path))


def with_overrides(params: Params, args: argparse.Namespace, seed_offset: int) -> Params:
    """Params with the retrain policy/window, gate rows and simulator seed of this run."""
    monitoring = params.monitoring.model_copy(
        update={
            "retrain_policy": args.policy or params.monitoring.retrain_policy,
            "sliding_window_rows": args.window or params.monitoring.sliding_window_rows,
        }
    )
    promotion = params.promotion.model_copy(
        update={"recent_window_rows": args.hold or params.promotion.recent_window_rows}
    )
    simulator = params.simulator.model_copy(update={"seed": params.simulator.seed + seed_offset})
    return params.model_copy(update={"monitoring": monitoring, "promotion": promotion, "simulator": simulator})


def run(params: Params, source: str, candidates: list[str], base_params: Params) -> None:
    """One table line per candidate drift period: champion's cost on it and the gate's verdict."""
    raw = source_frame(params if source == "sim" else base_params, source)
    n_train, n_prod = params.split.train_rows, params.split.production_rows
    reference = clean_frame(raw.iloc[:n_train], params.clean.inconsistent_labels)[0].reset_index(drop=True)
    production = raw.iloc[n_train : n_train + n_prod].reset_index(drop=True)
    champion = fit(FitSettings.of(params), reference)
    m = params.monitoring
    on_production = scored(champion, production, params)["expected_cost_per_1000"]
    print(
        f"{source} (simulator seed {params.simulator.seed}, retrain {m.retrain_policy}"
        f"{f' {m.sliding_window_rows}' if m.retrain_policy == 'sliding' else ''}): champion threshold "
        f"{champion.threshold:.3f}, cost/1000 on production {on_production:,.0f}",
        flush=True,
    )
    for candidate in candidates:
        scenario, rows = candidate.split(":")
        drift = simulate(
            params.simulator,
            params.physics,
            rows=int(rows),
            scenario=scenario,
            seed=params.simulator.seed + 1,
            start_udi=n_train + n_prod + 1,
        )
        labelled = pd.concat([production, drift], ignore_index=True)
        hold = min(params.promotion.recent_window_rows, len(labelled) // 2)
        gate, train = labelled.iloc[-hold:].reset_index(drop=True), labelled.iloc[: len(labelled) - hold]
        challenger = fit(FitSettings.of(params), build_window(params.monitoring, reference, train))
        ch, cp = scored(challenger, gate, params), scored(champion, gate, params)
        c = compare(gate[schema.TARGET], ch["flags"], cp["flags"], params.costs, params.promotion, params.project.seed)
        promoted, reasons = decide(params.promotion, ch, c)
        lo = {k: f"[{v[0]:,.0f}, {v[1]:,.0f}]" for k, v in c.cost_interval.items()}
        print(
            f"| {source} s{params.simulator.seed} | {candidate} | {m.retrain_policy}"
            f"{f' {m.sliding_window_rows}' if m.retrain_policy == 'sliding' else ''} "
            f"| {scored(champion, drift, params)['expected_cost_per_1000']:,.0f} | {hold} ({c.failures}) "
            f"| {c.cost['challenger']:,.0f} {lo['challenger']} vs {c.cost['champion']:,.0f} {lo['champion']} "
            f"| {c.p_cheaper:.2f} | F1 {ch['f1']:.2f} vs {cp['f1']:.2f} "
            f"| {'PROMOTE' if promoted else 'refuse'}: {'; '.join(reasons[-2:])} |",
            flush=True,
        )


def main() -> None:
    """Print one line per drift-period candidate and seed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("source", choices=("real", "sim"))
    parser.add_argument("candidates", nargs="+", help="SCENARIO:ROWS")
    parser.add_argument("--hold", type=int, default=None, help="gate rows (default promotion.recent_window_rows)")
    parser.add_argument("--policy", choices=("expanding", "sliding"), default=None)
    parser.add_argument("--window", type=int, default=None, help="sliding window rows")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="simulator seed offsets")
    args = parser.parse_args()
    disable_telemetry()
    base = load_params()
    print("| data | drift period | retrain | champion cost/1000 on the drift rows | gate rows (failures) "
          "| challenger vs champion on the gate rows | P(cheaper) | F1 | verdict |")  # fmt: skip
    print("| --- | --- | --- | ---: | --- | --- | ---: | --- | --- |")
    for offset in args.seeds:
        run(with_overrides(base, args, offset), args.source, args.candidates, base)


if __name__ == "__main__":
    main()
