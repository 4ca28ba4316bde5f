"""The package layout: import-linter contracts hold, a broken one fails, and no module imports in a circle."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint_imports(project: Path) -> subprocess.CompletedProcess[str]:
    env = {"PYTHONPATH": f"{project / 'src'}:{project}", "PATH": str(Path(sys.executable).parent)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(project / "pyproject.toml")],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.fixture(scope="module")
def project_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("layout")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "src", target / "src", ignore=ignore)
    shutil.copytree(ROOT / "flows", target / "flows", ignore=ignore)
    shutil.copytree(ROOT / "serving", target / "serving", ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


def test_the_contracts_hold_on_the_repository(project_copy: Path) -> None:
    done = _lint_imports(project_copy)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "source", "broken"),
    [
        ("src/predmaint/data/upward.py", "from predmaint.model import train\n", "lifecycle runs one way"),
        ("src/predmaint/service/trainer.py", "from predmaint.model.run import train\n", "service never imports"),
        ("src/predmaint/service/gx.py", "import great_expectations\n", "service never imports"),
        ("src/predmaint/model/loop.py", "from predmaint.model import run\n", "No import cycle"),
    ],
)
def test_a_broken_contract_fails_lint(project_copy: Path, module: str, source: str, broken: str) -> None:
    path = project_copy / module
    if module.endswith("loop.py"):
        # A cycle between siblings: train imports loop, loop imports run, run imports train.
        train = project_copy / "src/predmaint/model/train.py"
        original = train.read_text()
        train.write_text(original + "\nfrom predmaint.model import loop  # noqa: E402\n")
    path.write_text(source)
    try:
        done = _lint_imports(project_copy)
    finally:
        path.unlink()
        if module.endswith("loop.py"):
            train.write_text(original)
    assert done.returncode != 0
    assert broken in done.stdout.split("Broken contracts", 1)[-1]


def _cycles(graph: grimp.ImportGraph, modules: set[str]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.find_modules_directly_imported_by(node) & modules:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(modules):
        if module not in index:
            visit(module)
    return found


def test_no_module_of_the_package_imports_in_a_circle() -> None:
    graph = grimp.build_graph("predmaint", cache_dir=None)
    packages = {m for m in graph.modules if m.startswith("predmaint") and graph.find_children(m)}
    modules = {m for m in graph.modules if m.startswith("predmaint") and m not in packages}
    assert _cycles(graph, modules) == []


def test_the_cycle_finder_finds_a_circle() -> None:
    graph = grimp.ImportGraph()
    for name in ("a", "a.x", "a.y", "a.z"):
        graph.add_module(name)
    graph.add_import(importer="a.x", imported="a.y")
    graph.add_import(importer="a.y", imported="a.x")
    graph.add_import(importer="a.y", imported="a.z")
    assert _cycles(graph, {"a.x", "a.y", "a.z"}) == [["a.x", "a.y"]]


def _private_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("predmaint"):
            parts = (node.module or "").split(".")
            names = [a.name for a in node.names]
            if any(p.startswith("_") for p in parts) or any(n.startswith("_") for n in names):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_flows_and_serving_use_only_public_names_of_the_package() -> None:
    files = [*(ROOT / "flows").rglob("*.py"), *(ROOT / "serving").rglob("*.py")]
    assert [hit for f in files for hit in _private_imports(f)] == []
