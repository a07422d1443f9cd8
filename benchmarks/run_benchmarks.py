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

    python benchmarks/run_benchmarks.py [--repeats N] [--filter SUBSTR] [--profile NAME]
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import gc
import json
import os
import platform
import pstats
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
                        case.get("expected", {}).get("total_ns")))
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs per row; the best wall time is reported (default 3)")
    parser.add_argument("--filter", metavar="SUBSTR",
                        help="only rows whose name contains SUBSTR")
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
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")

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
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(report)
        print(f"(written to {os.path.relpath(args.out)})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
