"""Progress of single-pass runs (issue 15, point 6): the work is estimated before the run
(a 1.0 loop's steps), so the line has a share done and an ETA; off a terminal it is a plain
line every --progress-interval seconds; --progress off and --quiet silence it."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from orchestrator.experiment.load import load_experiment
from orchestrator.experiment.runner import simulate
from orchestrator.output import progress
from orchestrator.output.instruments import Instruments

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TUTORIAL = os.path.join(ROOT, "experiments", "tutorial")
# VGG16 on 256 NPUs, simulated in full (--symmetry off) for 4 passes: seconds, long enough
# for several plain lines at 0.2 s
VGG16 = os.path.join(TUTORIAL, "ex3_1_tpu_vgg16.yaml")


@pytest.mark.parametrize("experiment, steps", [("ex1.yaml", 1), ("ex4_data.yaml", None)])
def test_the_step_estimate_is_the_steps_the_run_takes(monkeypatch, experiment, steps):
    """After the run, the counter has taken exactly the steps it estimated."""
    seen = []
    stop = progress.ProgressDisplay.stop

    def record(display):
        stop(display)
        seen.append((display.steps.taken, display.steps.total))

    monkeypatch.setattr(progress.ProgressDisplay, "stop", record)
    simulate(load_experiment(os.path.join(TUTORIAL, experiment)),
             Instruments(progress=True, progress_style="plain", progress_interval_s=60))
    ((taken, total),) = seen
    assert taken == total and total > 0
    if steps is not None:
        assert total == steps                   # MICRO: one Issue step per pass


def test_step_counter_fraction_never_claims_completion():
    class Loop:
        def run(self, num_passes):
            yield from range(4 * num_passes)

    class Driver:
        loop = Loop()
        num_passes = 1
        _steps = iter(range(4))

    driver = Driver()
    counter = progress.StepCounter(driver)
    assert counter.total == 4 and counter.fraction() is None
    next(driver._steps)
    assert counter.fraction() == 0.25
    list(driver._steps)
    assert counter.fraction() == progress.MOST_DONE


def test_plain_lines_off_a_terminal_carry_percent_and_eta(tmp_path):
    done = subprocess.run([sys.executable, "-m", "orchestrator", "run", VGG16, "--out",
                           str(tmp_path), "--progress-interval", "0.2", "--symmetry", "off",
                           "--num-passes", "4"],
                          capture_output=True,
                          text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0
    lines = done.stderr.splitlines()
    assert len(lines) >= 2
    shares = []
    for line in lines:
        match = re.fullmatch(r"astra-cosim: progress: simulated [\d,.]+ ms · [\d,]+ events/s · "
                             r"(\d+)% done, ETA \d+ s", line)
        assert match, line
        shares.append(int(match.group(1)))
    assert shares == sorted(shares) and 0 < shares[-1] <= 99


def test_progress_off_is_silent(tmp_path):
    """(--quiet is checked on a terminal in test_progress.py.)"""
    done = subprocess.run([sys.executable, "-m", "orchestrator", "run", VGG16, "--out",
                           str(tmp_path), "--progress-interval", "0.5", "--progress", "off",
                           "--symmetry", "off"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0 and done.stderr == ""


def test_a_single_pass_of_chakra_traces_has_percent_and_eta_off_a_terminal(tmp_path):
    """2.x: NPU 0's trace nodes are the work; one pass still gets a share done and an ETA."""
    prefix = str(tmp_path / "llm")
    assert subprocess.run([sys.executable, "-m", "orchestrator", "workload", "llm", "--model",
                           "llama3-8b", "--platform", "dgx-h100", "--tp", "2", "--pp", "2",
                           "--dp", "2", "--global-batch", "32", "--out", prefix],
                          capture_output=True, cwd=ROOT, timeout=120).returncode == 0
    done = subprocess.run([sys.executable, "-m", "orchestrator", "run", "--workload", prefix,
                           "--system", prefix + ".system.json", "--network",
                           prefix + ".network.yml", "--comm-group", prefix + ".groups.json",
                           "--symmetry", "off", "--progress-interval", "0.01", "--out",
                           str(tmp_path / "out")],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    # the display reads the trace driver from its own thread while the run changes it
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.splitlines()
    while lines and lines[0].endswith(" · one pass: no ETA"):     # before a node completes
        lines.pop(0)
    shares = []
    for line in lines:
        match = re.fullmatch(r"astra-cosim: progress: simulated [\d,.]+ ms · [\d,]+ events/s · "
                             r"(\d+)% done, ETA \d+ s", line)
        assert match, line
        shares.append(int(match.group(1)))
    assert len(shares) >= 2 and shares == sorted(shares) and 0 < shares[-1] <= 99
