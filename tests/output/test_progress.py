"""The progress line: what it says, and that it stays off where it must."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from orchestrator.output.progress import describe, fraction_done, no_eta_yet

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class _Loop:
    passes_started = 3


class _Driver:
    loop = _Loop()
    num_passes = 4


def test_fraction_done_counts_completed_passes():
    assert fraction_done(_Driver()) == 0.5          # pass 3 of 4 begun: 2 done
    _Loop.passes_started = 1
    try:
        assert fraction_done(_Driver()) is None     # nothing to extrapolate from yet
    finally:
        _Loop.passes_started = 3


def test_describe_gives_time_rate_and_eta():
    line = describe(now_ns=2_500_000, events=300_000, elapsed_s=3.0, done=0.25)
    assert line == "simulated 2.500 ms · 100,000 events/s · 25% done, ETA 9 s"
    assert describe(0, 0, 0.0, None).endswith("ETA after the first pass")
    assert describe(0, 0, 0.0, None, "one pass: no ETA").endswith("one pass: no ETA")


def test_a_one_pass_run_says_why_it_has_no_eta():
    class OnePass:
        num_passes = 1

    assert no_eta_yet(OnePass()) == "one pass: no ETA"
    assert no_eta_yet(_Driver()) == "ETA after the first pass"


def test_a_short_run_prints_no_progress_when_stderr_is_not_a_terminal(tmp_path):
    """Plain progress lines start only after --progress-interval (10 s): ex1 takes less."""
    done = subprocess.run([sys.executable, "-m", "orchestrator", "run",
                           os.path.join(ROOT, "experiments", "tutorial", "ex1.yaml"),
                           "--out", str(tmp_path)], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert done.returncode == 0 and done.stderr == ""


DGX2 = os.path.join(ROOT, "..", "shared", "reference", "cases", "mlsys22_ex3-2_DGX2-GPT3")


def _in_terminal(args: list[str]) -> tuple[int, str]:
    """Run the CLI with stdout and stderr on a pseudo-terminal; its exit code and output."""
    import pty
    import select

    controller, terminal = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "orchestrator", *args], cwd=ROOT,
                               stdin=subprocess.DEVNULL, stdout=terminal, stderr=terminal)
    os.close(terminal)
    chunks = []
    while True:
        ready, _, _ = select.select([controller], [], [], 120)
        if not ready:
            process.kill()
            break
        try:
            data = os.read(controller, 65536)
        except OSError:              # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(controller)
    return process.wait(timeout=60), b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.skipif(not os.path.isdir(DGX2),
                    reason="the shared reference cases (../shared/reference) are not here")
def test_progress_shows_on_a_terminal_and_quiet_hides_it(tmp_path):
    """GPT-3 on the DGX-2-like system, every NPU simulated, eight passes, runs for several
    seconds (one pass takes under one since the engine reuses the network's delays): past two
    seconds the line appears on a terminal, with an ETA from the passes done; --quiet keeps
    the terminal silent."""
    args = ["run", "--workload", os.path.join(DGX2, "gpt3.txt"), "--system",
            os.path.join(DGX2, "dgx2.txt"), "--network", os.path.join(DGX2, "dgx2.json"),
            "--symmetry", "off", "--num-passes", "8",   # the full run, long enough: seconds
            "--out", str(tmp_path)]
    code, text = _in_terminal(args)
    assert code == 0
    assert "events/s" in text and "simulated" in text
    assert re.search(r"\d+% done, ETA \d+ s", text)   # one pass, its steps counted
    code, text = _in_terminal(args + ["--quiet"])
    assert code == 0 and text == ""
