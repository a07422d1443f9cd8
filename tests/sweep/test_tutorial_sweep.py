"""experiments/sweeps/ex2_1_allreduce_size.yaml reproduces MLSys'22 exercise 2-1: every
comm_scale's total equals experiments/tutorial/expected.json, exactly."""

from __future__ import annotations

import json
import os
from pathlib import Path

from orchestrator.sweep.runner import make_trials, run_sweep
from orchestrator.sweep.spec import load_sweep
from orchestrator.sweep.trial import run_trial
from tests.sweep.sweeps import SWEEPS, TUTORIAL, read_csv

with open(os.path.join(TUTORIAL, "expected.json"), encoding="utf-8") as _handle:
    EXPECTED = json.load(_handle)


def test_ex2_1_sweep_equals_the_tutorial_numbers(tmp_path: Path) -> None:
    spec = load_sweep(os.path.join(SWEEPS, "ex2_1_allreduce_size.yaml"))
    report = run_sweep(spec, str(tmp_path), jobs=1, progress=None)
    assert (report.trials, report.ran, report.failed, report.missing) == (11, 11, 0, 0)
    rows = read_csv(tmp_path / "results.csv")
    found = {f"ex2_1_comm_scale_{row['options.comm_scale']}": int(row["total_ns"])
             for row in rows}
    expected = {name: case["total_ns"] for name, case in EXPECTED.items()
                if name.startswith("ex2_1_comm_scale_")}
    assert found == expected
    assert all(row["status"] == "ok" and row["error"] == "" for row in rows)


def test_dgx2_sweep_file_expands_and_its_base_runs(tmp_path: Path) -> None:
    """The DGX-2-like GPT-3 sweep is too slow for every test run (about 3 s a trial on 256
    NPUs); check that it loads, that its 12 trials differ, and run the cheapest one."""
    spec = load_sweep(os.path.join(SWEEPS, "dgx2_gpt3_bandwidth.yaml"))
    trials, notes = make_trials(spec)
    assert len(trials) == 12 and notes == []
    assert trials[0].config["network"]["config"]["link-bandwidth"] == [12.5, 3.125]
    record = run_trial(trials[-1])     # the fastest links
    assert record["status"] == "ok", record["error"]
    assert record["summary"]["compute_ns"] == 57_600_000
