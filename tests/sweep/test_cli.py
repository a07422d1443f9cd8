"""``astra-cosim sweep`` from the command line: a run, a resumed run, and errors as one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.cli.main import main
from tests.sweep.sweeps import ROOT, SWEEPS, read_csv, write_sweep

EX2_1 = os.path.join(SWEEPS, "ex2_1_allreduce_size.yaml")


def test_sweep_command_runs_writes_and_resumes(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["sweep", EX2_1, "--out", str(out), "--jobs", "2", "--max-trials", "5"]) == 0
    printed = capsys.readouterr().out
    assert printed.count("options.comm_scale=") == 5
    assert "[1/5] options.comm_scale=" in printed and "ok     total_ns=" in printed
    assert "ex2_1_allreduce_size: 5 of 11 trials have results (5 run now, 0 from earlier " \
           "runs, 0 failed)" in printed
    assert "6 trial(s) not run yet: run the same command again to resume" in printed

    assert main(["sweep", EX2_1, "--out", str(out), "--jobs", "1", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "11 of 11 trials have results (6 run now, 5 from earlier runs, 0 failed)" in printed
    assert f"  {out / 'results.csv'}" in printed
    assert len(read_csv(out / "results.csv")) == 11


def test_console_script_smoke(tmp_path: Path) -> None:
    """The installed entry point, as a user would type it."""
    sweep = write_sweep(tmp_path, "axes:\n  system.all-reduce-implementation: "
                                  "[ring, direct, halvingDoubling]\n")
    done = subprocess.run([sys.executable, "-m", "orchestrator", "sweep", sweep, "--out",
                           str(tmp_path / "out"), "-j", "1"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "3 of 3 trials have results" in done.stdout
    rows = read_csv(tmp_path / "out" / "results.csv")
    assert [row["system.all-reduce-implementation"] for row in rows] == \
        ["ring", "direct", "halvingDoubling"]
    assert rows[0]["total_ns"] == "45681"


def test_a_bad_sweep_file_is_one_line_with_exit_status_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sweep = write_sweep(tmp_path, "axes:\n  network.link-bandwidth[3]: [1, 2]\n")
    assert main(["sweep", sweep, "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == (
        f"astra-cosim: error: {sweep}: axes: network.link-bandwidth[3]: index 3 is out of "
        "range; network.config.link-bandwidth has 1 item(s)\n")
    assert not (tmp_path / "out").exists()


def test_bad_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sweep", EX2_1, "--jobs", "0"]) == 2
    assert "--jobs: found 0; expected a whole number >= 1" in capsys.readouterr().err


def test_ray_missing_says_how_to_install_it(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)
    sweep = write_sweep(tmp_path, "axes:\n  options.comm_scale: [1]\n")
    assert main(["sweep", sweep, "--executor", "ray", "--out", str(tmp_path / "out")]) == 2
    assert "pip install 'astra-cosim[ray]'" in capsys.readouterr().err


def test_bad_ray_resources_are_one_error_before_ray_starts(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    ray = pytest.importorskip("ray", reason="ray is not installed (the [ray] extra)")
    monkeypatch.setenv("ASTRA_COSIM_RAY_RESOURCES", "sim=1")
    sweep = write_sweep(tmp_path, "axes:\n  options.comm_scale: [1]\n")
    assert main(["sweep", sweep, "--executor", "ray", "--out", str(tmp_path / "out")]) == 2
    assert ("$ASTRA_COSIM_RAY_RESOURCES: found 'sim=1'; expected a JSON mapping of resource "
            "names to amounts > 0") in capsys.readouterr().err
    assert not ray.is_initialized()
