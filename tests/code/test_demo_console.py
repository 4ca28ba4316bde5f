"""The demo's console: third-party output goes to the log file, the story and errors to the terminal."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flows.console import DemoConsole
from flows.demo_report import DayRow, decisions_table, source_warning, summary_table


def test_third_party_output_goes_to_the_log_and_errors_still_surface(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    console = DemoConsole(tmp_path / ".run")
    with console.quiet():
        print("prefect INFO Finished in state Completed()")
        os.write(2, b"Downloading artifacts: 100%\n")
        subprocess.run([sys.executable, "-c", "print('dvc stage output')"], check=True)
        console.say("day_01: 1,500 readings")
        logging.getLogger("some.library").error("database is locked")
    out = capfd.readouterr()
    log = console.log_path.read_text()
    for noise in ("Finished in state Completed", "Downloading artifacts", "dvc stage output"):
        assert noise in log and noise not in out.out + out.err, noise
    assert "day_01: 1,500 readings" in out.out and "database is locked" in out.out


def test_the_closing_tables_keep_the_signals_met_and_the_gate_numbers() -> None:
    from rich.console import Console

    reasons = ["drift: drift share 0.33 (threshold 0.15)", "(not a trigger rule) alarm rate 0.042 > 2 × 0.020"]
    gate = "REFUSE v2 over v1: expected_cost_per_1000 gain -2.8% < min_gain 2.0%"
    row = DayRow("day_07_heat_wave", 1500, 0.33, 0.042, 0.028, True, "1", "1", "", 78000.0, 44762.0, reasons, gate)
    quiet = DayRow("day_01", 500, 0.0, 0.004, 0.005, False, "1", "1", "", 40000.0, 34878.0, [], "")
    console = Console(width=120, record=True)
    console.print(summary_table([row]))
    console.print(decisions_table([quiet, row], "reports/monitoring/decisions.csv"))
    text = console.export_text()
    assert "no retrain: every rule within its bound" in text and "reports/monitoring/decisions.csv" in text
    assert "78,000 vs 44,762 (+74.3 %)" in text and "0.042 vs 0.028" in text and "e+0" not in text.split("gate")[0]
    flat = " ".join(text.replace("│", " ").split())
    for reason in reasons:
        assert " ".join(reason.split()) in flat, reason
    assert "min_gain 2.0%" in flat


def test_simulated_data_is_said_loudly() -> None:
    assert "SIMULATOR" in (source_warning("simulator", "simulator (10,000 rows)") or "")
    assert "UCI" in (source_warning("url", "url https://archive.ics.uci.edu/…") or "")
    assert source_warning("path", "/data/ai4i2020.csv") is None


def test_the_gate_line_is_the_verdict_in_one_sentence_when_there_is_one() -> None:
    from rich.console import Console

    plain = "v2 kept out: 25,000 cheaper per 1,000 cycles on 1,000 rows neither model saw, but that could be chance"
    row = DayRow("day_07", 500, 0.33, 0.04, 0.03, True, "1", "1", "", gate="REFUSE v2 over v1: …", verdict=plain)
    console = Console(width=200, record=True)
    console.print(decisions_table([row]))
    flat = " ".join(console.export_text().replace("│", " ").split())
    assert f"gate: {plain}" in flat and "REFUSE v2 over v1" not in flat
