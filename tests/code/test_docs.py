"""The README and every page in docs/ quote only things that exist.

Checked in each Markdown file: relative links resolve to a file; every ``predmaint …`` command
quoted in code names a real CLI subcommand (nested groups such as ``stack up`` included); every
``make <target>`` quoted in code is a Makefile target; every project path quoted in backticks
(``src/…``, ``docs/…``, ``params.yaml``, …) exists. Generated paths (``data/…``, ``reports/…``,
``mlruns/…``, ``deployment_log.csv``, ``.run/…``) are not checked: they appear only after a run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer

from predmaint.cli import app

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]

PATH_PREFIXES = ("src/", "flows/", "serving/", "docs/", "tests/", "bench/", "expectations/", "deploy/")
ROOT_FILES = {"params.yaml", "dvc.yaml", "Makefile", "docker-compose.yml", "Dockerfile"}
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
INLINE_CODE = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.S)
WORD = re.compile(r"[a-z][a-z0-9_-]*")
MAKE = re.compile(r"(?<![\w$(/.-])make\s+([A-Za-z][\w-]*)")
PLACEHOLDER = re.compile(r"[<>{}*…]|XX")
OPTIONS_WITH_VALUE = {"--params"}


@dataclass(frozen=True)
class Reference:
    """What a Markdown page may legitimately quote: CLI commands and make targets."""

    commands: dict[str, frozenset[str]]
    make_targets: frozenset[str]


def cli_commands() -> dict[str, frozenset[str]]:
    """Subcommand name → names of its own subcommands (empty for a plain command)."""
    root = typer.main.get_command(app)
    out: dict[str, frozenset[str]] = {}
    for name, cmd in getattr(root, "commands", {}).items():
        out[name] = frozenset(getattr(cmd, "commands", {}) or {})
    return out


def makefile_targets(makefile: Path) -> frozenset[str]:
    """Explicit targets of a Makefile (rules, not variable assignments)."""
    names = re.findall(r"^([A-Za-z][\w.-]*)\s*:(?!=)", makefile.read_text(encoding="utf-8"), re.M)
    return frozenset(names)


def split_markdown(text: str) -> tuple[str, list[str]]:
    """The prose (fenced blocks blanked out) and the lines inside fenced code blocks."""
    prose: list[str] = []
    fenced: list[str] = []
    fence: str | None = None
    for line in text.splitlines():
        marker = re.match(r"\s*(```+|~~~+)", line)
        if fence is None and marker:
            fence = marker.group(1)[0] * 3
            prose.append("")
        elif fence is not None and line.strip().startswith(fence):
            fence = None
            prose.append("")
        elif fence is not None:
            fenced.append(line)
            prose.append("")
        else:
            prose.append(line)
    return "\n".join(prose), fenced


def code_snippets(text: str) -> tuple[list[str], list[str]]:
    """Inline code spans (newlines folded) and fenced code lines of a Markdown text."""
    prose, fenced = split_markdown(text)
    spans = [" ".join(m.group(2).split()) for m in INLINE_CODE.finditer(prose)]
    return spans, fenced


def broken_links(text: str, base: Path) -> list[str]:
    """Relative links (outside code) whose target file does not exist."""
    prose, _ = split_markdown(text)
    prose = INLINE_CODE.sub("", prose)
    problems = []
    for target in LINK.findall(prose):
        if target.startswith(("http://", "https://", "mailto:", "#")):
            continue
        path = target.split("#", 1)[0]
        if path and not (base / path).exists():
            problems.append(f"broken link: {target}")
    return problems


def _word(token: str) -> str | None:
    match = WORD.match(token)
    if not match:
        return None
    rest = token[match.end() :]
    return match.group(0) if not rest or not rest[0].isalnum() else None


PREDMAINT = re.compile(r"(?:^|(?<=[\s\"'`(\[|>;&]))(?:[\w.$()/-]*bin/)?predmaint(?=\s)")


def unknown_commands(snippet: str, commands: dict[str, frozenset[str]]) -> list[str]:
    """``predmaint <sub> [<nested>]`` in one code snippet naming no real subcommand."""
    problems = []
    for match in PREDMAINT.finditer(snippet):
        before = snippet[: match.start()].split()
        if before and before[-1] in {"from", "import"}:
            continue
        rest = iter(snippet[match.end() :].split())
        names: list[str] = []
        for nxt in rest:
            if nxt.startswith("-"):
                if nxt in OPTIONS_WITH_VALUE:
                    next(rest, None)
                continue
            word = _word(nxt)
            if word is None:
                break
            names.append(word)
            if len(names) == 2 or not commands.get(names[0]):
                break
        if not names:
            continue
        sub = names[0]
        if sub not in commands:
            problems.append(f"unknown command: predmaint {sub}")
        elif commands[sub] and len(names) == 2 and names[1] not in commands[sub]:
            problems.append(f"unknown command: predmaint {sub} {names[1]}")
    return problems


def missing_paths(span: str, root: Path) -> list[str]:
    """Project files quoted in one inline code span that do not exist."""
    problems = []
    for raw in span.split():
        token = raw.strip("()[]'\",;:`").split("#", 1)[0]
        if PLACEHOLDER.search(token):
            continue
        if (token.startswith(PATH_PREFIXES) or token in ROOT_FILES) and not (root / token).exists():
            problems.append(f"missing file: {token}")
    return problems


def check_markdown(text: str, base: Path, root: Path, ref: Reference) -> list[str]:
    """Every problem of one Markdown text: links, commands, make targets, project paths."""
    problems = broken_links(text, base)
    spans, fenced = code_snippets(text)
    for snippet in [*spans, *fenced]:
        problems += unknown_commands(snippet, ref.commands)
        problems += [f"unknown make target: {t}" for t in MAKE.findall(snippet) if t not in ref.make_targets]
    for span in spans:
        problems += missing_paths(span, root)
    return problems


@pytest.fixture(scope="module")
def reference() -> Reference:
    return Reference(cli_commands(), makefile_targets(REPO / "Makefile"))


def test_reference_is_collected(reference: Reference) -> None:
    assert {"ingest", "validate", "train", "promote", "serve", "demo", "stack"} <= reference.commands.keys()
    assert {"up", "down", "status"} <= reference.commands["stack"]
    assert {"help", "test", "demo", "up", "down", "status"} <= reference.make_targets


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_quoted_commands_links_and_files_exist(doc: Path, reference: Reference) -> None:
    problems = check_markdown(doc.read_text(encoding="utf-8"), doc.parent, REPO, reference)
    assert not problems, f"{doc.relative_to(REPO)}:\n  " + "\n  ".join(problems)


def test_checker_reports_each_kind_of_problem(reference: Reference, tmp_path: Path) -> None:
    (tmp_path / "there.md").write_text("x")
    text = "\n".join(
        [
            "See [ok](there.md#part), [web](https://example.org), [gone](missing.md) and [top](#top).",
            "Run `predmaint train`, `.venv/bin/predmaint --params p.yaml promote` and `make demo`.",
            "Then `predmaint stack up`, `predmaint teleport`, `predmaint stack explode` and `make deploy`.",
            "Code in `src/predmaint/physics.py` and `src/predmaint/nowhere.py`; data in `data/raw/x.csv`.",
            "```bash",
            "PREFECT_HOME=.run/prefect predmaint demo && .venv/bin/predmaint frobnicate",
            "from predmaint import config  # not a command",
            "[not a link](inside-code.md)",
            'A["predmaint rewind<br/>daily batches"] --> B',
            "```",
        ]
    )
    problems = check_markdown(text, tmp_path, REPO, reference)
    assert sorted(problems) == sorted(
        [
            "broken link: missing.md",
            "unknown command: predmaint teleport",
            "unknown command: predmaint stack explode",
            "unknown command: predmaint frobnicate",
            "unknown command: predmaint rewind",
            "unknown make target: deploy",
            "missing file: src/predmaint/nowhere.py",
        ]
    )


# --- Page budgets of the written deliverables (issue 19) -------------------------------------------

WORDS_PER_PAGE = 500
LINE_WORDS = 10  # a table row, code line, diagram line or heading takes at least one printed line
TABLE_FACTOR = 1.25  # table cells wrap in narrow columns and are padded: a row takes more room than its words
TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}")
# page limits (min, max) of the graded documents; the design notes they link to have none
PAGE_LIMITS = {
    "docs/01-business-and-data.md": (1, 2),
    "docs/02-concept.md": (4, 8),
    "docs/03-technical-report.md": (3, 5),
    "docs/04-evaluation-and-reflection.md": (1, 2),
    "docs/05-manual-challenge.md": (1.5, 2),
}
SLIDE_LIMITS = (5, 8)


def page_words(text: str) -> int:
    """Word-equivalents a Markdown page fills when printed: prose by its words; fenced lines (code,
    Mermaid) and headings by the space they take, at least one line of ``LINE_WORDS``; table rows by
    their words × ``TABLE_FACTOR``, at least one line."""
    prose, fenced = split_markdown(text)
    total = sum(max(len(line.split()), LINE_WORDS) for line in fenced if line.strip())
    for line in prose.splitlines():
        stripped = line.strip()
        if not stripped or TABLE_RULE.match(stripped):
            continue
        words = len(stripped.replace("|", " ").split())
        if stripped.startswith("|"):
            total += max(round(words * TABLE_FACTOR), LINE_WORDS)
        elif stripped.startswith("#"):
            total += max(words, LINE_WORDS)
        else:
            total += words
    return total


def slide_count(text: str) -> int:
    """Slides of a Marp deck: the parts between ``---`` lines, after the front matter."""
    body = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)
    prose, _ = split_markdown(body)
    return len([part for part in re.split(r"^---\s*$", prose, flags=re.M) if part.strip()])


@pytest.mark.parametrize("name", sorted(PAGE_LIMITS))
def test_graded_documents_keep_their_page_limits(name: str) -> None:
    low, high = PAGE_LIMITS[name]
    pages = page_words((REPO / name).read_text(encoding="utf-8")) / WORDS_PER_PAGE
    assert low <= pages <= high, f"{name}: {pages:.2f} pages, limit {low}–{high} (≈ {WORDS_PER_PAGE} words a page)"


def test_slides_keep_their_limit() -> None:
    count = slide_count((REPO / "docs" / "slides.md").read_text(encoding="utf-8"))
    assert SLIDE_LIMITS[0] <= count <= SLIDE_LIMITS[1], f"docs/slides.md: {count} slides"


def test_budget_counts_tables_diagrams_and_slides() -> None:
    prose = "word " * 100
    table = "| a | b |\n| --- | --- |\n" + "| x | y |\n" * 20
    wide_row = "| " + " | ".join(["word word word word"] * 4) + " |"
    diagram = "```mermaid\nflowchart LR\n" + "  a --> b\n" * 30 + "```\n"
    assert page_words(prose) == 100
    assert page_words(table) == 21 * LINE_WORDS  # header + 20 rows, the rule line takes no space
    assert page_words(wide_row) == 16 * TABLE_FACTOR
    assert page_words(diagram) == 31 * LINE_WORDS
    assert page_words("# Title\n\n" + prose) == LINE_WORDS + 100
    overflowing = "\n\n".join([prose] * 9 + [table, diagram])
    assert page_words(overflowing) / WORDS_PER_PAGE > 2  # a 2-page document this long fails
    deck = "---\nmarp: true\n---\n\n# one\n\n---\n\n# two\n\n```text\n---\n```\n\n---\n\n# three\n"
    assert slide_count(deck) == 3
