"""How fast and how briefly the CLI answers failures a user can cause (issue 18, item 7).

Each case runs ``predmaint …`` as a subprocess in a fresh temp project (params.yaml and the
contract copied from this repo, nothing generated) and records the exit code, the number of
non-empty output lines and the wall time (best of ``--repeat`` runs: the machine is shared).

    nice .venv/bin/python bench/cli_failures.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).with_name("predmaint")


def project(root: Path, **overrides: dict[str, object]) -> Path:
    """A project folder with params.yaml (sections updated by ``overrides``) and the contract."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "expectations", root / "expectations", dirs_exist_ok=True)
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    raw["data"]["csv_path"] = str(root / "ai4i2020.csv")
    for section, values in overrides.items():
        raw[section].update(values)
    (root / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    return root / "params.yaml"


def cases(tmp: Path) -> list[tuple[str, Path, list[str]]]:
    """(what, params file, arguments) of each failure."""
    ok = project(tmp / "ok")
    forest = yaml.safe_load((REPO / "params.yaml").read_text())["model"]["random_forest"]
    garbage, empty, folder, loop = tmp / "garbage.csv", tmp / "empty.csv", tmp / "folder.csv", tmp / "loop.csv"
    garbage.write_bytes(bytes(range(256)) * 16)
    empty.write_bytes(b"")
    folder.mkdir()
    loop.symlink_to(loop)
    return [
        ("n_estimators: -5", project(tmp / "a", model={"random_forest": {**forest, "n_estimators": -5}}), ["ingest"]),
        ("split.train_rows: 'many'", project(tmp / "b", split={"train_rows": "many"}), ["ingest"]),
        ("unknown key serving.colour", project(tmp / "c", serving={"colour": "red"}), ["ingest"]),
        ("--params missing.yaml", ok, ["--params", str(tmp / "missing.yaml"), "ingest"]),
        ("batch missing.csv", ok, ["batch", "missing.csv"]),
        ("lineage 999", ok, ["lineage", "999"]),
        ("lineage --model 999 (no registry)", ok, ["lineage", "--model", "999"]),
        ("reproduce 1 (no registry)", ok, ["reproduce", "1"]),
        ("validate missing.csv --suite raw", ok, ["validate", "missing.csv", "--suite", "raw"]),
        ("ingest: binary garbage", project(tmp / "d", data={"csv_path": str(garbage)}), ["ingest"]),
        ("ingest: empty file", project(tmp / "e", data={"csv_path": str(empty)}), ["ingest"]),
        ("ingest: a directory", project(tmp / "f", data={"csv_path": str(folder)}), ["ingest"]),
        ("ingest: a symlink loop", project(tmp / "g", data={"csv_path": str(loop)}), ["ingest"]),
    ]


def run(params: Path, args: list[str]) -> tuple[int, int, float, str]:
    """Exit code, non-empty output lines, seconds and the first line of one CLI call."""
    argv = [str(BIN), *args] if "--params" in args else [str(BIN), "--params", str(params), *args]
    started = time.perf_counter()
    out = subprocess.run(argv, capture_output=True, text=True, cwd=params.parent, check=False, timeout=120)
    seconds = time.perf_counter() - started
    lines = [line for line in (out.stdout + out.stderr).splitlines() if line.strip()]
    return out.returncode, len(lines), seconds, (lines[0] if lines else "")


def main(argv: list[str] | None = None) -> int:
    """Run every case and print a Markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    print(f"load average before: {Path('/proc/loadavg').read_text().split()[:3]}")
    print("| failure | exit | lines | best s | answer |\n| --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        for what, params, extra in cases(Path(tmp)):
            runs = [run(params, extra) for _ in range(args.repeat)]
            code, lines, _, first = runs[0]
            best = min(r[2] for r in runs)
            shown = first.replace(tmp, "<tmp>").replace("|", "\\|")[:110]
            print(f"| {what} | {code} | {lines} | {best:.2f} | {shown} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
