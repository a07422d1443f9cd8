#!/usr/bin/env python3
"""Wall-clock benchmark of the astra-cosim engine, run on demand (never imported by tests).

Rows, all timed in this one process so their ratios are comparable on a noisy machine:

* every MLSys'22 tutorial case (``mlsys22_*`` under ``../shared/reference/cases``), read in
  place when that folder exists (skipped with a printed reason otherwise);
* collectives generated here: ring all-reduce of 1 MiB on a 64-NPU and a 256-NPU 1-D Ring,
  the same 256 NPUs as a 2-D Ring 16x16 (``ring_ring``), and a 64-NPU direct all-to-all on
  FullyConnected.

Per row: best-of-N wall seconds (``time.perf_counter``), events processed, events/s and the
simulated ``total_ns`` (for tutorial cases, checked against the ``expected`` total of 1.0).

``--placement process`` measures the co-simulation overhead instead: the tutorial cases and a
generated 64-NPU ResNet-50 data-parallel trace, each run in-process and with the network
adapter in a child process (loopback ZeroMQ) in the same run, alternating; it reports the wall
ratio, the rounds per simulated iteration, the adapter start-up cost, a bare ZeroMQ round trip,
and a cProfile of one process-placement run (engine and adapter) split into socket, protobuf
and engine/model work. That section ("Co-simulation overhead") replaces only itself in
results.md; a plain run keeps it.

    python benchmarks/run_benchmarks.py [--repeats N] [--filter SUBSTR] [--profile NAME]
                                        [--placement process]
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import dataclasses
import datetime
import gc
import json
import os
import platform
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.dirname(HERE)
REFERENCE_CASES = os.path.abspath(os.path.join(PROJECT, "..", "shared", "reference", "cases"))
DEFAULT_OUT = os.path.join(HERE, "results.md")

if PROJECT not in sys.path:          # allow running from a checkout without the editable install
    sys.path.insert(0, PROJECT)

from orchestrator.cosim.placement import AdapterPlacement  # noqa: E402
from orchestrator.experiment.model import Experiment, RunOptions  # noqa: E402
from orchestrator.experiment.runner import simulate  # noqa: E402

MIB = 1 << 20
_OPTION_KEYS = {"num_passes", "comm_scale", "compute_scale", "injection_scale"}


@dataclass
class Row:
    name: str
    npus: int
    description: str
    experiment: Experiment
    expected_total_ns: int | None = None
    iterations: int = 1                # simulated training iterations (1.0 passes)


@dataclass
class Timing:
    row: Row
    best_s: float
    all_s: list[float] = field(default_factory=list)
    events: int = 0
    total_ns: int = 0


# --------------------------------------------------------------------------------------------
# Rows


def _tutorial_rows(cases_dir: str) -> tuple[list[Row], str | None]:
    """The mlsys22_* reference cases, read in place; (rows, reason they are absent)."""
    if not os.path.isdir(cases_dir):
        return [], f"reference cases not found at {cases_dir}"
    rows = []
    for name in sorted(os.listdir(cases_dir)):
        case_json = os.path.join(cases_dir, name, "case.json")
        if not name.startswith("mlsys22_") or not os.path.isfile(case_json):
            continue
        with open(case_json, encoding="utf-8") as handle:
            case = json.load(handle)
        case_dir = os.path.dirname(case_json)
        args = case.get("args", {})
        unknown = set(args) - _OPTION_KEYS
        if unknown:
            print(f"skipping {name}: unknown args {sorted(unknown)}", file=sys.stderr)
            continue
        with open(os.path.join(case_dir, case["network"]), encoding="utf-8") as handle:
            units = json.load(handle)["units-count"]
        npus = 1
        for count in units:
            npus *= int(count)
        experiment = Experiment(
            name=name,
            workload=os.path.join(case_dir, case["workload"]),
            system=os.path.join(case_dir, case["system"]),
            network=os.path.join(case_dir, case["network"]),
            network_backend=case.get("network_backend", "analytical"),
            options=RunOptions(**args))
        rows.append(Row(name, npus, case.get("description", ""), experiment,
                        case.get("expected", {}).get("total_ns"),
                        iterations=int(args.get("num_passes", 1))))
    if not rows:
        return [], f"no mlsys22_* case.json under {cases_dir}"
    return rows, None


def _system(all_reduce: str, all_to_all: str) -> dict[str, Any]:
    return {"scheduling-policy": "LIFO", "endpoint-delay": 10,
            "active-chunks-per-dimension": 1, "preferred-dataset-splits": 4, "boost-mode": 0,
            "all-reduce-implementation": all_reduce, "all-gather-implementation": all_reduce,
            "reduce-scatter-implementation": all_reduce,
            "all-to-all-implementation": all_to_all,
            "collective-optimization": "localBWAware"}


def _network(topologies: list[str], units: list[int], links: list[int]) -> dict[str, Any]:
    return {"dimensions-count": len(units), "topologies-per-dim": topologies,
            "units-count": units, "links-count": links,
            "link-latency": [500] * len(units), "link-bandwidth": [50] * len(units)}


def _micro_workload(directory: str, collective: str, size: int) -> str:
    """A one-layer MICRO workload file (the same shape as the v1-1d reference workloads)."""
    path = os.path.join(directory, f"micro_{collective.lower()}_{size}.txt")
    if not os.path.exists(path):
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(f"MICRO\n1\nmicro -1 1 NONE 0 1 NONE 0 1 {collective} {size} 1\n")
    return path


def _generated_rows(directory: str) -> list[Row]:
    all_reduce = _micro_workload(directory, "ALLREDUCE", MIB)
    all_to_all = _micro_workload(directory, "ALLTOALL", MIB)
    specs = [
        ("gen_ring64_all_reduce_1MiB", 64, "1-D Ring 64, ring all-reduce 1 MiB", all_reduce,
         _system("ring", "direct"), _network(["Ring"], [64], [2])),
        ("gen_ring256_all_reduce_1MiB", 256, "1-D Ring 256, ring all-reduce 1 MiB", all_reduce,
         _system("ring", "direct"), _network(["Ring"], [256], [2])),
        ("gen_ring2d_16x16_all_reduce_1MiB", 256, "2-D Ring 16x16, ring_ring all-reduce 1 MiB",
         all_reduce, _system("ring_ring", "direct_direct"),
         _network(["Ring", "Ring"], [16, 16], [2, 2])),
        ("gen_fc64_all_to_all_1MiB", 64, "FullyConnected 64 (63 links), direct all-to-all 1 MiB",
         all_to_all, _system("direct", "direct"), _network(["FullyConnected"], [64], [63])),
    ]
    return [Row(name, npus, text, Experiment(name=name, workload=workload, system=system,
                                             network=network))
            for name, npus, text, workload, system, network in specs]


# --------------------------------------------------------------------------------------------
# Timing and profiling


def _time_row(row: Row, repeats: int) -> Timing:
    timing = Timing(row, best_s=float("inf"))
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        result = simulate(row.experiment)
        elapsed = time.perf_counter() - start
        timing.all_s.append(elapsed)
        timing.best_s = min(timing.best_s, elapsed)
        timing.events = result.events_processed
        timing.total_ns = result.total_ns
    return timing


def _warm_up(directory: str) -> None:
    """One small untimed run first, so the first timed row does not pay for first-call costs."""
    simulate(Experiment(name="warm-up", workload=_micro_workload(directory, "ALLREDUCE", MIB),
                        system=_system("ring", "direct"), network=_network(["Ring"], [8], [2])))


def _profile_row(row: Row, top: int = 25) -> None:
    profiler = cProfile.Profile()
    gc.collect()
    start = time.perf_counter()
    profiler.enable()
    result = simulate(row.experiment)
    profiler.disable()
    elapsed = time.perf_counter() - start
    print(f"# profile of {row.name}: {row.description}")
    print(f"# {elapsed:.3f} s under cProfile, {result.events_processed} events, "
          f"total_ns {result.total_ns}\n")
    for order, title in (("cumulative", "cumulative time"), ("tottime", "total (own) time")):
        print(f"## top {top} functions by {title}")
        stats = _project_relative(pstats.Stats(profiler, stream=sys.stdout))
        stats.sort_stats(order).print_stats(top)


def _project_relative(stats: pstats.Stats) -> pstats.Stats:
    """Like ``strip_dirs`` but keeps paths inside the project (``adapters/.../base.py`` and
    ``orchestrator/.../base.py`` stay apart); other files keep only their base name."""
    def short(func: tuple[str, int, str]) -> tuple[str, int, str]:
        filename, line, name = func
        if filename.startswith(PROJECT + os.sep):
            return os.path.relpath(filename, PROJECT), line, name
        return os.path.basename(filename), line, name

    renamed: dict[Any, Any] = {}
    for func, (cc, nc, tt, ct, callers) in stats.stats.items():   # type: ignore[attr-defined]
        key = short(func)
        callers = {short(caller): value for caller, value in callers.items()}
        if key in renamed:
            renamed[key] = pstats.add_func_stats(renamed[key], (cc, nc, tt, ct, callers))
        else:
            renamed[key] = (cc, nc, tt, ct, callers)
    stats.stats = renamed                                            # type: ignore[attr-defined]
    stats.top_level = {short(func) for func in stats.top_level}      # type: ignore[attr-defined]
    stats.fcn_list = None                                            # type: ignore[attr-defined]
    stats.all_callees = None                                         # type: ignore[attr-defined]
    return stats


# --------------------------------------------------------------------------------------------
# Report


def _git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT,
                             capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    try:
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=PROJECT, capture_output=True, text=True,
                               check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        dirty = ""
    return out + (" (with uncommitted changes)" if dirty else "")


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _report(timings: list[Timing], repeats: int, filter_text: str | None,
            skipped: list[str]) -> str:
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    machine = (f"{platform.platform()}, Python {platform.python_version()} "
               f"({platform.python_implementation()}), {os.cpu_count()} CPUs ({_cpu_name()})")
    lines = [
        "# astra-cosim engine benchmark",
        "",
        f"**{now}** · machine: {machine} · commit `{_git_commit()}` · "
        f"best of {repeats} repeat(s)" + (f" · filter `{filter_text}`" if filter_text else ""),
        "",
        "Reproduce with `python benchmarks/run_benchmarks.py [--repeats N] [--filter SUBSTR]` "
        "from the project root (it writes this file and prints it; `--profile NAME` runs one "
        "row under cProfile instead). All rows run in one process, one after the other, so "
        "their ratios are comparable; absolute seconds vary with machine load. Wall time is "
        "the best of N calls to `orchestrator.experiment.runner.simulate` (file parsing "
        "included; one small untimed warm-up run precedes the rows) measured with "
        "`time.perf_counter`; `total_ns` is the simulated time the "
        "run reports (for tutorial cases, `ok` means it equals ASTRA-sim 1.0's expected "
        "value from case.json). Tutorial cases are read in place from "
        "`../shared/reference/cases`; `gen_*` rows are generated by the script.",
        "",
        "| case | NPUs | wall s (best) | events | events/s | total_ns | vs 1.0 |",
        "|---|---:|---:|---:|---:|---:|:---:|",
    ]
    for t in timings:
        rate = t.events / t.best_s if t.best_s > 0 else float("nan")
        if t.row.expected_total_ns is None:
            check = "—"
        else:
            check = "ok" if t.total_ns == t.row.expected_total_ns else \
                f"**differs** (1.0: {t.row.expected_total_ns})"
        lines.append(f"| {t.row.name} | {t.row.npus} | {t.best_s:.4f} | {t.events:,} | "
                     f"{rate:,.0f} | {t.total_ns:,} | {check} |")
    total = sum(t.best_s for t in timings)
    lines += ["", f"Sum of best wall times: {total:.2f} s over {len(timings)} row(s)."]
    for reason in skipped:
        lines.append(f"\nSkipped: {reason}.")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# Co-simulation overhead (--placement process)

COSIM_SECTION = "## Co-simulation overhead"
COSIM_PROFILE_ROW = "gen_resnet50_dp64_ring64"
_RESNET_WORKLOAD = ("v1-workload_DATA_Ring16_base", "Resnet50_DataParallel.txt")
# The 2.x system of the v2-workload ResNet-50 reference case (upstream's Ring_4chunks.json),
# without boost-mode, which 2.x does not read.
_V2_RING_SYSTEM = {"scheduling-policy": "LIFO", "endpoint-delay": 10,
                   "active-chunks-per-dimension": 1, "preferred-dataset-splits": 4,
                   "all-reduce-implementation": ["ring"], "all-gather-implementation": ["ring"],
                   "reduce-scatter-implementation": ["ring"],
                   "all-to-all-implementation": ["ring"],
                   "collective-optimization": "localBWAware", "local-mem-bw": 1600,
                   "roofline-enabled": 0, "peak-perf": 900}
_ECHO_SERVER = """
import sys, zmq
sock = zmq.Context.instance().socket(zmq.REP)
sock.bind(sys.argv[1])
while True:
    message = sock.recv()
    sock.send(message)
    if not message:
        break
"""


@dataclass
class CosimTiming:
    row: Row
    inprocess_s: float = float("inf")
    process_s: float = float("inf")
    ipc_s: float = float("inf")      # process placement over a Unix socket instead of tcp
    pipe_s: float = float("inf")     # process placement over a socket pair (no ZeroMQ)
    pipe_cpu_s: float = float("inf")
    inprocess_cpu_s: float = float("inf")
    process_cpu_s: float = float("inf")   # engine + adapter (user + system), best run
    rounds: int = 0
    asked: int = 0                   # injections the adapter was asked about
    reused: int = 0                  # injections answered from a pure model's known delays
    messages: int = 0
    protocol_bytes: int = 0
    wait_s: float = 0.0              # engine blocked on the adapter, best process run
    total_ns: int = 0
    differences: list[str] = field(default_factory=list)


def _resnet_row(cases_dir: str, directory: str) -> tuple[Row | None, str | None]:
    """ResNet-50 data parallel on 64 NPUs: the 1.0 text workload of the v1-workload DATA case
    converted with ``astra-cosim trace convert``, on a 2.x congestion-unaware Ring 64."""
    source = os.path.join(cases_dir, *_RESNET_WORKLOAD)
    if not os.path.isfile(source):
        return None, f"ResNet-50 workload not found at {source}"
    from orchestrator.cli.main import main as cli_main

    prefix = os.path.join(directory, "et", "resnet")
    with contextlib.redirect_stdout(sys.stderr):
        code = cli_main(["trace", "convert", "--workload", source, "--npus", "64",
                         "--out", prefix])
    if code != 0:
        return None, f"astra-cosim trace convert failed on {source} (exit {code})"
    system = os.path.join(directory, "sys_ring_a2a-ring_s4_a1_e10_m1600_localBWAware_LIFO.json")
    with open(system, "w", encoding="utf-8") as handle:
        json.dump(_V2_RING_SYSTEM, handle, indent=2)
    network = os.path.join(directory, "net_Ring64_bw50_lat500.yml")
    with open(network, "w", encoding="utf-8") as handle:
        handle.write("topology: [ Ring ]\nnpus_count: [ 64 ]\nbandwidth: [ 50.0 ]  # GB/s\n"
                     "latency: [ 500.0 ]  # ns\n")
    return Row(COSIM_PROFILE_ROW, 64,
               "ResNet-50 data parallel, 1.0 text workload converted to Chakra ET (one "
               "iteration), 2.x congestion-unaware Ring 64, 50 GB/s, 500 ns",
               Experiment(name=COSIM_PROFILE_ROW, workload=prefix, system=system,
                          network=network, network_backend="analytical")), None


def _in_process(experiment: Experiment) -> Experiment:
    return dataclasses.replace(experiment, placement=AdapterPlacement("inprocess"))


def _in_child(experiment: Experiment, transport: str = "tcp") -> Experiment:
    return dataclasses.replace(experiment, placement=AdapterPlacement("process",
                                                                      transport=transport))


def _simulated(result: Any) -> dict[str, Any]:
    """Everything a run decides (summary.json without the "cosim" metrics)."""
    fields = dataclasses.asdict(result)
    fields.pop("cosim", None)
    return fields


def _cpu_s() -> float:
    """CPU seconds (user + system) of this process and of its reaped children (a spawned
    adapter is reaped when its run closes it)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _timed(experiment: Experiment) -> tuple[Any, float, float]:
    """One run: its result, wall seconds and CPU seconds (engine and adapter)."""
    gc.collect()
    cpu, start = _cpu_s(), time.perf_counter()
    result = simulate(experiment)
    return result, time.perf_counter() - start, _cpu_s() - cpu


def _time_cosim_row(row: Row, repeats: int) -> CosimTiming:
    """Both placements of one row, alternating, best of ``repeats`` each."""
    timing = CosimTiming(row)
    for _ in range(repeats):
        inproc, elapsed, cpu = _timed(_in_process(row.experiment))
        timing.inprocess_s = min(timing.inprocess_s, elapsed)
        timing.inprocess_cpu_s = min(timing.inprocess_cpu_s, cpu)
        child, elapsed, cpu = _timed(_in_child(row.experiment))
        net_in, net_child = inproc.cosim["network"], child.cosim["network"]
        timing.process_cpu_s = min(timing.process_cpu_s, cpu)
        if elapsed < timing.process_s:
            timing.process_s = elapsed
            timing.wait_s = net_child["wait_s"]
            timing.protocol_bytes = net_child["protocol_bytes"]
        timing.rounds, timing.messages = net_child["rounds"], net_child["messages"]
        timing.asked, timing.reused = net_child["asked"], net_child["reused"]
        timing.total_ns = child.total_ns
        over_ipc, elapsed, _ = _timed(_in_child(row.experiment, "ipc"))
        timing.ipc_s = min(timing.ipc_s, elapsed)
        over_pipe, elapsed, cpu = _timed(_in_child(row.experiment, "pipe"))
        timing.pipe_s = min(timing.pipe_s, elapsed)
        timing.pipe_cpu_s = min(timing.pipe_cpu_s, cpu)
        a = _simulated(inproc)
        for b in (_simulated(child), _simulated(over_ipc), _simulated(over_pipe)):
            for key in sorted(set(a) | set(b)):
                if a.get(key) != b.get(key) and key not in timing.differences:
                    timing.differences.append(key)
        for key in ("rounds", "messages", "bytes_sent", "asked", "reused"):
            for other in (net_child, over_pipe.cosim["network"]):
                if net_in[key] != other[key] and f"cosim.{key}" not in timing.differences:
                    timing.differences.append(f"cosim.{key}")
    return timing


def _startup_cost(repeats: int) -> float:
    """Best wall seconds to spawn an adapter, import it, handshake and shut it down: the
    fixed price every process-placement run pays once."""
    from orchestrator.cosim.placement import open_network
    from orchestrator.engine.clock import EventQueue

    doc = {"topology": ["Ring"], "npus_count": [8], "bandwidth": [50.0], "latency": [500.0]}
    best = float("inf")
    for _ in range(max(2 * repeats, 7)):
        start = time.perf_counter()
        port = open_network(EventQueue(), "analytical-v2", doc, 8, "v2",
                            AdapterPlacement("process"), "<benchmark>")
        port.client.close()
        best = min(best, time.perf_counter() - start)
    return best


def _round_overhead(messages: int, transport: str, count: int = 400, batches: int = 5
                    ) -> float:
    """Seconds one round costs a spawned adapter beyond the same round called in-process:
    ``messages`` injections (a ring's sends) handed over and their arrivals read back, through
    the engine's round client (no port: a pure model's delays are not reused here); best
    batch mean of the difference."""
    from adapters.registry import build_network
    from orchestrator.cosim.inprocess import InProcessClient
    from orchestrator.cosim.placement import _connect

    doc = {"topology": ["Ring"], "npus_count": [64], "bandwidth": [50.0], "latency": [500.0]}
    local = InProcessClient(build_network("analytical-v2", doc, "<benchmark>"))
    remote, _ = _connect("network", "analytical-v2", doc,
                         AdapterPlacement("process", transport=transport), lambda: 0)
    try:
        best = {id(local): float("inf"), id(remote): float("inf")}
        op = 0
        for _ in range(batches):
            for client in (local, remote):
                start = time.perf_counter()
                for index in range(count):
                    now = index * 100_000
                    injections = [(op + i, i % 64, (i + 1) % 64, 1 << 20, now)
                                  for i in range(messages)]
                    op += messages
                    client.round(now + 1, injections)
                best[id(client)] = min(best[id(client)],
                                       (time.perf_counter() - start) / count)
        return best[id(remote)] - best[id(local)]
    finally:
        remote.close()


def _echo_round_trip(size: int, count: int = 1000, batches: int = 5) -> float:
    """Seconds of a bare ZeroMQ REQ/REP round trip over loopback with ``size``-byte messages,
    Python at both ends (no protobuf, no simulation): the best batch mean, like the best-of
    wall times it is compared with."""
    import zmq

    from orchestrator.cosim.spawn import _free_tcp_port

    endpoint = f"tcp://127.0.0.1:{_free_tcp_port()}"
    server = subprocess.Popen([sys.executable, "-c", _ECHO_SERVER, endpoint],
                              stdin=subprocess.DEVNULL)
    sock = zmq.Context.instance().socket(zmq.REQ)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.RCVTIMEO, 10_000)
    try:
        sock.connect(endpoint)
        payload = b"x" * max(size, 1)
        for _ in range(200):                       # connection set-up and warm-up
            sock.send(payload)
            sock.recv()
        best = float("inf")
        for _ in range(batches):
            start = time.perf_counter()
            for _ in range(count):
                sock.send(payload)
                sock.recv()
            best = min(best, (time.perf_counter() - start) / count)
        sock.send(b"")
        sock.recv()
        return best
    finally:
        sock.close(linger=0)
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _codec_round_cost(messages_per_round: int, count: int = 500, batches: int = 5) -> float:
    """Seconds of the protobuf work of one round, both sides, unprofiled: build and serialise
    the request, parse it and read every injection's fields, build and serialise the reply,
    parse it and read the arrivals (what ZmqClient and NetworkServer do); best batch mean."""
    from orchestrator.cosim import codec

    n = max(messages_per_round, 1)
    injections = [(1_000_000 + i, i % 64, (i + 1) % 64, 1_048_576 + i, 10_000_000 + i)
                  for i in range(n)]
    arrivals = [(1_000_000 + i, 10_021_000 + i) for i in range(n)]
    best = float("inf")
    for _ in range(batches):
        start = time.perf_counter()
        for seq in range(1, count + 1):
            request = codec.encode(seq, "round", codec.round_request(10_000_000, injections))
            envelope, _ = codec.decode(request)
            _ = codec.injections(envelope.round)
            reply = codec.encode(seq, "round_reply", codec.round_reply(arrivals, 10_020_000))
            _, content, _ = codec.decode_reply(reply, seq, "network", "benchmark")
            _ = codec.arrivals(content)
        best = min(best, (time.perf_counter() - start) / count)
    return best


def _category(func: tuple[str, int, str], side: str) -> str:
    """Which kind of work one profiled function is (raw cProfile key, full paths)."""
    filename, _, name = func
    path = filename.replace(os.sep, "/")
    if "/zmq/" in path or "zmq" in name:
        return "idle" if side == "adapter" and "poll" in name else "socket"
    if (path.endswith(("orchestrator/cosim/codec.py", "orchestrator/cosim/cosim_pb2.py"))
            or "/google/protobuf/" in path or "google." in name
            # reading the fields of received messages (arrivals; injections)
            or (path.endswith("orchestrator/cosim/client.py") and name == "<listcomp>")
            or (path.endswith("orchestrator/cosim/server.py") and name == "on_round")):
        return "protobuf"
    if side == "adapter":
        return "model" if "/adapters/" in path else "other"
    return "engine"


def _breakdown(stats: pstats.Stats, side: str) -> dict[str, float]:
    seconds: dict[str, float] = {}
    for func, (_, _, own, _, _) in stats.stats.items():             # type: ignore[attr-defined]
        kind = _category(func, side)
        seconds[kind] = seconds.get(kind, 0.0) + own
    return seconds


def _profile_cosim(row: Row, directory: str, top: int = 0) -> dict[str, Any]:
    """One process-placement run with the engine under cProfile here and the adapter server
    under cProfile in its own process (reached by endpoint, as ``--adapter network=...``)."""
    from orchestrator.cosim.spawn import _free_tcp_port

    endpoint = f"tcp://127.0.0.1:{_free_tcp_port()}"
    adapter_profile = os.path.join(directory, "adapter.prof")
    adapter = subprocess.Popen(
        [sys.executable, "-m", "cProfile", "-o", adapter_profile, "-m", "orchestrator",
         "adapter", "serve", "network", "--bind", endpoint, "--one-engine",
         "--parent-pid", str(os.getpid()), "--idle-timeout", "600"],
        cwd=PROJECT, stdin=subprocess.DEVNULL)
    experiment = dataclasses.replace(row.experiment, placement=AdapterPlacement(
        endpoint=endpoint, timeout_s=600.0))
    profiler = cProfile.Profile()
    try:
        gc.collect()
        start = time.perf_counter()
        profiler.enable()
        result = simulate(experiment)
        profiler.disable()
        elapsed = time.perf_counter() - start
        adapter.wait(timeout=60)                     # it exits after the shutdown request
    finally:
        profiler.disable()
        if adapter.poll() is None:
            adapter.terminate()
            try:
                adapter.wait(timeout=5)
            except subprocess.TimeoutExpired:
                adapter.kill()
                adapter.wait()
    engine_stats = pstats.Stats(profiler)
    adapter_stats = pstats.Stats(adapter_profile)
    if top:
        network = result.cosim["network"]
        print(f"# profile of {row.name} in process placement: {row.description}")
        print(f"# {elapsed:.3f} s under cProfile, {result.events_processed} events, "
              f"{network['rounds']} rounds, {network['messages']} messages, "
              f"total_ns {result.total_ns}\n")
        for title, stats in (("engine", engine_stats), ("adapter", adapter_stats)):
            print(f"## {title}: top {top} functions by total (own) time")
            _project_relative(stats).sort_stats("tottime").print_stats(top)
    return {"elapsed_s": elapsed, "result": result,
            "engine": _breakdown(pstats.Stats(profiler), "engine"),
            "adapter": _breakdown(pstats.Stats(adapter_profile), "adapter")}


def _pct(part: float, whole: float) -> str:
    return f"{100.0 * part / whole:.0f}%" if whole > 0 else "n/a"


def _cosim_report(timings: list[CosimTiming], repeats: int, filter_text: str | None,
                  startup_s: float, echo: tuple[int, float] | None,
                  codec_cost: tuple[int, float] | None,
                  overheads: dict[tuple[int, str], float], profile: dict[str, Any] | None,
                  skipped: list[str]) -> str:
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        COSIM_SECTION,
        "",
        f"**{now}** · {os.cpu_count()} CPUs ({_cpu_name()}), Python "
        f"{platform.python_version()} · commit `{_git_commit()}` · best of {repeats} "
        "repeat(s) per placement" + (f" · filter `{filter_text}`" if filter_text else ""),
        "",
        "Reproduce with `python benchmarks/run_benchmarks.py --placement process [--repeats N] "
        "[--filter SUBSTR]` (it rewrites only this section; `--profile NAME --placement "
        "process` prints the engine's and the adapter's top functions for one row). Each row "
        "runs the same experiment in-process (the network model called directly) and with "
        "`--placement process` (the engine spawns `astra-cosim adapter serve network` and "
        "exchanges protos/cosim.proto rounds with it over loopback ZeroMQ), alternating, in "
        "this one process. Wall seconds are the best of N per placement, the process runs "
        "including their adapter's start-up; CPU seconds are the best of N too, the engine's "
        "plus (process placement) its adapter child's, user and system. Rows marked "
        "`symmetry off` simulate every NPU; the others run as the engine does by default, "
        "simulating one NPU when the run is symmetric (orchestrator/symmetry). `rounds/iter` "
        "is the number of synchronisation rounds per simulated training iteration (1.0 "
        "passes; the converted trace is one iteration); `reused` is the share of injections "
        "(a reduced run injects each message and its relabelled copy) whose delay the "
        "engine took from a pure network's earlier answers instead of asking "
        "(docs/cosim.md, \"Pure networks\"); `wait s` is the time the engine spent blocked "
        "on the adapter in the best process run (`cosim.network.wait_s`). `same` means the "
        "simulated results (summary.json without `cosim`) and the rounds, messages, bytes "
        "sent, asked and reused were identical in every placement. `ipc s` is the process "
        "placement over a Unix socket (`--transport ipc`) instead of loopback TCP, best of N "
        "as well; `pipe s` and `CPU pipe s` over a socket pair the engine shares with its "
        "child (`--transport pipe`, orchestrator/cosim/frames.py: no ZeroMQ).",
        "",
        "| case | NPUs | in-process s | process s | ratio | ipc s | ipc ratio | pipe s | "
        "pipe ratio | CPU in-process s | CPU process s | CPU ratio | CPU pipe s | CPU pipe "
        "ratio | rounds | rounds/iter | messages | reused | wait s | same |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        "---:|---:|:---:|",
    ]
    for t in timings:
        ratio = t.process_s / t.inprocess_s if t.inprocess_s > 0 else float("nan")
        same = "yes" if not t.differences else "**no**: " + ", ".join(t.differences)
        lines.append(
            f"| {t.row.name} | {t.row.npus} | {t.inprocess_s:.3f} | {t.process_s:.3f} | "
            f"{ratio:.2f}x | {t.ipc_s:.3f} | {t.ipc_s / t.inprocess_s:.2f}x | "
            f"{t.pipe_s:.3f} | {t.pipe_s / t.inprocess_s:.2f}x | "
            f"{t.inprocess_cpu_s:.3f} | {t.process_cpu_s:.3f} | "
            f"{t.process_cpu_s / t.inprocess_cpu_s:.2f}x | {t.pipe_cpu_s:.3f} | "
            f"{t.pipe_cpu_s / t.inprocess_cpu_s:.2f}x | "
            f"{t.rounds:,} | {t.rounds / t.row.iterations:,.1f} | {t.messages:,} | "
            f"{_pct(t.reused, t.reused + t.asked) if t.reused + t.asked else '—'} | "
            f"{t.wait_s:.2f} | {same} |")
    total_in = sum(t.inprocess_s for t in timings)
    total_child = sum(t.process_s for t in timings)
    total_ipc = sum(t.ipc_s for t in timings)
    total_pipe = sum(t.pipe_s for t in timings)
    lines += [
        "",
        f"Sum over {len(timings)} row(s): {total_in:.2f} s in-process, {total_child:.2f} s in "
        f"process placement ({total_child / total_in if total_in else float('nan'):.2f}x), "
        f"{total_ipc:.2f} s over ipc ({total_ipc / total_in if total_in else float('nan'):.2f}x), "
        f"{total_pipe:.2f} s over pipe "
        f"({total_pipe / total_in if total_in else float('nan'):.2f}x). "
        "Adapter start-up (spawn — a fork of this single-threaded engine, "
        "orchestrator/cosim/spawn.py — handshake, shutdown; best of several): "
        f"{startup_s:.3f} s per run."
        + (f" A bare ZeroMQ REQ/REP round trip on loopback with {echo[0]:,}-byte messages, "
           f"Python at both ends, takes {echo[1] * 1e6:.0f} µs (best batch)." if echo else "")
        + (f" The protobuf work of one round of {codec_cost[0]} injections asked (request built, "
           "serialised, parsed and read; reply likewise; both sides' share, no socket) takes "
           f"{codec_cost[1] * 1e6:.0f} µs (best batch)." if codec_cost else ""),
        "",
        "Per-round overhead (a spawned adapter's round beyond the same round called "
        "in-process, through the engine's round client, best batch mean of 400 rounds): "
        + "; ".join(f"{messages} message(s) per round {overheads[(messages, 'tcp')] * 1e6:.0f} "
                    f"µs over tcp, {overheads[(messages, 'ipc')] * 1e6:.0f} µs over ipc, "
                    f"{overheads[(messages, 'pipe')] * 1e6:.0f} µs over pipe"
                    for messages in sorted({m for m, _ in overheads})) + ".",
    ]
    if profile is not None:
        profiled = next((t for t in timings if t.row.name == profile["result"].name), None)
        lines += ["", *_profile_paragraph(profile, profiled, startup_s, echo, codec_cost)]
    for reason in skipped:
        lines.append(f"\nSkipped: {reason}.")
    return "\n".join(lines) + "\n"


def _profile_paragraph(profile: dict[str, Any], timing: CosimTiming | None, startup_s: float,
                       echo: tuple[int, float] | None,
                       codec_cost: tuple[int, float] | None) -> list[str]:
    engine, adapter = profile["engine"], profile["adapter"]
    network = profile["result"].cosim["network"]
    rounds = network["rounds"] or 1
    messages = max(network["messages"], 1)
    engine_total = sum(engine.values())
    e_socket, e_proto = engine.get("socket", 0.0), engine.get("protobuf", 0.0)
    e_work = engine.get("engine", 0.0)
    a_busy = sum(v for k, v in adapter.items() if k != "idle")
    a_model, a_proto = adapter.get("model", 0.0), adapter.get("protobuf", 0.0)
    a_socket, a_other = adapter.get("socket", 0.0), adapter.get("other", 0.0)
    # engine blocked in ZeroMQ, less what the adapter did meanwhile (apart from its own
    # socket calls): the round trips themselves
    transport = max(e_socket - (a_busy - a_socket), 0.0)
    protobuf = e_proto + a_proto
    name = profile["result"].name
    rows = [
        "### What dominates",
        "",
        f"cProfile of one process-placement run of `{name}` ({network['rounds']:,} rounds, "
        f"{network['messages']:,} messages, {network['protocol_bytes'] / rounds:,.0f} protocol "
        "bytes per round), the engine profiled here and the adapter server in its own process "
        "under its own profiler (reached by endpoint); own time per kind of work, seconds:",
        "",
        "| side | total | ZeroMQ socket | protobuf | engine work / network model | other "
        "| idle (waiting for the engine) |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| engine | {engine_total:.2f} | {e_socket:.2f} ({_pct(e_socket, engine_total)}) | "
        f"{e_proto:.2f} ({_pct(e_proto, engine_total)}) | {e_work:.2f} "
        f"({_pct(e_work, engine_total)}) | — | — |",
        f"| adapter | {sum(adapter.values()):.2f} | {a_socket:.2f} | {a_proto:.2f} | "
        f"{a_model:.2f} | {a_other:.2f} | {adapter.get('idle', 0.0):.2f} |",
        "",
        "(ZeroMQ socket = time inside pyzmq, for the engine mostly blocked in `poll` until the "
        "reply comes; protobuf = `orchestrator/cosim/codec.py`, the upb message methods, and "
        "reading the fields of received arrivals and injections; engine work = workload, "
        "system layer, event queue and the network port's matching, which an in-process run "
        "does too; adapter other = its start-up imports and the serve/dispatch loop.)",
        "",
    ]
    text = (
        f"Engine work, which an in-process run spends as well, is {_pct(e_work, engine_total)} "
        "of the engine's profiled time; placement's cost lies in the rest. Under the profiler "
        f"the engine sat {e_socket:.1f} s in ZeroMQ, of which the adapter was busy "
        f"{a_busy - a_socket:.1f} s (network model {a_model:.1f} s — work moved, not added — "
        f"protobuf {a_proto:.1f} s, start-up and dispatch loop {a_other:.1f} s), leaving "
        f"{transport:.1f} s ({transport / rounds * 1e6:.0f} µs per round) for the round trips "
        f"themselves, against {protobuf:.1f} s of protobuf work on both sides "
        f"({protobuf / rounds * 1e6:.0f} µs per round, {protobuf / messages * 1e6:.1f} µs per "
        "message). cProfile inflates Python-level work (protobuf loops, the engine) several-fold "
        "but not time blocked in the kernel, so the unprofiled run decides: ")
    if timing is not None and echo is not None and codec_cost is not None and timing.rounds:
        overhead = timing.process_s - timing.inprocess_s - startup_s
        parts = {"socket round trips": timing.rounds * echo[1],
                 "protobuf encoding and decoding": timing.rounds * codec_cost[1]}
        parts["the remainder"] = max(overhead - sum(parts.values()), 0.0)
        largest = max(parts, key=parts.get)
        if parts[largest] >= 0.5 * overhead:
            verdict = f"**{largest} " + \
                ("dominate**" if largest.startswith("socket") else "dominates**")
        else:
            verdict = f"**no single cost dominates**; the largest share is {largest}"
        text += (
            f"there process placement added {overhead:.1f} s beyond start-up "
            f"({timing.process_s:.1f} s against {timing.inprocess_s:.1f} s), "
            f"{overhead / timing.rounds * 1e6:.0f} µs per round. At the bare costs measured "
            f"above, its {timing.rounds:,} rounds account for "
            + ", ".join(f"{seconds:.1f} s ({_pct(seconds, overhead)}) of {what}"
                        for what, seconds in parts.items())
            + " (the adapter's dispatch loop, per-request polling, and the two processes "
            f"taking turns on the CPUs), so {verdict}. Every part is paid per round, so the "
            "overhead follows the rounds per iteration; engine work is not what grows.")
    else:
        text += "(no unprofiled timing of this row in this run)."
    rows.append(text)
    return rows


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return ""


def _split_sections(text: str) -> tuple[str, str, str]:
    """(engine benchmark part, co-simulation section, later sections such as the sweep
    throughput one) of a results.md; the co-simulation section ends at the next '## '."""
    if text.startswith(COSIM_SECTION + "\n"):
        marker = -1
    else:
        marker = text.find("\n" + COSIM_SECTION + "\n")
        if marker < 0:
            return text, "", ""
    start = marker + 1
    end = text.find("\n## ", start + len(COSIM_SECTION))
    if end < 0:
        return text[:start], text[start:], ""
    return text[:start], text[start:end + 1], text[end + 1:]


def cosim_main(args: argparse.Namespace) -> int:
    """``--placement process``: in-process vs process placement, same run."""
    skipped: list[str] = []
    tutorial, reason = _tutorial_rows(args.cases)
    if reason:
        print(f"skipping the MLSys'22 tutorial rows: {reason}", file=sys.stderr)
        skipped.append(f"MLSys'22 tutorial rows ({reason})")
    with tempfile.TemporaryDirectory(prefix="astra-cosim-bench-") as workdir:
        resnet, reason = _resnet_row(args.cases, workdir)
        if reason:
            print(f"skipping {COSIM_PROFILE_ROW}: {reason}", file=sys.stderr)
            skipped.append(f"{COSIM_PROFILE_ROW} ({reason})")
        rows = tutorial + ([resnet] if resnet else [])
        if args.list:
            for row in rows:
                print(f"{row.name:40s} {row.npus:4d} NPUs  {row.description}")
            return 0
        if args.profile:
            exact = [row for row in rows if row.name == args.profile]
            matches = exact or [row for row in rows if args.profile in row.name]
            if len(matches) != 1:
                names = ", ".join(row.name for row in matches) or "none"
                print(f"--profile {args.profile!r} must name one row; matches: {names}",
                      file=sys.stderr)
                return 2
            _warm_up(workdir)
            _profile_cosim(matches[0], workdir, top=25)
            return 0
        if args.filter:
            wanted = [part for part in args.filter.split(",") if part]
            rows = [row for row in rows if any(part in row.name for part in wanted)]
        if not rows:
            print("no row to run" + (f": none contains {args.filter!r}" if args.filter
                                      else ""), file=sys.stderr)
            return 2
        modes = ("auto", "off") if args.symmetry == "both" else (args.symmetry,)
        rows = [dataclasses.replace(
                    row, name=row.name if mode == "auto" else f"{row.name} · symmetry off",
                    experiment=dataclasses.replace(row.experiment, symmetry=mode))
                for row in rows for mode in modes]

        _warm_up(workdir)
        print("measuring the adapter start-up ...", end=" ", file=sys.stderr, flush=True)
        startup_s = _startup_cost(args.repeats)
        print(f"{startup_s:.3f} s", file=sys.stderr, flush=True)
        timings = []
        for row in rows:
            print(f"running {row.name} in-process and in a child process ...", end=" ",
                  file=sys.stderr, flush=True)
            timing = _time_cosim_row(row, args.repeats)
            print(f"{timing.inprocess_s:.3f} s / {timing.process_s:.3f} s"
                  + (f"  DIFFERS: {timing.differences}" if timing.differences else ""),
                  file=sys.stderr, flush=True)
            timings.append(timing)
        # bare round trip at the mean message size (each way) of the profiled row, or of all
        sized = [t for t in timings if t.rounds and t.row.name == args.cosim_profile] or \
            [t for t in timings if t.rounds]
        echo = codec_cost = None
        if sized:
            size = int(sum(t.protocol_bytes for t in sized) / sum(t.rounds for t in sized) / 2)
            echo = (size, _echo_round_trip(size))
            per_round = sum(t.asked for t in sized) / sum(t.rounds for t in sized)
            codec_cost = (round(per_round), _codec_round_cost(round(per_round)))
        print("measuring the per-round overhead ...", file=sys.stderr, flush=True)
        overheads = {(messages, transport): _round_overhead(messages, transport)
                     for messages in (1, 64, 256) for transport in ("tcp", "ipc", "pipe")}
        profile = None
        targets = [row for row in rows if row.name == args.cosim_profile]
        if args.cosim_profile != "none" and targets:
            print(f"profiling {targets[0].name} in process placement ...", file=sys.stderr,
                  flush=True)
            profile = _profile_cosim(targets[0], workdir)
        elif args.cosim_profile != "none":
            skipped.append(f"profile of {args.cosim_profile} (not among the rows run)")

    section = _cosim_report(timings, args.repeats, args.filter, startup_s, echo, codec_cost,
                            overheads, profile, skipped)
    print(section)
    if not args.no_write:
        engine_part, _, later = _split_sections(_read(args.out))
        text = (engine_part.rstrip("\n") + "\n\n" if engine_part.strip() else "") + section
        if later:
            text = text.rstrip("\n") + "\n\n" + later
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(text)
        print(f"(section written to {os.path.relpath(args.out)})", file=sys.stderr)
    return 0 if all(not t.differences for t in timings) else 1


# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs per row; the best wall time is reported (default 3)")
    parser.add_argument("--filter", metavar="SUBSTR",
                        help="only rows whose name contains SUBSTR (several: comma-separated)")
    parser.add_argument("--profile", metavar="NAME",
                        help="run only the named row (exact name, or a unique substring) under "
                             "cProfile and print the top 25 functions by cumulative and by "
                             "total time; results.md is not written")
    parser.add_argument("--cases", default=REFERENCE_CASES,
                        help=f"reference cases folder (default {REFERENCE_CASES})")
    parser.add_argument("--out", default=DEFAULT_OUT,
                        help="markdown file to write (default benchmarks/results.md)")
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    parser.add_argument("--list", action="store_true", help="list the row names and exit")
    parser.add_argument("--placement", choices=("inprocess", "process"), default="inprocess",
                        help="'process': compare in-process with process placement of the "
                             "network adapter (tutorial cases and a 64-NPU ResNet-50 trace) "
                             "and write the 'Co-simulation overhead' section of results.md; "
                             "with --profile, profile that row in process placement (engine "
                             "and adapter)")
    parser.add_argument("--symmetry", choices=("both", "auto", "off"), default="both",
                        help="with --placement process: run every row with symmetry reduction "
                             "(auto), with every NPU simulated (off), or both (default)")
    parser.add_argument("--cosim-profile", metavar="NAME", default=COSIM_PROFILE_ROW,
                        help="with --placement process: the row profiled for the breakdown "
                             f"(default {COSIM_PROFILE_ROW}; 'none' to skip)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    if args.placement == "process":
        return cosim_main(args)

    skipped: list[str] = []
    tutorial, reason = _tutorial_rows(args.cases)
    if reason:
        print(f"skipping the MLSys'22 tutorial rows: {reason}", file=sys.stderr)
        skipped.append(f"MLSys'22 tutorial rows ({reason})")

    with tempfile.TemporaryDirectory(prefix="astra-cosim-bench-") as workdir:
        rows = tutorial + _generated_rows(workdir)
        if args.list:
            for row in rows:
                print(f"{row.name:40s} {row.npus:4d} NPUs  {row.description}")
            return 0

        if args.profile:
            exact = [row for row in rows if row.name == args.profile]
            matches = exact or [row for row in rows if args.profile in row.name]
            if len(matches) != 1:
                names = ", ".join(row.name for row in matches) or "none"
                print(f"--profile {args.profile!r} must name one row; matches: {names}",
                      file=sys.stderr)
                return 2
            _warm_up(workdir)
            _profile_row(matches[0])
            return 0

        if args.filter:
            rows = [row for row in rows if args.filter in row.name]
            if not rows:
                print(f"no row name contains {args.filter!r}", file=sys.stderr)
                return 2

        _warm_up(workdir)
        timings = []
        for row in rows:
            print(f"running {row.name} ...", end=" ", file=sys.stderr, flush=True)
            timing = _time_row(row, args.repeats)
            print(f"{timing.best_s:.3f} s", file=sys.stderr, flush=True)
            timings.append(timing)

    report = _report(timings, args.repeats, args.filter, skipped)
    print(report)
    if not args.no_write:
        # keep the co-simulation section of an earlier --placement process run
        _, cosim_section, later = _split_sections(_read(args.out))
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(report + "".join("\n" + part for part in (cosim_section, later)
                                          if part))
        print(f"(written to {os.path.relpath(args.out)})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
