"""`astra-cosim report` written to a log or a pipe (stdout not a TTY) keeps every number and
name whole (issue 15, point 5): rich would fit its tables to 80 columns and cut
"1,056,539,699.000" to "1,056,539.6…"."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from orchestrator.cli.main import main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EX1 = os.path.join(ROOT, "experiments", "tutorial", "ex1.yaml")
LONG_NAME = "projection_of_the_attention_output_in_block_twenty_three_of_ninety_six"


@pytest.fixture
def long_run(tmp_path) -> str:
    """Exercise 1's results, with a large total and a long layer name written in."""
    out = str(tmp_path / "ex1")
    assert main(["run", EX1, "--out", out, "--quiet"]) == 0
    path = os.path.join(out, "summary.json")
    with open(path, encoding="utf-8") as handle:
        summary = json.load(handle)
    summary["total_ns"] = 1_056_539_699_000
    summary["exposed_comm_ns"] = 250_795_814_000
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(summary, handle)
    layers = os.path.join(out, "layers.csv")
    with open(layers, encoding="utf-8") as handle:
        text = handle.read()
    with open(layers, "w", encoding="utf-8") as handle:
        handle.write(text.replace("allreduce_1MiB", LONG_NAME))
    return out


def test_report_off_a_terminal_cuts_nothing(long_run):
    text = subprocess.run([sys.executable, "-m", "orchestrator", "report", long_run],
                          capture_output=True, text=True, check=True, cwd=ROOT,
                          env=os.environ | {"COLUMNS": "80"}).stdout
    assert "…" not in text
    assert "1,056,539,699.000" in text and "250,795,814.000" in text
    assert LONG_NAME in text
    assert "allreduce_1MiB.wg" in text


def test_a_sweep_report_off_a_terminal_cuts_nothing(tmp_path):
    """A sweep's table wider than 80 columns (a long workload name as an axis value): piped,
    every cell stays whole."""
    long_name = "allreduce_of_one_mebibyte_with_a_name_longer_than_rich_would_leave_whole.txt"
    shutil.copy(os.path.join(ROOT, "experiments", "tutorial", "inputs", "allreduce_1MiB.txt"),
                tmp_path / long_name)
    sweep = tmp_path / "long.yaml"
    sweep.write_text(f"name: long\nbase: {EX1}\naxes:\n  options.comm_scale: [1, 2]\n"
                     f"  workload: [{long_name}]\n", encoding="utf-8")
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "orchestrator", "sweep", str(sweep), "--out",
                           str(out), "--quiet"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    text = subprocess.run([sys.executable, "-m", "orchestrator", "report", str(out)],
                          capture_output=True, text=True, check=True, cwd=ROOT,
                          env=os.environ | {"COLUMNS": "80"}).stdout
    assert "…" not in text
    assert text.count(long_name) == 2
    assert "62.761" in text and "45.681" in text
