"""What the demo tells at the start and the end: the data source, the per-day table, where to look."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from rich.table import Table

from flows.artifacts import change, fmt
from predmaint.config import Params


@dataclass
class DayRow:
    """One line of the closing summary."""

    day: str
    rows: int
    drift_share: float
    error_rate: float | None
    training_error_rate: float | None
    fire: bool
    served_before: str
    served_after: str
    note: str
    cost: float | None = None
    training_cost: float | None = None
    reasons: list[str] = field(default_factory=list)  # the signals met (all reasons: decisions.csv)
    gate: str = ""
    verdict: str = ""


def data_source(params: Params) -> tuple[str, str]:
    """Where the raw data came from: (``path``/``url``/``simulator``/``unknown``, a sentence for people).

    Read from the lineage manifest's newest ``ingest`` row for ``paths.raw_file``; before any
    ingest, from the configured source order and whether ``data.csv_path`` exists.
    """
    from predmaint.data.lineage import Manifest

    version = Manifest(params.path(params.paths.manifest), params.root).latest_for(params.paths.raw_file)
    if version is not None:
        source = str(version.details.get("source", "unknown"))
        where = version.details.get("source_path") or version.details.get("url") or ""
        return source, f"{source} {where}".strip() + f" ({version.rows:,} rows, {version.version_id})"
    csv = params.path(params.data.csv_path)
    if csv.is_file() and "path" in params.data.source_order:
        return "path", f"path {csv} (not ingested yet)"
    first = next((s for s in params.data.source_order if s != "path"), "unknown")
    return first, f"{first}: {csv} does not exist (not ingested yet)"


def source_warning(source: str, description: str, short: bool = False) -> str | None:
    """A loud message when the data is not the real AI4I file from disk (simulated or downloaded)."""
    if short and source != "path":
        what = {"simulator": "the built-in SIMULATOR (not the real AI4I data)", "url": "the UCI download"}
        return f"DATA SOURCE: {what.get(source, source)}: {description}"
    if source == "simulator":
        return (
            f"DATA SOURCE: the built-in SIMULATOR, not the real AI4I 2020 data.\n{description}\n"
            "Every number below is on simulated data. Put the real CSV at data.csv_path "
            "(or set PREDMAINT_DATA_PATH) and run `make reset demo` for real results."
        )
    if source == "url":
        return f"DATA SOURCE: downloaded from the UCI repository (no local file at data.csv_path).\n{description}"
    if source != "path":
        return f"DATA SOURCE: {description}"
    return None


def _served(r: DayRow) -> str:
    return f"v{r.served_before}" + (f" → [bold]v{r.served_after}[/]" if r.served_after != r.served_before else "")


def summary_table(rows: list[DayRow]) -> Table:
    """Per day: rows, drift share, error rate and expected cost vs training, the version served."""
    table = Table(title="The replayed days (production vs training)", title_justify="left")
    table.add_column("day", no_wrap=True)
    table.add_column("rows", justify="right")
    table.add_column("drift share", justify="right")
    table.add_column("error rate", justify="right", no_wrap=True)
    table.add_column("cost per 1,000 readings", justify="right", no_wrap=True)
    table.add_column("served", no_wrap=True)
    for r in rows:
        table.add_row(
            r.day,
            fmt(r.rows),
            f"{r.drift_share:.2f}",
            f"{fmt(r.error_rate)} vs {fmt(r.training_error_rate)}",
            f"{fmt(r.cost)} vs {fmt(r.training_cost)} ({change(r.cost, r.training_cost)})",
            _served(r),
        )
    return table


def decisions_table(rows: list[DayRow], decisions_log: str = "the decisions log") -> Table:
    """Per day: the trigger's verdict with the signals met, and the promotion gate's verdict with its numbers.

    A day on which no signal was met says so in one line; every rule's reason is in ``decisions_log``.
    """
    table = Table(
        title="Why: the trigger's reasons and the gate's verdict",
        caption=f"every rule's numbers, day by day: {decisions_log}",
        title_justify="left",
        caption_justify="left",
        row_styles=["", "dim"],
    )
    table.add_column("day", no_wrap=True)
    table.add_column("decision", ratio=1)
    for r in rows:
        said = "; ".join(r.reasons) or "every rule within its bound"
        text = ("[bold red]RETRAIN[/]: " if r.fire else "no retrain: ") + said
        if r.gate:  # the verdict in one sentence; every check's numbers are in the promotions log
            text += f"\n[bold]gate[/]: {r.verdict or r.gate}"
        table.add_row(r.day, text)
    return table


def shown(params: Params, path: Path) -> Path:
    """``path`` relative to the project root when it lies inside it (shorter on the console)."""
    return path.relative_to(params.root) if path.is_relative_to(params.root) else path


def where_to_look(params: Params, api_log: Path, log: Path | None) -> list[str]:
    """Commands, paths and URLs for the UIs and reports."""
    rel = partial(shown, params)
    mon = params.path(params.paths.monitoring_dir)
    docs = params.path(params.paths.data_docs_dir) / "index.html"
    lines = [
        "[bold]Where to look[/]",
        "  UIs            [bold]make ui[/]  (MLflow registry, Prefect flow runs, Evidently dashboard; prints URLs)",
        f"  Evidently      {rel(mon / 'day_01' / 'drift.html')}  (one folder per day)",
        f"  Decisions      {rel(params.path(params.monitoring.decisions_log))}",
        f"  Data Docs      {rel(docs)}",
        f"  Served models  {rel(params.path(params.paths.deployment_log))}",
        "  Lineage        .venv/bin/predmaint lineage --model 1   (any version: its data back to the raw file)",
        f"  API log        {rel(api_log)}",
    ]
    if log is not None:
        lines.append(f"  Full log       {rel(log)}")
    return lines
