"""``predmaint lineage``: a data version or a model version, traced back to the raw data.

A data version prints as a tree of its manifest rows (md5 = the hash DVC stores, rows, stage,
git commit); a model version (``--model N``) first prints what the registry records about it (git
commit, params hash, Prefect flow run, data source, GX results, the gate's verdict), then the tree
of its training window: reference ← clean ← split ← raw (source, sha256) and, for a retraining
window, the labelled production rows (prediction-log snapshot hash, feedback count, trigger window).
``predmaint lineage 2`` (or an alias, ``champion``) is read as ``--model 2`` when no data version has that name.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from predmaint.config import Params

if TYPE_CHECKING:
    from rich.tree import Tree

    from predmaint.data.lineage import DataVersion, Manifest

_SHOWN_DETAILS = (
    "source",
    "source_path",
    "url",
    "seed",
    "sha256",
    "prediction_log_sha256",
    "predictions",
    "feedback_rows",
    "trigger_window",
    "reason",
    "success",
)


def _label(v: DataVersion) -> str:
    from rich.markup import escape

    dirty = "+dirty" if v.git_dirty else ""
    facts = " ".join(f"{k}={v.details[k]}" for k in _SHOWN_DETAILS if v.details.get(k) not in (None, "", {}))
    line = f"{v.path}  md5={v.md5}  rows={v.rows}  stage={v.stage}  git={v.git_commit[:10]}{dirty}"
    return f"[bold]{escape(v.version_id)}[/]  {escape(line)}" + (f"\n[dim]{escape(facts)}[/]" if facts else "")


def data_tree(manifest: Manifest, key: str, root: Tree | None = None) -> Tree:
    """The version ``key`` (id or path) and its ancestors as a rich tree.

    Raises:
        KeyError: Nothing in the manifest matches ``key``.
    """
    from rich.tree import Tree

    by_id = {v.version_id: v for v in manifest.read()}
    start = manifest.find(key)

    def add(node: Tree, version: DataVersion, seen: frozenset[str]) -> None:
        child = node.add(_label(version))
        for parent in version.parents:
            if parent in by_id and parent not in seen:
                add(child, by_id[parent], seen | {parent})
            elif parent not in by_id:
                child.add(f"{parent} (not in the manifest)")

    tree = root if root is not None else Tree("data lineage")
    add(tree, start, frozenset({start.version_id}))
    return tree


def model_header(meta: dict[str, Any], tags: dict[str, str], version: str, name: str) -> list[str]:
    """What the registry and metadata.json record about one model version, one fact a line."""
    git = meta.get("git") or {}
    lineage = meta.get("lineage") or {}
    lines = [
        f"model {name} v{version}  run {meta.get('run_id')}",
        f"  git commit     {git.get('commit')} ({'dirty' if git.get('dirty') else 'clean'})",
        f"  params hash    {meta.get('params_hash')}",
        f"  Prefect run    {meta.get('prefect_flow_run_id') or 'none (not trained in a flow)'}",
        f"  data source    {meta.get('data_source') or tags.get('data_source')}",
        f"  training data  {(meta.get('data') or {}).get('version_id')} md5={(meta.get('data') or {}).get('md5')}",
    ]
    for gx in lineage.get("gx") or []:
        lines.append(f"  GX result      {gx.get('version_id')} success={gx.get('success')} ({gx.get('file')})")
    if tags.get("gate_decision"):
        lines.append(f"  gate           {tags['gate_decision']}: {tags.get('gate_reasons', '')[:300]}")
    production = lineage.get("production")
    if production:
        lines.append(f"  production     {json.dumps(production, sort_keys=True, default=str)[:400]}")
    return lines


def as_model(manifest: Manifest, key: str, aliases: tuple[str, ...]) -> bool:
    """True when ``key`` names a model version (a number or an alias) rather than a data version in the manifest."""
    if not (key.isdigit() or key in aliases):
        return False
    try:
        manifest.find(key)
    except KeyError:
        return True
    return False


def register(app: typer.Typer, get: Callable[[typer.Context], Params]) -> None:
    """Add the ``lineage`` command to ``app``."""

    @app.command()
    def lineage(
        ctx: typer.Context,
        key: Annotated[
            str | None,
            typer.Argument(help="A data version id or a data file path; a number or alias: a model version."),
        ] = None,
        model: Annotated[str | None, typer.Option(help="A registered model version (number or alias).")] = None,
    ) -> None:
        """Print the chain of versions from a data version KEY, or a model version, back to the raw data."""
        from rich.console import Console
        from rich.tree import Tree

        from predmaint.cli.model import require_registry
        from predmaint.data.lineage import Manifest

        params = get(ctx)
        manifest = Manifest(params.path(params.paths.manifest), params.root)
        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        console = Console(highlight=False, width=None if sys.stdout.isatty() else 400)
        aliases = (params.mlflow.champion_alias, params.mlflow.challenger_alias)
        if model is None and key is not None and as_model(manifest, key, aliases):
            model, key = key, None
        if model is None:  # a data version: the manifest alone, no registry (MLflow, pandas) imports
            if key is None:
                _fail("give a data version id or path, or --model VERSION")
            try:
                console.print(data_tree(manifest, key, Tree("data lineage")))
            except KeyError as exc:
                _fail(str(exc.args[0] if exc.args else exc))
            return
        require_registry(params, model)
        from predmaint.model import registry

        try:
            alias = None if model.isdigit() else model
            found = registry.resolve(params, alias=alias, version=model if alias is None else None)
            meta = registry.read_metadata(params, str(found.run_id))
            for line in model_header(meta, dict(found.tags), str(found.version), str(found.name)):
                console.print(line, markup=False)
            key = str((meta.get("data") or {}).get("version_id") or (meta.get("data") or {}).get("path"))
            console.print(data_tree(manifest, key, Tree("training data")))
        except (KeyError, registry.RegistryError) as exc:
            _fail(str(exc.args[0] if exc.args else exc))


def _fail(message: str) -> NoReturn:
    """Print one red line on stderr and exit 1."""
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(1)
