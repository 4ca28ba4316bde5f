"""The package layout: import-linter contracts hold, a broken one fails, and no module imports in a circle."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
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


def _contract_names() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return [c["name"] for c in config["tool"]["importlinter"]["contracts"]]


def _broken_sections(stdout: str) -> dict[str, str]:
    """The report of each broken contract, keyed by contract name (whitespace collapsed: names wrap)."""
    report = " ".join(stdout.split()).split("Broken contracts", 1)[-1]
    starts = sorted((report.find(name), name) for name in _contract_names() if name in report)
    ends = [pos for pos, _ in starts[1:]] + [len(report)]
    return {name: report[pos:end] for (pos, name), end in zip(starts, ends, strict=True)}


# Each case writes (or appends to) files of a copy of the project and names the contract that must
# break and a line its report must show. Together they cover every contract kind: layers, an
# acyclic-siblings cycle, forbidden (direct, indirect through our modules, external packages),
# the library importing its callers, and a private module imported from outside its package.
BREAKS = {
    "upward import": (
        {"src/predmaint/data/upward.py": "from predmaint.model import train\n"},
        "lifecycle runs one way",
        "predmaint.data.upward -> predmaint.model.train",
    ),
    "cycle between siblings": (
        {
            "src/predmaint/model/loop.py": "from predmaint.model import run\n",
            "src/predmaint/model/train.py": "\nfrom predmaint.model import loop  # noqa: E402\n",
        },
        "No import cycle",
        "No cycles are allowed in predmaint.model",
    ),
    "service imports training": (
        {"src/predmaint/service/trainer.py": "from predmaint.model.run import train\n"},
        "service never imports",
        "predmaint.service.trainer -> predmaint.model.run",
    ),
    "service reaches training indirectly": (
        {"src/predmaint/model/registry.py": "\nfrom predmaint.model import gate  # noqa: E402\n"},
        "service never imports",
        "predmaint.model.registry -> predmaint.model.gate",
    ),
    "service imports GX": (
        {"src/predmaint/service/gx.py": "import great_expectations\n"},
        "service never imports",
        "predmaint.service.gx -> great_expectations",
    ),
    "service reaches Prefect indirectly": (
        {"src/predmaint/model/features.py": "\nimport prefect  # noqa: E402\n"},
        "service never imports",
        "predmaint.model.features -> prefect",
    ),
    "library imports its caller": (
        {"src/predmaint/model/uses_flow.py": "from flows import training\n"},
        "never imports its callers",
        "predmaint.model.uses_flow -> flows.training",
    ),
    "flow imports a private module": (
        {
            "src/predmaint/model/_secret.py": "X = 1\n",
            "flows/uses_secret.py": "from predmaint.model._secret import X\n",
        },
        "private module",
        "flows.uses_secret -> predmaint.model._secret",
    ),
}


@pytest.mark.parametrize("case", list(BREAKS))
def test_a_broken_contract_fails_lint(project_copy: Path, case: str) -> None:
    edits, contract, shown = BREAKS[case]
    originals = {name: (project_copy / name).read_text() if (project_copy / name).exists() else None for name in edits}
    for name, text in edits.items():
        (project_copy / name).write_text((originals[name] or "") + text)
    try:
        done = _lint_imports(project_copy)
    finally:
        for name, original in originals.items():
            if original is None:
                (project_copy / name).unlink()
            else:
                (project_copy / name).write_text(original)
    assert done.returncode != 0, done.stdout
    sections = _broken_sections(done.stdout)
    matching = [report for name, report in sections.items() if contract in name]
    assert matching, f"{contract!r} not among the broken contracts {list(sections)}"
    assert shown in matching[0], matching[0]


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


def test_no_module_imports_in_a_circle() -> None:
    """Every module and package ``__init__`` of predmaint, flows/ and serving/, counting imports inside functions."""
    graph = grimp.build_graph("predmaint", "flows", "serving", cache_dir=None)
    assert graph.direct_import_exists(importer="predmaint.cli.model", imported="predmaint.model.run")  # in a function
    assert _cycles(graph, set(graph.modules)) == []


def test_the_cycle_finder_finds_a_circle() -> None:
    graph = grimp.ImportGraph()
    for name in ("a", "a.x", "a.y", "a.z"):
        graph.add_module(name)
    graph.add_import(importer="a.x", imported="a.y")
    graph.add_import(importer="a.y", imported="a.x")
    graph.add_import(importer="a.y", imported="a.z")
    assert _cycles(graph, {"a.x", "a.y", "a.z"}) == [["a.x", "a.y"]]


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _private_uses(path: Path) -> list[int]:
    """Lines that import, or reach through an imported name for, a ``_private`` name of the package."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bound: set[str] = set()  # local names of the package's modules and objects
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "predmaint":
            names = [*(node.module or "").split("."), *(a.name for a in node.names)]
            bound.update(a.asname or a.name for a in node.names)
        elif isinstance(node, ast.Import):
            ours = [a for a in node.names if a.name.split(".")[0] == "predmaint"]
            names = [part for a in ours for part in a.name.split(".")]
            bound.update(a.asname or a.name.split(".")[0] for a in ours)
        else:
            continue
        if any(_private(n) for n in names):
            found.append(node.lineno)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            root: ast.expr = node
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in bound:
                found.append(node.lineno)
    return sorted(found)


def test_flows_and_serving_use_only_public_names_of_the_package() -> None:
    files = [*(ROOT / "flows").rglob("*.py"), *(ROOT / "serving").rglob("*.py")]
    hits = [f"{f.relative_to(ROOT)}:{line}" for f in files for line in _private_uses(f)]
    assert hits == []


def test_the_public_name_check_finds_each_way_of_reaching_a_private_name(tmp_path: Path) -> None:
    flow = tmp_path / "flow.py"
    flow.write_text(
        "import predmaint.model.train\n"
        "import predmaint.model._fit as f\n"  # 2: a private module
        "from predmaint.model import train as t, registry\n"
        "from predmaint.model.train import _fit\n"  # 4: a private function
        "from predmaint.model._fit import go\n"  # 5: from a private module
        "t._fit()\n"  # 6: through an imported module
        "predmaint.model.train._fit()\n"  # 7: through the dotted path
        "registry.LoadedModel._load()\n"  # 8: a private member of a public class
        "t.fit(); t.__doc__; x = object(); x._ok()\n"  # public names, dunders, not the package's
    )
    assert _private_uses(flow) == [2, 4, 5, 6, 7, 8]
