"""A sweep that goes wrong: failed trials set the exit status, a killed sweep leaves no process
or scratch folder behind, and damaged trial files are run again on resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestrator.cli.main import main
from orchestrator.sweep import table
from orchestrator.sweep.runner import run_sweep
from orchestrator.sweep.spec import load_sweep
from tests.processes import live_processes
from tests.sweep.sweeps import EX1, ROOT, read_csv, write_sweep

INPUTS = os.path.join(ROOT, "experiments", "tutorial", "inputs")


# -- failed trials ------------------------------------------------------------------------------
def test_a_sweep_whose_trials_all_fail_exits_1_and_says_how_many(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sweep = write_sweep(tmp_path, "axes:\n  system.all-reduce-implementation: [bogus, nonsense]\n")
    assert main(["sweep", sweep, "--out", str(tmp_path / "out"), "-j", "1", "--quiet"]) == 1
    captured = capsys.readouterr()
    assert "2 of 2 trials have results (2 run now, 0 from earlier runs, 2 failed)" in captured.out
    assert captured.err.splitlines() == [
        f"astra-cosim: error: 2 of 2 trials failed (their errors are in "
        f"{tmp_path / 'out' / 'results.csv'}; --retry-failed runs them again)"]


def test_a_sweep_with_some_failed_trials_exits_1(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    sweep = write_sweep(tmp_path, "axes:\n  system.all-reduce-implementation: [ring, bogus]\n"
                                  "  options.comm_scale: [1, 2]\n")
    assert main(["sweep", sweep, "--out", str(tmp_path / "out"), "-j", "1", "--quiet"]) == 1
    assert "2 of 4 trials failed" in capsys.readouterr().err
    # resumed, the failures are still there: still 1
    assert main(["sweep", sweep, "--out", str(tmp_path / "out"), "-j", "1", "--quiet"]) == 1
    capsys.readouterr()


# -- killed sweeps ------------------------------------------------------------------------------
def _session(sid: int) -> list[tuple[int, str]]:
    """Live processes of session ``sid`` (the sweep was started as its leader)."""
    return [(process.pid, process.cmdline[:120]) for process in live_processes()
            if process.session == sid]


def _long_sweep(tmp_path: Path, placement: str) -> str:
    """Four trials of a 64-NPU ring all-reduce, each several seconds long."""
    return write_sweep(tmp_path, "axes:\n  options.num_passes: [60, 61, 62, 63]\n",
                       base=_long_base(tmp_path, placement))


def _long_base(tmp_path: Path, placement: str) -> str:
    path = tmp_path / "long.yaml"
    path.write_text(json.dumps({
        "name": "long", "workload": os.path.join(INPUTS, "allreduce_1MiB.txt"),
        "system": os.path.join(INPUTS, "sys_ring.txt"),
        "network": {"config": {"topologies-per-dim": ["Ring"], "units-count": [64],
                               "links-count": [2], "link-latency": [500],
                               "link-bandwidth": [50]}, "placement": placement},
        "options": {"comm_scale": 16}}))
    return str(path)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("placement", ["inprocess", "process"])
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_a_killed_sweep_leaves_no_process_and_no_scratch_folder(tmp_path: Path, how: int,
                                                                placement: str) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    sweep = _long_sweep(tmp_path, placement)
    driver = subprocess.Popen(
        [sys.executable, "-m", "orchestrator", "sweep", sweep, "--out", str(tmp_path / "out"),
         "-j", "2"], cwd=ROOT, start_new_session=True, stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env=os.environ | {"TMPDIR": str(scratch)})
    try:
        deadline = time.monotonic() + 30
        wanted = 5 if placement == "process" else 3   # driver, tracker, forkserver, workers
        while len(_session(driver.pid)) < wanted + 1 and time.monotonic() < deadline:
            assert driver.poll() is None, driver.stderr.read()
            time.sleep(0.1)
        time.sleep(0.5)
        assert driver.poll() is None, "the sweep ended before it could be killed"
        os.kill(driver.pid, how)
        killed = time.monotonic()
        driver.wait(timeout=10)
        left = _session(driver.pid)
        while left and time.monotonic() - killed < 5:
            time.sleep(0.1)
            left = _session(driver.pid)
        assert not left, f"left behind {time.monotonic() - killed:.1f} s after the kill: {left}"
        assert sorted(os.listdir(scratch)) == []
        stderr = driver.stderr.read()
        if how == signal.SIGKILL:       # nothing from the tracker either (leaked semaphores)
            assert (driver.returncode, stderr) == (-signal.SIGKILL, "")
        else:
            # SIGINT said "no result was written" (the run's wording) although the finished
            # trials are kept
            assert driver.returncode == 128 + how
            said = "terminated" if how == signal.SIGTERM else "interrupted (SIGINT)"
            assert stderr.splitlines() == [
                f"astra-cosim: {said}; the trials finished so far are kept in "
                f"{tmp_path / 'out'}: run the same command again to resume"]
    finally:
        for pid, _ in _session(driver.pid):
            os.kill(pid, signal.SIGKILL)
        driver.stderr.close()


# -- damaged trial files ------------------------------------------------------------------------
def _damage(record: dict, how: str) -> dict:
    if how == "summary removed":
        del record["summary"]
    elif how == "summary emptied":
        record["summary"] = {}
    elif how == "summary null":
        record["summary"] = None
    elif how == "total_ns text":
        record["summary"]["total_ns"] = "fast"
    elif how == "compute_ns text":
        record["summary"]["compute_ns"] = "n/a"
    elif how == "total_ns negative":
        record["summary"]["total_ns"] = -1
    elif how == "total_ns beyond int64":      # resumed, then the parquet table crashed
        record["summary"]["total_ns"] = 10 ** 30
    elif how == "payload_bytes 2^64":
        record["summary"]["payload_bytes"] = 1 << 64
    elif how == "status unknown":
        record["status"] = "done"
    elif how == "error without message":
        record.update(status="error", error=None, summary=None)
    return record


DAMAGES = ("summary removed", "summary emptied", "summary null", "total_ns text",
           "compute_ns text", "total_ns negative", "total_ns beyond int64", "payload_bytes 2^64",
           "status unknown", "error without message")


def test_damaged_trial_files_are_run_again_on_resume(tmp_path: Path) -> None:
    sweep = write_sweep(tmp_path, "axes:\n  options.comm_scale: [1, 2, 4, 8, 16, 32, 64, 128, "
                                  "256, 512, 1024]\n")
    spec = load_sweep(sweep)
    out = tmp_path / "out"
    first = run_sweep(spec, str(out), progress=None)
    assert (first.ran, first.failed) == (11, 0)
    expected = read_csv(out / "results.csv")
    files = sorted((out / "trials").iterdir())
    assert len(files) == len(DAMAGES) + 1
    for path, how in zip(files, DAMAGES):
        path.write_text(json.dumps(_damage(json.loads(path.read_text()), how)))
    second = run_sweep(spec, str(out), progress=None)
    assert (second.skipped, second.ran, second.failed, second.missing) == (1, 10, 0, 0)
    assert any("10 trial file(s) are not a usable result and run again" in note
               for note in second.notes)
    assert read_csv(out / "results.csv") == expected


def test_the_table_survives_a_non_numeric_figure() -> None:
    rows = table.table_rows(["a"], [({"a": 1}, {"key": "k1", "status": "ok", "summary": {
        "total_ns": "fast", "compute_ns": 5, "events_processed": True}}),
        ({"a": 2}, {"key": "k2", "status": "ok", "summary": ["not", "a", "mapping"]})])
    assert [(row["total_ns"], row["compute_ns"], row["events_processed"]) for row in rows] == \
        [(None, 5, None), (None, None, None)]


@pytest.mark.parametrize("holds", ["a run's result", "other files"])
def test_a_sweep_into_a_folder_of_something_else_is_refused(tmp_path: Path, holds: str,
                                                          capsys) -> None:
    """A sweep into a run's --out (or any folder of other files) wrote results.csv and
    trials/ beside them, and `report` went on showing the run (issue 14: never a mix)."""
    from orchestrator.cli.main import main
    out = tmp_path / "out"
    if holds == "a run's result":
        assert main(["run", EX1, "--out", str(out), "--quiet"]) == 0
    else:
        out.mkdir()
        (out / "notes.txt").write_text("mine\n")
    before = sorted(os.listdir(out))
    sweep = write_sweep(tmp_path, "axes:\n  options.comm_scale: [1, 2]\n")
    assert main(["sweep", sweep, "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    what = "a run's result" if holds == "a run's result" else "files of something else"
    assert err.splitlines() == [f"astra-cosim: error: {out}: --out: holds {what}, not a "
                                "sweep's trials/; expected a new or empty folder, or one a "
                                "sweep wrote (to resume it)"]
    assert sorted(os.listdir(out)) == before
    # an empty folder and the sweep's own folder (resumed) are used
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["sweep", sweep, "--out", str(empty), "--quiet"]) == 0
    assert main(["sweep", sweep, "--out", str(empty), "--quiet"]) == 0
    assert len(os.listdir(empty / "trials")) == 2


def test_a_parallel_sweep_under_a_deep_temporary_folder_runs(tmp_path: Path) -> None:
    """Python 3.11's forkserver listens on a Unix socket in TMPDIR, whose path has at most 107
    bytes: under a deeper TMPDIR the workers are spawned instead of refusing the sweep
    ("AF_UNIX path too long"), with the same results and nothing left behind."""
    scratch = tmp_path / ("t" * 50) / ("u" * 50)
    scratch.mkdir(parents=True)
    base = tmp_path / "base.yaml"
    base.write_text(json.dumps({
        "name": "deep", "workload": os.path.join(INPUTS, "allreduce_1MiB.txt"),
        "system": os.path.join(INPUTS, "sys_ring.txt"),
        "network": {"config": os.path.join(INPUTS, "ring8.json")}}))
    sweep = write_sweep(tmp_path, "axes:\n  options.comm_scale: [1, 2]\n", base=str(base))
    done = subprocess.run([sys.executable, "-m", "orchestrator", "sweep", sweep, "--out",
                           str(tmp_path / "out"), "-j", "2"], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env=os.environ | {"TMPDIR": str(scratch)})
    assert done.returncode == 0, done.stderr
    rows = read_csv(tmp_path / "out" / "results.csv")
    totals = sorted(int(row["total_ns"]) for row in rows)
    assert len(totals) == 2 and totals[0] < totals[1]
    assert os.listdir(scratch) == []


def test_the_forkserver_is_used_only_where_its_socket_path_fits(monkeypatch) -> None:
    from orchestrator.sweep import local
    monkeypatch.setattr(local.multiprocessing.util, "get_temp_dir", lambda: "/tmp/pymp-abcdefgh")
    assert local._context().get_start_method() == "forkserver"
    monkeypatch.setattr(local.multiprocessing.util, "get_temp_dir", lambda: "/" + "d" * 90)
    assert local._context().get_start_method() == "spawn"
