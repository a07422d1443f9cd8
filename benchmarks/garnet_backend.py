#!/usr/bin/env python3
"""The Garnet (gem5) network backend against the analytical networks, run on demand (never by
tests; needs the gem5 build of scripts/build_garnet.sh, found through $ASTRA_GEM5).

Rows: 8-NPU all-reduce and all-to-all of ``--size`` MiB (default 4) on Ring (ring),
Switch (halvingDoubling; direct all-to-all) and FullyConnected (direct), 50 GB/s and 500 ns
links, against the congestion-aware analytical network and the unaware one; then the MLSys'22
exercise 1 as given and 2-2 at ``--size`` MiB (comm-scale size / 1 GiB) against 1.0's
analytical network.

Per row: simulated total of garnet and of the reference, their ratio, wall seconds of the
garnet run (gem5's start excluded: ``gem5 s``), the flits Garnet moved, flits per wall second
of the adapter's rounds (inside gem5 plus the pipe), the rounds, and the share of wall time in
the adapter's rounds.

    python benchmarks/garnet_backend.py [--filter SUBSTR] [--size MIB] [--write]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import os
import platform
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.dirname(HERE)
sys.path.insert(0, PROJECT)

from adapters.garnet.locate import find_gem5                       # noqa: E402
from orchestrator.experiment.load import load_experiment          # noqa: E402
from orchestrator.experiment.model import Experiment               # noqa: E402
from orchestrator.experiment.runner import simulate                # noqa: E402
from orchestrator.workload import chakra                           # noqa: E402
from orchestrator.workload.chakra_et_pb2 import AttributeProto, Node  # noqa: E402

RESULTS = os.path.join(HERE, "results.md")
SECTION = "## Garnet backend (issue 20)"
ALGORITHMS = {"Ring": ("ring", "ring"), "Switch": ("halvingDoubling", "direct"),
              "FullyConnected": ("direct", "direct")}
COLLECTIVES = {"all_reduce": chakra.CollectiveCommType.ALL_REDUCE,
               "all_to_all": chakra.CollectiveCommType.ALL_TO_ALL}


def micro_experiment(directory: str, topology: str, collective: str, size: int) -> Experiment:
    prefix = os.path.join(directory, f"{collective}_{topology}8")
    node = Node(id=0, name=collective, type=chakra.NodeType.COMM_COLL_NODE, attr=[
        chakra.make_attr("is_cpu_op", False),
        chakra.make_attr("comm_type", COLLECTIVES[collective]),
        AttributeProto(name="comm_size", int64_val=size)])
    for npu in range(8):
        chakra.write_trace(chakra.trace_path(prefix, npu), [node])
    algorithm, a2a = ALGORITHMS[topology]
    system = {"scheduling-policy": "LIFO", "endpoint-delay": 10,
              "active-chunks-per-dimension": 1, "preferred-dataset-splits": 4,
              "all-reduce-implementation": [algorithm], "all-gather-implementation": [algorithm],
              "reduce-scatter-implementation": [algorithm],
              "all-to-all-implementation": [a2a], "collective-optimization": "localBWAware",
              "local-mem-bw": 1600}
    network = {"topology": [topology], "npus_count": [8], "bandwidth": [50.0],
               "latency": [500.0]}
    return Experiment(name=os.path.basename(prefix), workload=prefix, system=system,
                      network=network, network_backend="garnet")


@dataclasses.dataclass
class Row:
    name: str
    reference: str
    garnet_ns: int
    reference_ns: int
    wall_s: float
    startup_s: float
    flits: int
    rounds: int
    advance_s: float
    unaware_ns: int | None = None


def measure(name: str, experiment: Experiment, reference_backend: str,
            unaware: bool = False) -> Row:
    reference = simulate(dataclasses.replace(experiment, network_backend=reference_backend))
    started = time.perf_counter()
    result = simulate(dataclasses.replace(experiment, network_backend="garnet"))
    wall = time.perf_counter() - started
    stats = result.adapter_stats["network"]
    row = Row(name, reference_backend, result.total_ns, reference.total_ns,
              wall - stats["gem5_startup_s"], stats["gem5_startup_s"], int(stats["flits"]),
              int(stats["rounds"]), stats["advance_s"])
    if unaware:
        row.unaware_ns = simulate(dataclasses.replace(experiment,
                                                      network_backend="analytical")).total_ns
    print(f"{name:40s} garnet {row.garnet_ns:>10} {reference_backend} {row.reference_ns:>10} "
          f"ratio {row.garnet_ns / row.reference_ns:6.3f} wall {row.wall_s:7.2f} s "
          f"flits/s {row.flits / max(row.advance_s, 1e-9):,.0f}", flush=True)
    return row


def rows(filter_text: str, size_mib: int) -> list[Row]:
    size = size_mib << 20
    cases = []
    scratch = tempfile.mkdtemp(prefix="garnet-bench-")
    for topology in ("Ring", "Switch", "FullyConnected"):
        for collective in COLLECTIVES:
            name = f"{collective}_{topology}8_{size_mib}MiB"
            cases.append((name, lambda t=topology, c=collective: micro_experiment(
                scratch, t, c, size), "analytical-aware", True))
    tutorial = os.path.join(PROJECT, "experiments", "tutorial")
    for name in ("ex1", "ex2_2_ring", "ex2_2_switch", "ex2_2_fully_connected"):
        scale = None if name == "ex1" else size_mib / 1024
        label = f"mlsys22_{name}" + ("" if scale is None else f"_{size_mib}MiB")
        cases.append((label, lambda n=name, c=scale: _scaled(load_experiment(
            os.path.join(tutorial, f"{n}.yaml")), c), "analytical", False))
    return [measure(name, make(), reference, unaware)
            for name, make, reference, unaware in cases if filter_text in name]


def _scaled(experiment: Experiment, comm_scale: float | None) -> Experiment:
    if comm_scale is None:
        return experiment
    return dataclasses.replace(experiment, options=dataclasses.replace(experiment.options,
                                                                       comm_scale=comm_scale))


READING = """\
Reading the table: the reference is the congestion-aware analytical network for the
collective rows (the unaware time in brackets) and 1.0's analytical network for the exercises.
Garnet moves every flit through routers with virtual channels and credits; the gaps are the
head flit of every 4 KiB packet (1.5%), the interface links, routers and 1 ns injection
latency per message, and, on a Switch, that the aware model stores and forwards whole
messages at the switch while Garnet forwards flits (Garnet lands near the unaware time there,
as ns-3 does). The direct all-to-all through one switch contends on each NPU's uplink. flits/s
counts the flits the NPUs injected over the wall time of the adapter's rounds (gem5 plus the
pipe); each flit also crosses one to three routers. Wall times come from a machine shared with
other jobs (2 cores), so compare rows of one run only."""


def table(measured: list[Row]) -> str:
    lines = [SECTION, "",
             f"`python benchmarks/garnet_backend.py --write` on {platform.machine()}, Python "
             f"{platform.python_version()}, gem5 v24.0.0.1 Garnet_standalone gem5.opt, "
             f"{datetime.date.today().isoformat()}; a fresh gem5 per run. Wall = the garnet run "
             "minus gem5's start (gem5 s); rounds % = share of the wall time in the adapter's "
             "rounds (gem5 simulating, the pipe).", "",
             "| case | reference | garnet ns | reference ns | ratio | wall s | gem5 s | flits "
             "| flits/s | rounds | rounds % |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in measured:
        reference = row.reference + (f" (unaware {row.unaware_ns})" if row.unaware_ns else "")
        lines.append(
            f"| {row.name} | {reference} | {row.garnet_ns} | {row.reference_ns} | "
            f"{row.garnet_ns / row.reference_ns:.3f} | {row.wall_s:.2f} | {row.startup_s:.1f} | "
            f"{row.flits} | {row.flits / max(row.advance_s, 1e-9):,.0f} | {row.rounds} | "
            f"{100 * row.advance_s / row.wall_s:.0f} |")
    lines += ["", READING]
    return "\n".join(lines) + "\n"


def write_section(text: str) -> None:
    with open(RESULTS, encoding="utf-8") as handle:
        current = handle.read()
    if SECTION in current:
        start = current.index(SECTION)
        following = current.find("\n## ", start + len(SECTION))
        current = current[:start] + (current[following + 1:] if following >= 0 else "")
    with open(RESULTS, "w", encoding="utf-8") as handle:
        handle.write(current.rstrip("\n") + "\n\n" + text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--filter", default="", help="only rows whose name contains this")
    parser.add_argument("--size", type=int, default=4, help="collective size in MiB")
    parser.add_argument("--write", action="store_true", help="replace the section in results.md")
    args = parser.parse_args()
    find_gem5()          # one line naming the build command when there is none
    text = table(rows(args.filter, args.size))
    print(text)
    if args.write:
        write_section(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
