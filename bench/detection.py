"""Detection benchmark: does the retraining trigger follow what drift costs? (not a test)

The champion is the default model fitted on the real data's cleaned reference (rows 1–7,000, as
``predmaint train`` fits it: the last ``training.validation_rows`` rows choose the threshold and give
the baseline). For each scenario (none = the documented process, and every ``simulator.scenarios``
entry), the simulator produces ``--days`` days of ``--rows`` readings; the champion scores them,
all labels arrive, and each day goes through the project's own :func:`summarise` (Evidently drift,
performance, physics tails against the champion's training data) and :func:`decide` (the trigger
policy of params.yaml, with the days before it as history: the cost and tail rules pool
``monitoring.evidence_windows`` days, and a retrain blocks the next ``cooldown_windows`` days). The
champion is never replaced here: a day is *flagged* when a trigger rule is met (``monitoring.rules``),
and the trigger *fires* when no gate blocks it. Rule columns count days on which the rule was met,
whether or not it is one of the trigger rules.

Per scenario it reports how often each rule is met and how often the trigger fires, the champion's
expected cost per 1,000 cycles on the scenario's days against the same days without drift (the
simulator keeps every draw paired across scenarios, so the ratio is the scenario's effect), and
whether retraining would pay: a challenger fitted on the reference plus the monitored days
(``monitoring.retrain_policy``) and the champion are both scored, each at its own threshold, on
``--days`` more days of the scenario that neither saw, and the promotion gate of params.yaml
(:func:`predmaint.model.gate.compare` + :func:`~predmaint.model.gate.decide`: paired bootstrap of
the cost difference, recall non-inferiority) gives its verdict on those rows.

Run from the project root (needs the real CSV at ``data.csv_path`` or ``PREDMAINT_DATA_PATH``):
``nice .venv/bin/python bench/detection.py`` (``--days``, ``--rows``, ``--seed``). Prints markdown tables.
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from predmaint import schema
from predmaint.config import Params, load_params
from predmaint.config.runtime import disable_telemetry
from predmaint.data import tables
from predmaint.data.clean import clean_frame
from predmaint.data.retrain import build_window
from predmaint.data.simulate import scenario_names, simulate
from predmaint.model import features, metrics
from predmaint.model.gate import compare
from predmaint.model.gate import decide as gate
from predmaint.model.train import FitSettings, Fitted, fit
from predmaint.monitoring import decide, summarise
from predmaint.monitoring import window as w
from predmaint.monitoring.performance import baseline_from_metrics
from predmaint.monitoring.trigger import DECISION_COLUMNS

RULES = ("drift", "recall", "error_rate", "cost", "physics_tail", "alarm_rate", "failure_rate")


def champion(params: Params) -> tuple[Fitted, pd.DataFrame]:
    """The default model fitted on the real reference rows (cleaned), and that reference."""
    raw = tables.read_table(params.path(params.data.csv_path))
    reference, _ = clean_frame(raw.iloc[: params.split.train_rows], params.clean.inconsistent_labels)
    reference = reference.reset_index(drop=True)
    return fit(FitSettings.of(params), reference), reference


def scored(fitted: Fitted, frame: pd.DataFrame) -> pd.DataFrame:
    """A window as the prediction log returns it: features, served decisions and labels."""
    proba = fitted.pipeline.predict_proba(features.model_input(frame))[:, 1]
    out = w.with_predictions(frame, proba, fitted.threshold)
    return out.rename(columns={schema.TARGET: w.TARGET})


def cost(fitted: Fitted, frame: pd.DataFrame, params: Params) -> dict[str, Any]:
    """Metrics of a model at its own threshold on labelled AI4I rows (``flags``: its alarms)."""
    proba = fitted.pipeline.predict_proba(features.model_input(frame))[:, 1]
    return {
        **metrics.metrics(frame[schema.TARGET], proba, fitted.threshold, params.costs),
        "flags": proba >= fitted.threshold,
    }


def monitor_days(
    params: Params, fitted: Fitted, reference: pd.DataFrame, stream: pd.DataFrame, rows: int, verbose: bool = False
) -> tuple[Counter[str], int]:
    """Summarise and decide each day; count rules met and decisions that fire."""
    baseline = baseline_from_metrics(fitted.validation)
    met: Counter[str] = Counter()
    fired = 0
    history: list[dict[str, Any]] = []
    window = scored(fitted, stream)
    for day, start in enumerate(range(0, len(window), rows), start=1):
        part = window.iloc[start : start + rows].reset_index(drop=True)
        summary, _, _ = summarise(params, reference, part, baseline, window_id=f"day_{day:02d}")
        past = pd.DataFrame(history, columns=list(DECISION_COLUMNS))
        decision = decide(summary, past, params.monitoring)
        history.append(decision.to_row(summary))
        met.update(decision.signals_met)
        met["flagged"] += bool(decision.rules_met)
        fired += decision.fire
        if verbose:
            print(f"  day {day}: {'FIRE' if decision.fire else 'no'}: " + " | ".join(decision.reasons))
    return met, fired


def main() -> None:
    """Print the detection matrix and the retraining verdicts."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=20)
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--verbose", action="store_true", help="print every day's decision and reasons")
    args = parser.parse_args()
    disable_telemetry()
    base = load_params()
    with tempfile.TemporaryDirectory() as tmp:
        contract = base.paths.model_copy(update={"contract": base.path(base.paths.contract)})  # read, not written
        params = base.model_copy(update={"root": Path(tmp), "paths": contract})
        fitted, reference = champion(base)
        days = args.days
        n = days * args.rows
        first = params.split.train_rows + params.split.production_rows + 1
        calm = simulate(params.simulator, params.physics, rows=n, seed=args.seed, start_udi=first)
        calm_cost = cost(fitted, calm, params)["expected_cost_per_1000"]
        print(
            f"champion: threshold {fitted.threshold:.3f}, validation {fitted.validation['expected_cost_per_1000']:,.0f}"
            f" per 1,000; {days} days × {args.rows} rows per scenario, seed {args.seed}\n"
        )
        header = " | ".join(RULES)
        gate_column = "challenger vs champion on unseen rows (gate)"
        print(
            f"| scenario | champion cost / 1,000 (vs no drift) | {header} | flagged | retrain fires | {gate_column} |"
        )
        print("| --- | --- | " + " | ".join("---:" for _ in RULES) + " | ---: | ---: | --- |")
        for scenario in [None, *scenario_names(params.simulator)]:
            stream = simulate(
                params.simulator, params.physics, rows=n, scenario=scenario, seed=args.seed, start_udi=first
            )
            unseen = simulate(
                params.simulator, params.physics, rows=n, scenario=scenario, seed=args.seed + 1, start_udi=first + n
            )
            met, fired = monitor_days(params, fitted, reference, stream, args.rows, args.verbose)
            champ_cost = cost(fitted, stream, params)["expected_cost_per_1000"]
            window = build_window(params.monitoring, reference, stream.assign(**{schema.UDI: stream[schema.UDI]}))
            challenger = fit(FitSettings.of(params), window)
            on_unseen = {"challenger": cost(challenger, unseen, params), "champion": cost(fitted, unseen, params)}
            comparison = compare(
                unseen[schema.TARGET],
                on_unseen["challenger"]["flags"],
                on_unseen["champion"]["flags"],
                params.costs,
                params.promotion,
                params.project.seed,
            )
            promoted, _ = gate(params.promotion, on_unseen["challenger"], comparison)
            verdict = (
                f"{'PROMOTE' if promoted else 'refuse'}: {on_unseen['challenger']['expected_cost_per_1000']:,.0f} vs "
                f"{on_unseen['champion']['expected_cost_per_1000']:,.0f}"
            )
            counts = " | ".join(f"{met[r]}/{days}" for r in RULES)
            ratio = champ_cost / calm_cost
            flagged = f"{met['flagged']}/{days}"
            name = scenario or "no drift"
            print(f"| {name} | {champ_cost:,.0f} ({ratio:.2f}×) | {counts} | {flagged} | {fired}/{days} | {verdict} |")


if __name__ == "__main__":
    main()
