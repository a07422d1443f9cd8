"""The committed exercise-3/4 workloads are what regenerate.sh produces with SCALE-Sim; a
second run simulates nothing; a killed run leaves a cache the next run completes from; the
adapter as a separate process gives the same workload."""

from __future__ import annotations

import os
import shlex
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from adapters.scalesim.simulate import check_available, simulation_count
from orchestrator.cli.main import main
from orchestrator.errors import InputError

GENERATED = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..",
                                         "experiments", "tutorial", "inputs", "generated"))


@pytest.fixture
def scalesim() -> None:
    try:
        check_available("<test>")
    except InputError as exc:
        pytest.skip(f"SCALE-Sim unavailable: {exc}")


def _commands() -> list[list[str]]:
    with open(os.path.join(GENERATED, "regenerate.sh"), encoding="utf-8") as handle:
        return [shlex.split(line)[1:] for line in handle
                if line.startswith("astra-cosim workload generate")]


def _run(command: list[str], out_dir) -> str:
    """Run one line of regenerate.sh from the folder it expects, writing under out_dir."""
    args = list(command)
    target = args.index("--out") + 1
    name = args[target]
    args[target] = str(out_dir / name)
    cwd = os.getcwd()
    os.chdir(GENERATED)
    try:
        assert main(args) == 0
    finally:
        os.chdir(cwd)
    return name


def test_regenerating_reproduces_the_committed_workloads_then_simulates_nothing(
        scalesim, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ASTRA_COSIM_CACHE_DIR", str(tmp_path / "cache"))
    commands = _commands()
    assert len(commands) == 4
    before = simulation_count()
    for command in commands:
        name = _run(command, tmp_path)
        with open(os.path.join(GENERATED, name), encoding="utf-8") as committed:
            assert (tmp_path / name).read_text() == committed.read(), name
    first_run = simulation_count() - before
    assert first_run == 36 + 14 + 11                  # distinct GEMMs of VGG16, GPT-3, ResNet
    for command in commands:                          # exercise 3 and 4 again: all cached
        _run(command, tmp_path)
    assert simulation_count() - before == first_run


def test_a_generation_killed_mid_run_leaves_a_cache_the_next_run_completes(
        scalesim, tmp_path) -> None:
    cache_dir = tmp_path / "cache"
    database = cache_dir / "scalesim" / "results.sqlite"
    vgg = _commands()[0]
    env = dict(os.environ, ASTRA_COSIM_CACHE_DIR=str(cache_dir))
    out = list(vgg)
    out[out.index("--out") + 1] = str(tmp_path / "killed.txt")
    process = subprocess.Popen([sys.executable, "-m", "orchestrator", *out], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    stored = 0
    while stored < 5 and time.monotonic() < deadline:
        time.sleep(0.2)
        if database.exists():
            with sqlite3.connect(database) as db:
                try:
                    stored = db.execute("SELECT COUNT(*) FROM cycles").fetchone()[0]
                except sqlite3.OperationalError:          # table not created yet
                    stored = 0
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert 5 <= stored < 36 and not (tmp_path / "killed.txt").exists()
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        kept = db.execute("SELECT COUNT(*) FROM cycles").fetchone()[0]
    resumed = subprocess.run([sys.executable, "-m", "orchestrator", *out], env=env,
                             capture_output=True, text=True, check=True)
    assert f"cache_hits {kept}, simulations {36 - kept}" in resumed.stdout
    with open(os.path.join(GENERATED, "vgg16_data_256.txt"), encoding="utf-8") as committed:
        assert (tmp_path / "killed.txt").read_text() == committed.read()


def test_scalesim_served_as_a_process_gives_the_same_workload(scalesim, tmp_path) -> None:
    """Exercise 4's workload with the adapter in a child process speaking the protocol,
    cache off, so the child really simulates."""
    command = _commands()[2] + ["--placement", "process", "--compute-option", "cache=off"]
    name = _run(command, tmp_path)
    with open(os.path.join(GENERATED, name), encoding="utf-8") as committed:
        assert (tmp_path / name).read_text() == committed.read()


_SYSTEM = {"scheduling-policy": "LIFO", "endpoint-delay": 10, "active-chunks-per-dimension": 1,
           "preferred-dataset-splits": 4, "all-reduce-implementation": ["ring"],
           "all-gather-implementation": ["ring"], "reduce-scatter-implementation": ["ring"],
           "all-to-all-implementation": ["direct"], "collective-optimization": "localBWAware",
           "local-mem-bw": 50}


def test_generated_traces_are_timed_online_as_generated(scalesim, tmp_path) -> None:
    """The Chakra traces of a generated workload carry each GEMM's shape: a 2.x run that asks
    SCALE-Sim online (through the compute port) gives the time of the run that replays the
    cycles written at generation."""
    import json
    (tmp_path / "m.yaml").write_text(
        "datatype_bytes: 2\nbatch: 16\nlayers:\n  - {name: a, fc: {inputs: 40, outputs: 24}}\n"
        "  - {name: b, fc: {inputs: 24, outputs: 12}}\n")
    (tmp_path / "sys.json").write_text(json.dumps(_SYSTEM))
    (tmp_path / "net.yml").write_text("topology: [ Ring ]\nnpus_count: [ 4 ]\n"
                                      "bandwidth: [ 50.0 ]\nlatency: [ 500.0 ]\n")
    compute = {"ArrayHeight": 8, "ArrayWidth": 8, "mode": "full",
               "cache": str(tmp_path / "c.sqlite")}
    (tmp_path / "compute.json").write_text(json.dumps(compute))
    assert main(["workload", "generate", "--model", str(tmp_path / "m.yaml"), "--parallelism",
                 "DATA", "--npus", "4", "--compute", "scalesim", "--compute-config",
                 str(tmp_path / "compute.json"), "--out", str(tmp_path / "w.txt"),
                 "--chakra", str(tmp_path / "et" / "w")]) == 0
    totals = []
    for extra in ([], ["--compute-backend", "scalesim", "--compute-config",
                       str(tmp_path / "compute.json")]):
        out = tmp_path / f"out{len(extra)}"
        assert main(["run", "--workload", str(tmp_path / "et" / "w"), "--system",
                     str(tmp_path / "sys.json"), "--network", str(tmp_path / "net.yml"),
                     "--out", str(out), "--quiet", *extra]) == 0
        summary = json.loads((out / "summary.json").read_text())
        totals.append((summary["total_ns"], summary["compute_ns"]))
        if extra:     # 5 GEMM nodes per NPU (layer 0 has no input gradient), asked online
            assert summary["cosim"]["compute"]["distinct_requests"] == 5
    rows = (tmp_path / "w.txt").read_text().splitlines()[2:]
    written = sum(int(row.split()[column]) for row in rows for column in (2, 5, 8))
    assert totals[0] == totals[1] and totals[0][1] == written - int(rows[0].split()[5])
