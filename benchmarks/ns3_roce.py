#!/usr/bin/env python3
"""RoCE in the ns-3 adapter (issue 19, docs/roce.md), run on demand (never by tests).

Three tables, all in this one process (ns-3 imported and the fabric compiled once):

* collectives: 16 MiB all-reduce and all-to-all on 8 and 16 NPUs of Ring, Switch and
  FullyConnected (50 GB/s, 500 ns; benchmarks/ns3_backend.py's inputs), RoCE against the
  analytical reference (the congestion-aware network, the unaware one for the switch
  halving-doubling all-reduce) and against TCP: simulated totals and wall seconds of the ns3
  run (import and build excluded);
* incast: 16 NPUs send 1 MiB each to NPU 0 through one switch, with PFC and DCQCN, PFC only,
  and lossy (PFC off, DCQCN on and off): last arrival, goodput against the bottleneck's line
  rate, drops, retransmitted packets, timeouts, pause frames, CNPs;
* DCQCN: 2, 4 and 8 long flows into one NPU over 40 Gb/s links (the paper's setting) started
  50 us apart: Jain's index per 1 ms and over (10, 20] ms, the first millisecond from which it
  stays >= 0.95, utilisation of the bottleneck and its mean queue; and without DCQCN.

    python benchmarks/ns3_roce.py [--filter SUBSTR] [--write]
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
sys.path.insert(0, HERE)

from ns3_backend import micro_experiment                            # noqa: E402
from orchestrator.experiment.runner import simulate                # noqa: E402

RESULTS = os.path.join(HERE, "results.md")
SECTION = "## ns-3 RoCE: PFC and DCQCN (issue 19)"
MIB = 1 << 20
BYTES_PER_NS_50 = 50 * (1 << 30) / 1e9
GBPS_40 = 40e9 / 8 / (1 << 30)


def _wall(result, started: float) -> float:
    stats = result.adapter_stats["network"]
    return time.perf_counter() - started - stats["ns3_import_s"] - stats["ns3_build_s"]


def collectives(scratch: str, only: str) -> list[str]:
    lines = ["| case | reference ns | RoCE ns | RoCE / ref | TCP ns | TCP / ref | RoCE wall s "
             "| TCP wall s | pauses | CNPs |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for npus in (8, 16):
        for topology in ("Ring", "Switch", "FullyConnected"):
            for collective in ("all_reduce", "all_to_all"):
                name = f"{collective}_{topology}{npus}_16MiB"
                if only not in name:
                    continue
                experiment = micro_experiment(scratch, topology, npus, collective, "ns3")
                reference_backend = "analytical" if (topology, collective) == \
                    ("Switch", "all_reduce") else "analytical-aware"
                reference = simulate(dataclasses.replace(
                    experiment, network_backend=reference_backend)).total_ns
                started = time.perf_counter()
                roce = simulate(dataclasses.replace(experiment,
                                                    network_options={"transport": "roce"}))
                roce_wall = _wall(roce, started)
                started = time.perf_counter()
                tcp = simulate(experiment)
                tcp_wall = _wall(tcp, started)
                stats = roce.adapter_stats["network"]
                line = (f"| {name} ({reference_backend}) | {reference} | {roce.total_ns} | "
                        f"{roce.total_ns / reference:.3f} | {tcp.total_ns} | "
                        f"{tcp.total_ns / reference:.3f} | {roce_wall:.2f} | {tcp_wall:.2f} | "
                        f"{int(stats['pauses_sent'])} | {int(stats['cnps'])} |")
                print(line, flush=True)
                lines.append(line)
    return lines


def _network(npus: int, bandwidth: float, **options):
    from adapters.ns3.model import build_ns3

    return build_ns3({"format": "v2", "network": {
        "topology": ["Switch"], "npus_count": [npus], "bandwidth": [bandwidth],
        "latency": [500.0]}, "options": {"transport": "roce", **options}}, "<benchmark>")


def _drive(model) -> dict[int, int]:
    from adapters.base import NEVER

    arrivals = {}
    while model.next_event_ns() < NEVER:
        for op, time_ns in model.advance(model.next_event_ns() + model.lookahead_ns):
            arrivals[op] = time_ns
    return arrivals


def incast(only: str) -> list[str]:
    lines = ["| fabric | last arrival ns | goodput | drops | retransmitted packets | timeouts "
             "| pause frames | CNPs | max queue KiB | wall s |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    variants = [("PFC + DCQCN", {}), ("PFC only", {"dcqcn": False}),
                ("lossy + DCQCN", {"pfc": False}), ("lossy", {"pfc": False, "dcqcn": False})]
    for name, options in variants:
        if only not in "incast " + name:
            continue
        model = _network(17, 50.0, **options)
        started = time.perf_counter()
        for src in range(1, 17):
            model.inject(src, src, 0, MIB, 0)
        arrivals = _drive(model)
        wall = time.perf_counter() - started
        stats = model.stats()
        last = max(arrivals.values())
        line = (f"| {name} | {last} | {16 * MIB / BYTES_PER_NS_50 / last:.1%} | "
                f"{stats['drops']} | {stats['retransmissions']} | {stats['timeouts']} | "
                f"{stats['pauses_sent']} | {stats['cnps']} | "
                f"{stats['link_max_queue_bytes/sw0->npu0'] / 1024:.0f} | {wall:.2f} |")
        print(line, flush=True)
        lines.append(line)
    return lines


def _jain(values: list[int]) -> float:
    total = sum(values)
    return total * total / (len(values) * sum(v * v for v in values)) if total else 0.0


def dcqcn(only: str) -> list[str]:
    lines = ["| flows | DCQCN | Jain (10, 20] ms | Jain >= 0.95 from | Jain per ms, first 10 | "
             "utilisation (10, 20] ms | mean queue KiB | pause frames | CNPs | wall s |",
             "|---:|---|---:|---:|---|---:|---:|---:|---:|---:|"]
    for flows, on in ((2, True), (4, True), (8, True), (4, False)):
        if only not in f"dcqcn {flows}":
            continue
        model = _network(flows + 1, GBPS_40, dcqcn=on)
        started = time.perf_counter()
        for src in range(1, flows + 1):
            model.inject(src, src, 0, 1 << 30, (src - 1) * 50_000)
        marks = []
        previous = [0] * flows
        at_10 = None
        for ms in range(1, 21):
            model.advance(ms * 1_000_000)
            now = [int(model.tracker.DeliveredBytes(src)) for src in range(1, flows + 1)]
            marks.append(_jain([b - a for a, b in zip(previous, now)]))
            previous = now
            if ms == 10:
                at_10 = now
        window = [b - a for a, b in zip(at_10, previous)]
        steady = next((ms + 1 for ms in range(20) if all(j >= 0.95 for j in marks[ms:])), None)
        wall = time.perf_counter() - started
        stats = model.stats()
        utilisation = sum(window) / (10_000_000 * GBPS_40 * (1 << 30) / 1e9)
        line = (f"| {flows} | {'on' if on else 'off'} | {_jain(window):.3f} | "
                f"{'-' if steady is None else f'{steady} ms'} | "
                f"{' '.join(f'{j:.2f}' for j in marks[:10])} | {utilisation:.1%} | "
                f"{stats['link_mean_queue_bytes/sw0->npu0'] / 1024:.1f} | "
                f"{stats['pauses_sent']} | {stats['cnps']} | {wall:.2f} |")
        print(line, flush=True)
        lines.append(line)
    return lines


def section(tables: list[tuple[str, list[str]]]) -> str:
    stamp = datetime.date.today().isoformat()
    head = (f"{SECTION}\n\n`python benchmarks/ns3_roce.py --write` on {platform.machine()}, "
            f"Python {platform.python_version()}, ns-3 3.44 (pip wheel), {stamp}; one process, "
            "a fresh network per row; wall seconds exclude ns-3's import and the build. The "
            "machine is shared (2 cores), so compare rows of one run only.\n")
    parts = [head]
    for title, lines in tables:
        if len(lines) > 2:
            parts.append(f"{title}\n\n" + "\n".join(lines) + "\n")
    return "\n".join(parts)


def write(text: str) -> None:
    with open(RESULTS, encoding="utf-8") as handle:
        content = handle.read()
    start = content.find(SECTION)
    if start < 0:
        content = content.rstrip("\n") + "\n\n" + text
    else:
        end = content.find("\n## ", start + len(SECTION))
        content = content[:start] + text + ("" if end < 0 else content[end:])
    with open(RESULTS, "w", encoding="utf-8") as handle:
        handle.write(content)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--filter", default="", help="run only rows whose name has this")
    parser.add_argument("--write", action="store_true", help=f"replace the section in {RESULTS}")
    args = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="ns3-roce-bench-")
    tables = [("Collectives, 16 MiB, 50 GB/s and 500 ns links:", collectives(scratch, args.filter)),
              ("Incast, 16 x 1 MiB into one NPU through one switch (50 GB/s, 500 ns):",
               incast(args.filter)),
              ("DCQCN, long flows into one NPU, 40 Gb/s links, flows start 50 us apart:",
               dcqcn(args.filter))]
    text = section(tables)
    print(text)
    if args.write:
        write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
