"""``astra-cosim run --trace``: the trace-event JSON is well formed and says what happened."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from orchestrator.cli.main import main
from orchestrator.output.recorder import Recorder
from tests.output.trace_schema import check_trace
from tests.system.closed_forms import ALLREDUCE, Dim, ring_time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EX1 = os.path.join(ROOT, "experiments", "tutorial", "ex1.yaml")
GPT3 = os.path.join(ROOT, "..", "shared", "reference", "cases", "mlsys22_ex3-2_TPU-GPT3")


def _trace(tmp_path, *extra: str) -> dict:
    path = os.path.join(tmp_path, "trace.json")
    assert main(["run", EX1, "--out", str(tmp_path), "--quiet", "--trace", path, *extra]) == 0
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def test_ex1_trace_is_well_formed_and_times_the_chunks(tmp_path):
    """ex1: a 1 MiB all-reduce on an 8-NPU ring in 4 chunks (endpoint delay 10, 500 ns,
    50 GB/s, 2 links): each chunk's phase lasts the closed-form T, back to back."""
    document = _trace(tmp_path)
    assert check_trace(document) == []
    events = document["traceEvents"]
    names = {e["args"]["name"] for e in events if e["name"] == "process_name"}
    assert names == {f"NPU {n}" for n in range(8)}          # 8 NPUs: all traced by default
    t_chunk = ring_time(ALLREDUCE, (1 << 20) // 4, Dim("Ring", 8, 2, 500, 50), 10)
    chunks = sorted((e["ts"], e["dur"]) for e in events
                    if e["ph"] == "X" and e["cat"] == "chunk" and e["pid"] == 1)
    assert chunks == [(k * t_chunk / 1000, t_chunk / 1000) for k in range(4)]
    (collective,) = [e for e in events if e["ph"] == "X" and e["cat"] == "collective"
                     and e["pid"] == 1]
    assert collective["dur"] == 4 * t_chunk / 1000
    assert collective["args"]["size_bytes"] == 1 << 20
    counters = [e["args"]["chunks"] for e in events if e["ph"] == "C" and e["pid"] == 1]
    assert set(counters) <= {0, 1} and counters[-1] == 0
    assert document["otherData"]["total_ns"] == 45681


def test_trace_npus_selects_processes(tmp_path):
    document = _trace(tmp_path, "--trace-npus", "1,5-6")
    assert check_trace(document) == []
    pids = {e["pid"] for e in document["traceEvents"]}
    assert pids == {2, 6, 7}
    assert document["otherData"]["traced_npus"] == [1, 5, 6]


@pytest.mark.parametrize("args, message", [
    (["--trace-npus", "0,1"], "add --trace FILE"),
    (["--trace", "t.json", "--trace-npus", "0,x"], "expected NPU ids like 0,1,8"),
    (["--trace", "t.json", "--trace-npus", "3-1"], "low <= high"),
    (["--trace", "t.json", "--trace-npus", "9"], "this network has 8 NPUs"),
])
def test_bad_npu_selections_are_one_line_errors(tmp_path, capsys, args, message):
    args = [os.path.join(tmp_path, a) if a == "t.json" else a for a in args]
    assert main(["run", EX1, "--out", str(tmp_path), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("astra-cosim: error: --trace-npus") and message in err


def test_lanes_keep_overlapping_collectives_apart():
    """Two collectives that overlap go to two tracks of the same process."""
    from orchestrator.output.recorder import CollectiveRecord
    from orchestrator.output.results import RunResult
    from orchestrator.output.trace_events import trace_events

    recorder = Recorder()
    recorder.npus = {0}
    recorder.collectives = [CollectiveRecord(0, 0, "ALLREDUCE", 8, 0, 100, "a.wg", "a"),
                            CollectiveRecord(0, 1, "ALLREDUCE", 8, 50, 150, "b.wg", "b"),
                            CollectiveRecord(0, 2, "ALLREDUCE", 8, 120, 130, "c.wg", "c")]
    result = RunResult("x", "v1", 150, [150], 0, 150, 0, 0)
    events = trace_events(result, recorder)
    assert check_trace({"traceEvents": events}) == []
    tids = {e["name"]: e["tid"] for e in events if e["ph"] == "X"}
    assert tids["ALLREDUCE a.wg"] == tids["ALLREDUCE c.wg"] != tids["ALLREDUCE b.wg"]


@pytest.mark.skipif(not os.path.isdir(GPT3),
                    reason="the shared reference cases (../shared/reference) are not here")
def test_gpt3_tutorial_case_traces_selected_npus(tmp_path):
    """MLSys'22 exercise 3-2 (GPT-3 on the TPU-like 16x16 ring, 256 NPUs) with --trace and
    --trace-npus: the result is still exact, the trace loads and stays small."""
    trace = os.path.join(tmp_path, "gpt3.json")
    done = subprocess.run(
        [sys.executable, "-m", "orchestrator", "run", "--workload",
         os.path.join(GPT3, "gpt3.txt"), "--system", os.path.join(GPT3, "tpu.txt"),
         "--network", os.path.join(GPT3, "tpu.json"), "--out", str(tmp_path), "--trace", trace,
         "--trace-npus", "0,1,16"], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    # not a terminal: at most plain progress lines (every 10 s), nothing else
    assert all(line.startswith("astra-cosim: progress: ") for line in done.stderr.splitlines())
    with open(os.path.join(tmp_path, "summary.json"), encoding="utf-8") as handle:
        assert json.load(handle)["total_ns"] == 1655238425
    with open(trace, encoding="utf-8") as handle:
        document = json.load(handle)
    assert check_trace(document) == []
    assert {e["pid"] for e in document["traceEvents"]} == {1, 2, 17}
    assert os.path.getsize(trace) < 2_000_000
    compute = [e for e in document["traceEvents"] if e["ph"] == "X" and e["pid"] == 1
               and e["cat"].startswith("compute")]
    # NPU 0's compute spans add up to the compute time the reference reports
    assert round(sum(e["args"]["duration_ns"] for e in compute)) == 1404442611


def test_statistics_and_trace_do_not_depend_on_the_placement(tmp_path):
    """The recorder sits in the engine, so an adapter in its own process changes nothing."""
    outputs = {}
    for placement in ("inprocess", "process"):
        out = os.path.join(tmp_path, placement)
        trace = os.path.join(out, "trace.json")
        assert main(["run", EX1, "--out", out, "--quiet", "--trace", trace,
                     "--placement", placement]) == 0
        outputs[placement] = {name: _read(os.path.join(out, name))
                              for name in ("collectives.csv", "layers.csv",
                                           "dimension_utilisation.csv", "trace.json")}
    assert outputs["inprocess"] == outputs["process"]


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read()
