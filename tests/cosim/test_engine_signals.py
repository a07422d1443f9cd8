"""The engine interrupted mid-run (SIGINT, SIGTERM, SIGKILL): it ends within seconds with a
non-zero status, and leaves no adapter process, no adapter scratch folder
(``astra-cosim-adapter-*``) and no result folder behind.

Each run gets its own TMPDIR, so the scratch folders counted are this run's only. After a
SIGKILL the engine cannot clean up: its adapter child notices within a second, exits and removes
its scratch folder; the staged result folder stays hidden beside ``--out`` (never a result) and
the next run into the same parent removes it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.cosim.test_faults import (REPO, engine_command, long_experiment, processes_with,
                                     wait_gone)

pytest.importorskip("zmq")

ENDS_WITHIN_S = 10


def _start(tmp_path: Path, placement: str) -> tuple[subprocess.Popen, Path]:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    # every NPU simulated: a symmetric run reduced to one NPU would end before the signal
    argv = long_experiment(tmp_path) + ["--symmetry", "off"]
    if placement == "inprocess":
        argv[argv.index("--placement") + 1] = "inprocess"
    engine = subprocess.Popen(engine_command(*argv), cwd=REPO, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              env=dict(os.environ, TMPDIR=str(scratch)))
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and engine.poll() is None:
        # the staged result folder appears once the signal handler is in place and the
        # inputs are read; a process placement's adapter child after it
        staged = any(".astra-cosim-tmp-" in name for name in os.listdir(tmp_path))
        if staged and (placement == "inprocess" or
                       processes_with(f"--parent-pid {engine.pid}")):
            break
        time.sleep(0.05)
    time.sleep(1.0)                       # well into the run
    assert engine.poll() is None, f"the run ended early: {engine.communicate()[1]}"
    return engine, scratch


def _scratch_folders(scratch: Path) -> list[str]:
    return [name for name in os.listdir(scratch) if name.startswith("astra-cosim-adapter-")]


@pytest.mark.parametrize("placement,signum", [
    ("process", signal.SIGINT), ("process", signal.SIGTERM), ("process", signal.SIGKILL),
    ("inprocess", signal.SIGINT), ("inprocess", signal.SIGTERM)],
    ids=["process-SIGINT", "process-SIGTERM", "process-SIGKILL", "inprocess-SIGINT",
         "inprocess-SIGTERM"])
def test_interrupted_engine_leaves_nothing(tmp_path: Path, placement: str, signum: int) -> None:
    engine, scratch = _start(tmp_path, placement)
    sent = time.monotonic()
    engine.send_signal(signum)
    try:
        engine.wait(timeout=ENDS_WITHIN_S)
    except subprocess.TimeoutExpired:
        engine.kill()
        engine.wait()
        pytest.fail(f"the engine was still running {ENDS_WITHIN_S} s after {signum.name}")
    ended_s = time.monotonic() - sent
    left = wait_gone(f"--parent-pid {engine.pid}", 3)
    stderr = engine.stderr.read()
    engine.stderr.close()
    assert engine.returncode != 0
    assert not left, f"adapter process outlived the engine: {left}"
    deadline = time.monotonic() + 3
    while _scratch_folders(scratch) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _scratch_folders(scratch), "an adapter scratch folder was left behind"
    assert not (tmp_path / "out").exists(), "an interrupted run left a result folder"
    if signum != signal.SIGKILL:
        assert ended_s < 5, ended_s
        lines = stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("astra-cosim: "), stderr
        assert signum.name in lines[0]
        assert engine.returncode == 128 + signum
        assert not [name for name in os.listdir(tmp_path) if ".astra-cosim-" in name]


def test_a_killed_runs_staging_is_hidden_and_removed_by_the_next_run(tmp_path: Path) -> None:
    engine, _ = _start(tmp_path, "inprocess")
    engine.kill()
    engine.wait()
    engine.stderr.close()
    hidden = [name for name in os.listdir(tmp_path) if ".astra-cosim-tmp-" in name]
    assert hidden and all(name.startswith(".") for name in hidden), hidden
    assert not (tmp_path / "out").exists()
    argv = long_experiment(tmp_path)
    argv[argv.index("--num-passes") + 1] = "1"
    argv[argv.index("--placement") + 1] = "inprocess"
    done = subprocess.run(engine_command(*argv), cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "summary.json").is_file()
    assert not [name for name in os.listdir(tmp_path) if ".astra-cosim-" in name]
