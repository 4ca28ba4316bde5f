"""Stage functions take the settings they use: the whole ``Params`` only at an edge.

A function of a stage package (data, quality, model, monitoring, service) that takes ``Params``
must be an edge: it resolves a path against the params file's folder (``Params.path``/``root``),
opens the MLflow store (``Params.tracking_uri``), or hands ``Params`` on to such a function. One
that only reads sections of it should take those sections instead, unless it is named below.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("data", "quality", "model", "monitoring", "service")
EDGE_ATTRIBUTES = {"path", "root", "tracking_uri"}

# The only section-readers allowed the whole Params, each with its reason.
UNPACKERS = {
    "data/ingest.py:from_url": "an ingest source, called through ingest.SOURCES like its siblings",
    "data/ingest.py:from_simulator": "an ingest source, called through ingest.SOURCES like its siblings",
    "model/train.py:of": "FitSettings.of unpacks Params into the fit's settings",
    "monitoring/report.py:from_params": "DriftSettings.from_params unpacks Params into the report's settings",
    "model/run.py:flat_params": "flattens every section for MLflow's run parameters",
    "model/tracking.py:model_params": "hashes and logs the parameters a model was trained with",
    "model/reproduce.py:recorded_params": "rebuilds the Params a version was trained with",
}


def _section_readers(path: Path) -> list[str]:
    """Functions of ``path`` that take ``Params`` but only read its sections."""
    found = []
    for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        args = [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]
        names = [a.arg for a in args if a.annotation is not None and ast.unparse(a.annotation) == "Params"]
        if not names:
            continue
        edge = False
        for node in ast.walk(fn):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in names:
                edge = edge or node.attr in EDGE_ATTRIBUTES
            elif isinstance(node, ast.Call):
                passed = [*node.args, *(k.value for k in node.keywords)]
                edge = edge or any(isinstance(a, ast.Name) and a.id in names for a in passed)
        if not edge:
            found.append(f"{path.parent.name}/{path.name}:{fn.name}")
    return found


def _all_section_readers(src: Path) -> set[str]:
    return {hit for stage in STAGES for f in sorted((src / stage).glob("*.py")) for hit in _section_readers(f)}


def test_only_edges_and_named_unpackers_take_the_whole_params() -> None:
    assert _all_section_readers(ROOT / "src" / "predmaint") == set(UNPACKERS)


def test_the_check_finds_a_function_that_only_reads_sections(tmp_path: Path) -> None:
    stage = tmp_path / "model"
    stage.mkdir()
    (stage / "cost.py").write_text(
        "def reads(params: Params, x: int) -> float:\n"
        "    return params.costs.false_alarm * x\n"
        "def resolves(params: Params) -> Path:\n"
        "    return params.path(params.paths.reports_dir)\n"
        "def hands_on(params: Params) -> Path:\n"
        "    return resolves(params)\n"
        "def takes_a_section(costs: CostParams) -> float:\n"
        "    return costs.false_alarm\n"
    )
    assert _all_section_readers(tmp_path) == {"model/cost.py:reads"}
