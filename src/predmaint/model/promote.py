"""`predmaint promote`: run the gate on untouched rows, move the alias, tag and describe both versions.

The rule itself is pure (:mod:`predmaint.model.gate`); this module loads both versions from the
registry, picks the rows (a labelled window or the production stream, minus everything either
version was fitted or tuned on), scores each at its own registered threshold and records the
decision: alias, version tags (``gate_decision`` = promoted / kept / lost), each version's
MLflow description, and a row of ``paths.promotions_log`` with the rows used.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd

from predmaint import schema
from predmaint.config import CostParams, Params
from predmaint.model import datasets, metrics
from predmaint.model.gate import PromotionDecision, compare, decide, gate_rows
from predmaint.model.registry import LoadedModel, RegistryError, append_log, client, load_model
from predmaint.model.train import production_stream

PRIMARY_METRIC = "expected_cost_per_1000"


def used_range(metadata: dict[str, Any]) -> tuple[int, int]:
    """The UDI range a version was fitted *or* tuned on: first fitted row to last validation row."""
    data_meta = metadata["data"]
    return int(data_meta["fit_udi_range"][0]), int(data_meta["holdout_udi_range"][1])


def _score(model: LoadedModel, rows: pd.DataFrame, costs: CostParams) -> tuple[dict[str, Any], Any]:
    proba = model.predict_proba(rows)
    values = metrics.metrics(rows[schema.TARGET], proba, model.threshold, costs, rows[list(schema.FAILURE_MODES)])
    return values, proba >= model.threshold


def _candidates(params: Params, window: pd.DataFrame | None, source: str | None) -> tuple[pd.DataFrame, str]:
    if window is not None:
        return window, source or "window passed to the gate"

    stream = production_stream(params)
    if stream is None:
        raise RegistryError(
            "the gate has no labelled rows to judge on: pass a window (`predmaint promote --window CSV`) "
            f"or put labelled production days under {params.path(params.paths.production_dir)}"
        )
    return stream, f"labelled production stream under {params.paths.production_dir}"


def promote(params: Params, window: pd.DataFrame | None = None, source: str | None = None) -> PromotionDecision:
    """Run the promotion gate: move ``champion`` to the challenger only if it is better on untouched rows.

    Args:
        params: The project parameters (``promotion`` holds the rule).
        window: Labelled rows (features + labels, with ``UDI``) to judge on; default: the labelled
            production stream. Rows either model was fitted or tuned on are removed.
        source: Where ``window`` comes from (its data version), recorded with the decision.

    Returns:
        The decision with its rows and reasons; also tagged on both versions and appended to the log.

    Raises:
        RegistryError: There is no challenger, or no labelled rows to judge on.
    """
    challenger = load_model(params, alias=params.mlflow.challenger_alias)
    champion = _champion_or_none(params)
    if champion is not None and champion.version == challenger.version:
        decision = PromotionDecision(
            False,
            challenger.version,
            champion.version,
            (f"v{challenger.version} is already the champion",),
            PRIMARY_METRIC,
            0,
        )
        _record(params, decision)
        return decision
    candidates, rows_source = _candidates(params, window, source)
    ranges = [used_range(m.metadata) for m in (challenger, champion) if m is not None]
    try:
        rows = gate_rows(candidates, ranges)
    except ValueError as exc:
        raise RegistryError(f"{exc} ({rows_source})") from None
    chall_metrics, chall_flags = _score(challenger, rows, params.costs)
    comparison, champ_metrics = None, None
    if champion is not None:
        champ_metrics, champ_flags = _score(champion, rows, params.costs)
        comparison = compare(
            rows[schema.TARGET], chall_flags, champ_flags, params.costs, params.promotion, params.project.seed
        )
    promoted, reasons = decide(params.promotion, chall_metrics, comparison)
    decision = PromotionDecision(
        promoted=promoted,
        challenger=challenger.version,
        champion=champion.version if champion is not None else None,
        reasons=tuple(reasons),
        primary_metric=PRIMARY_METRIC,
        rows=len(rows),
        rows_source=rows_source,
        udi_range=(int(rows[schema.UDI].min()), int(rows[schema.UDI].max())),
        challenger_metrics=chall_metrics,
        champion_metrics=champ_metrics,
        comparison=comparison,
    )
    _record(params, decision)
    datasets.log_gate_rows(params.mlflow.registered_model, decision, rows, challenger.run_id)
    return decision


def _champion_or_none(params: Params) -> LoadedModel | None:
    try:
        return load_model(params, alias=params.mlflow.champion_alias)
    except RegistryError:
        return None


def _intervals(d: PromotionDecision) -> str:
    """Both models' cost and recall on the gate rows with their bootstrap intervals."""
    c = d.comparison
    if c is None:
        return ""
    parts = []
    for role, version in (("challenger", d.challenger), ("champion", d.champion)):
        (clo, chi), (rlo, rhi) = c.cost_interval[role], c.recall_interval[role]
        parts.append(
            f"v{version}: cost/1000 {c.cost[role]:,.0f} [{clo:,.0f}, {chi:,.0f}], "
            f"recall {c.recall[role]:.3f} [{rlo:.3f}, {rhi:.3f}]"
        )
    return "; intervals: " + "; ".join(parts)


def _rows_text(d: PromotionDecision) -> str:
    if d.udi_range is None:
        return "no rows scored"
    return f"{d.rows} rows, UDI {d.udi_range[0]}-{d.udi_range[1]} of {d.rows_source}"


def _record(params: Params, d: PromotionDecision) -> None:
    """Tag winner and loser, describe why on each version, move the alias, append to the log."""
    c, name = client(params), params.mlflow.registered_model
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    if d.promoted:
        c.set_registered_model_alias(name, params.mlflow.champion_alias, d.challenger)
        c.set_model_version_tag(name, d.challenger, "promoted_at", stamp)
        c.set_model_version_tag(name, d.challenger, "previous_champion", d.champion or "")
    why = f"{d.summary} [{_rows_text(d)}{_intervals(d)}]"
    outcome = {d.winner: "promoted" if d.promoted else "kept", d.loser: "lost"}
    for version in filter(None, (d.challenger, d.champion)):
        if d.champion == d.challenger:
            break
        role = "challenger" if version == d.challenger else "champion"
        c.set_model_version_tag(name, version, "gate_decision", outcome[version])
        c.set_model_version_tag(name, version, "gate_reasons", why[:4900])
        c.set_model_version_tag(name, version, "gate_rows", _rows_text(d)[:4900])
        c.set_model_version_tag(name, version, "gate_at", stamp)
        verdict = f"Gate {stamp}: {outcome[version]} as {role} at the gate. {why}"
        current = c.get_model_version(name, version).description or ""
        c.update_model_version(name, version, description=datasets.with_verdict(current, verdict))
    metric = d.primary_metric
    append_log(
        params,
        {
            "timestamp": stamp,
            "action": "promote",
            "challenger_version": d.challenger,
            "champion_version": d.champion or "",
            "promoted": str(d.promoted).lower(),
            "primary_metric": metric,
            "challenger_value": d.challenger_metrics.get(metric, ""),
            "champion_value": (d.champion_metrics or {}).get(metric, ""),
            "gate_rows": d.rows,
            "rows_source": d.rows_source,
            "udi_range": "" if d.udi_range is None else f"{d.udi_range[0]}-{d.udi_range[1]}",
            "reasons": "; ".join(d.reasons) + _intervals(d),
        },
    )
