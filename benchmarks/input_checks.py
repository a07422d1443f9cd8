"""What the load-time input checks cost, next to the run they guard.

For each case, CPU seconds (``time.process_time``, best of N) of:

* ``checks``: the checks alone, on inputs already read - ``check_traces`` (Chakra sizes, peers,
  SEND/RECV pairs) over every NPU's trace, or ``check_ranges`` (1.0 sizes and cycles);
* ``run``: ``simulate`` of the same experiment, file parsing and the checks included.

Cases: the reference ResNet-50 Chakra traces (8 NPUs, 1,720 nodes; every NPU simulated), the
MLSys'22 GPT-3 1.0 workload on 256 NPUs, and a generated 64-NPU ring of SEND/RECV exchanges
(64 x 2,000 point-to-point nodes), the worst case for the pair matching.

    python benchmarks/input_checks.py [--repeats N] [--no-write]

The section "Input checks" of results.md is replaced when present, else appended.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from orchestrator.experiment.model import Experiment, RunOptions  # noqa: E402
from orchestrator.experiment.run_v1 import check_ranges  # noqa: E402
from orchestrator.experiment.runner import simulate  # noqa: E402
from orchestrator.workload import chakra  # noqa: E402
from orchestrator.workload.text_format import load_text_workload  # noqa: E402
from orchestrator.workload.trace_check import check_traces  # noqa: E402

CASES = os.path.join(ROOT, "..", "shared", "reference", "cases")
SECTION = "## Input checks"
RESULTS = os.path.join(HERE, "results.md")


def _best(function: Callable[[], object], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.process_time()
        function()
        best = min(best, time.process_time() - started)
    return best


def _case(name: str) -> tuple[str, dict]:
    folder = os.path.join(CASES, name)
    with open(os.path.join(folder, "case.json"), encoding="utf-8") as handle:
        return folder, json.load(handle)


def _resnet(repeats: int) -> tuple[str, float, float]:
    folder, case = _case("v2-workload_unaware_Resnet50_DP8_Ring8")
    prefix = os.path.join(folder, case["workload"])
    traces = [chakra.read_trace(chakra.trace_path(prefix, npu)) for npu in range(8)]
    experiment = Experiment(name="resnet", workload=prefix,
                            system=os.path.join(folder, case["system"]),
                            network=os.path.join(folder, case["network"]), symmetry="off")
    return ("ResNet-50 DP, Chakra, 8 NPUs x 215 nodes",
            _best(lambda: check_traces(traces, 8, 1.0, False), repeats),
            _best(lambda: simulate(experiment), repeats))


def _gpt3(repeats: int) -> tuple[str, float, float]:
    folder, case = _case("mlsys22_ex3-2_TPU-GPT3")
    workload = load_text_workload(os.path.join(folder, case["workload"]))
    experiment = Experiment(name="gpt3", workload=os.path.join(folder, case["workload"]),
                            system=os.path.join(folder, case["system"]),
                            network=os.path.join(folder, case["network"]))
    return (f"GPT-3, 1.0 text, 256 NPUs x {len(workload.layers)} layers",
            _best(lambda: check_ranges(workload, RunOptions()), repeats),
            _best(lambda: simulate(experiment), repeats))


def _exchange(directory: str, repeats: int, npus: int = 64, rounds: int = 1000
              ) -> tuple[str, float, float]:
    """Every NPU sends ``rounds`` messages to its right neighbour and receives as many from
    its left one, each send after the previous receive."""
    prefix = os.path.join(directory, "exchange")
    for npu in range(npus):
        nodes = []
        for index in range(rounds):
            for kind, peer_key, peer in ((chakra.NodeType.COMM_SEND_NODE, "comm_dst",
                                          (npu + 1) % npus),
                                         (chakra.NodeType.COMM_RECV_NODE, "comm_src",
                                          (npu - 1) % npus)):
                node_id = len(nodes)
                nodes.append(chakra.pb.Node(
                    id=node_id, name=f"p2p{node_id}", type=kind,
                    data_deps=[node_id - 1] if node_id else [],
                    attr=[chakra.make_attr("is_cpu_op", False), chakra.make_attr(peer_key, peer),
                          chakra.make_attr("comm_tag", index),
                          chakra.make_attr("comm_size", 4096)]))
        chakra.write_trace(chakra.trace_path(prefix, npu), nodes)
    traces = [chakra.read_trace(chakra.trace_path(prefix, npu)) for npu in range(npus)]
    system = {"scheduling-policy": "LIFO", "endpoint-delay": 10,
              "active-chunks-per-dimension": 1, "preferred-dataset-splits": 4,
              "all-reduce-implementation": ["ring"], "all-gather-implementation": ["ring"],
              "reduce-scatter-implementation": ["ring"], "all-to-all-implementation": ["ring"],
              "collective-optimization": "localBWAware", "local-mem-bw": 1600}
    network = {"topology": ["Ring"], "npus_count": [npus], "bandwidth": [50.0],
               "latency": [500.0]}
    experiment = Experiment(name="exchange", workload=prefix, system=system, network=network)
    return (f"SEND/RECV ring, Chakra, {npus} NPUs x {2 * rounds} nodes",
            _best(lambda: check_traces(traces, npus, 1.0, False), repeats),
            _best(lambda: simulate(experiment), repeats))


def _write(rows: list[tuple[str, float, float]], repeats: int) -> str:
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [SECTION, "",
             f"**{stamp}** · {os.cpu_count()} CPUs, Python {platform.python_version()} · "
             f"best of {repeats} · `python benchmarks/input_checks.py`", "",
             "CPU seconds of the load-time checks (issue 14: sizes, peers, SEND/RECV pairs, "
             "1.0 ranges) on inputs already read, against the whole run (`simulate`, parsing "
             "and checks included; the GPT-3 run is reduced by symmetry, as by default). The "
             "SEND/RECV row is the worst case: nothing but chained 4 KiB point-to-point "
             "messages, whose attributes the checks read once more than the run does.", "",
             "| case | checks s | run s | checks / run |", "|---|---:|---:|---:|"]
    lines += [f"| {name} | {checks:.4f} | {run:.3f} | {checks / run:.2%} |"
              for name, checks, run in rows]
    section = "\n".join(lines) + "\n"
    text = open(RESULTS, encoding="utf-8").read() if os.path.isfile(RESULTS) else ""
    start = text.find(SECTION)
    if start >= 0:
        end = text.find("\n## ", start + len(SECTION))
        text = text[:start] + section + ("" if end < 0 else text[end:])
    else:
        text = text.rstrip("\n") + "\n\n" + section
    with open(RESULTS, "w", encoding="utf-8") as handle:
        handle.write(text)
    return section


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if not os.path.isdir(CASES):
        print(f"the reference cases are not at {CASES}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as directory:
        rows = [_resnet(args.repeats), _gpt3(args.repeats), _exchange(directory, args.repeats)]
    for name, checks, run in rows:
        print(f"{name:<48} checks {checks:.4f} s  run {run:.3f} s  {checks / run:.2%}")
    if not args.no_write:
        print(_write(rows, args.repeats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
