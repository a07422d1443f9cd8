"""Issue 13's table: astra-cosim's CPU time against C++ ASTRA-sim on the same inputs.

Each row runs the ``astra-cosim`` CLI in a child process (start-up included, as a user pays it)
and takes the best of N runs by CPU seconds (user + system, from ``os.wait4``); wall seconds
and peak RSS are from the same run. The C++ CPU seconds are recorded constants: ASTRA-sim built
-O3 from the tags ``tutorial-mlsys2022`` (1.0 rows) and ``tutorial-micro2024`` (2.x rows),
measured on this machine class (issue 13). Ours / C++ is computed in this run; our absolute
numbers move with the machine's load, the constants do not, so a loaded machine makes the
ratios look worse, never better.

Inputs: the MLSys'22 tutorial cases and the 1.0 example workloads are read in place from
``../shared/reference/cases`` (rows skipped, saying so, when it is absent); everything else is
generated into a temporary folder (``astra-cosim trace collective`` / ``trace convert``).

    python benchmarks/speed_vs_cpp.py [--repeats 3] [--filter TEXT] [--full] [--write]

``--full`` adds a ``--symmetry off`` run per row (the full simulation) and checks both give
the same ``total_ns``; ``--write`` replaces the issue-13 section of benchmarks/results.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = os.path.join(os.path.dirname(ROOT), "shared", "reference", "cases")
CLI = [sys.executable, "-m", "orchestrator"]
# Users run from an installed package whose bytecode is cached; a sandbox exporting
# PYTHONDONTWRITEBYTECODE would recompile every module in every run (~0.15 s of CPU).
ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
RESULTS = os.path.join(ROOT, "benchmarks", "results.md")
SECTION = "## Speed against C++ ASTRA-sim (issue 13)"


@dataclass
class Row:
    name: str
    npus: int
    cpp_cpu_s: float | None           # None: no C++ figure (scale rows)
    args: list[str]                   # astra-cosim run arguments (relative to cwd)
    cwd: str = ""
    needs: list[str] = field(default_factory=list)     # input files that must exist


@dataclass
class Measured:
    cpu_s: float
    wall_s: float
    rss_mb: float
    total_ns: int
    reduced: bool


def run_once(row: Row, out: str, extra: list[str]) -> Measured:
    start = time.perf_counter()
    process = subprocess.Popen(CLI + ["run", *row.args, "--out", out, "--quiet", *extra],
                               cwd=row.cwd or ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, env=ENV)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    error = process.stderr.read().decode()
    process.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{row.name}: {error.strip().splitlines()[-1]}")
    with open(os.path.join(out, "summary.json"), encoding="utf-8") as handle:
        summary = json.load(handle)
    return Measured(usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss / 1024,
                    summary["total_ns"], bool(summary.get("symmetry", {}).get("reduced")))


STARTUP_PROBE = """
import resource, sys, time
import orchestrator.engine.clock as clock
first_run = clock.EventQueue.run
def run(self):
    usage = resource.getrusage(resource.RUSAGE_SELF)
    sys.stderr.write(f"FIRST-EVENT {usage.ru_utime + usage.ru_stime:.4f}\\n")
    clock.EventQueue.run = first_run
    return first_run(self)
clock.EventQueue.run = run
from orchestrator.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


WARM_PROBE = """
import os, sys, tempfile, time
from orchestrator.cli.main import main
repeats, args = int(sys.argv[1]), sys.argv[2:]
best = None
with tempfile.TemporaryDirectory() as out:
    for index in range(repeats + 1):        # the first run warms the interpreter up
        start = time.process_time()
        code = main(["run", *args, "--out", os.path.join(out, str(index % 2)), "--quiet"])
        spent = time.process_time() - start
        if code:
            sys.exit(code)
        if index:
            best = spent if best is None else min(best, spent)
sys.stderr.write(f"WARM {best:.4f}\\n")
"""


def warm_cpu(row: Row, repeats: int) -> float:
    """CPU seconds of one run in an interpreter that has run it before (best of
    ``repeats``): what each trial of a sweep, or a run through the Python API, pays."""
    done = subprocess.run([sys.executable, "-c", WARM_PROBE, str(repeats), *row.args],
                          cwd=row.cwd or ROOT, env=ENV, capture_output=True, text=True,
                          check=True)
    line = next(line for line in done.stderr.splitlines() if line.startswith("WARM"))
    return float(line.split()[1])


def cpu_to_first_event(args: list[str], cwd: str) -> float:
    """CPU seconds from the interpreter's start to the first event of a run (issue 13 item
    3: import to first event <= 0.15 s)."""
    with tempfile.TemporaryDirectory() as out:
        done = subprocess.run([sys.executable, "-c", STARTUP_PROBE, "run", *args, "--out", out,
                               "--quiet"], cwd=cwd, env=ENV, capture_output=True, text=True,
                              check=True)
    line = next(line for line in done.stderr.splitlines() if line.startswith("FIRST-EVENT"))
    return float(line.split()[1])


def best_of(row: Row, repeats: int, extra: list[str]) -> Measured:
    runs = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as out:
            runs.append(run_once(row, out, extra))
    return min(runs, key=lambda measured: measured.cpu_s)


# -- inputs ---------------------------------------------------------------------------------

def _case(name: str) -> str:
    return os.path.join(CASES, name)


def _tutorial(name: str, cpp: float) -> Row:
    folder = _case(name)
    doc = json.load(open(os.path.join(folder, "case.json"), encoding="utf-8")) \
        if os.path.isdir(folder) else {"workload": "", "system": "", "network": "", "args": {}}
    args = ["--workload", doc["workload"], "--system", doc["system"], "--network", doc["network"]]
    if "compute_scale" in doc["args"]:
        args += ["--compute-scale", str(doc["args"]["compute_scale"])]
    return Row(name, 256, cpp, args, folder, [os.path.join(folder, "case.json")])


def _v2_network(folder: str, name: str, topology: str, npus: int) -> str:
    path = os.path.join(folder, f"{name}.yml")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(f"topology: [ {topology} ]\nnpus_count: [ {npus} ]\n"
                     "bandwidth: [ 50.0 ]\nlatency: [ 500.0 ]\n")
    return path


def _v2_system(folder: str, algorithm: str) -> str:
    path = os.path.join(folder, f"sys_{algorithm}.json")
    a2a = "direct" if algorithm == "halvingDoubling" else algorithm
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"scheduling-policy": "LIFO", "endpoint-delay": 10,
                   "active-chunks-per-dimension": 1, "preferred-dataset-splits": 4,
                   "all-reduce-implementation": [algorithm],
                   "all-gather-implementation": [algorithm],
                   "reduce-scatter-implementation": [algorithm],
                   "all-to-all-implementation": [a2a],
                   "collective-optimization": "localBWAware", "local-mem-bw": 1600}, handle)
    return path


def _generate(folder: str, *args: str) -> None:
    subprocess.run(CLI + list(args), cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def build_rows(folder: str, selected) -> list[Row]:
    rows = [
        _tutorial("mlsys22_ex3-2_TPU-GPT3", 0.764),
        _tutorial("mlsys22_ex3-2_DGX2-GPT3", 0.678),
        _tutorial("mlsys22_ex3-1_TPU-VGG16", 0.350),
        _tutorial("mlsys22_ex3-1_DGX2-VGG16", 0.345),
    ]
    torus = _case("mlsys22_ex4_vanilla")
    for name, case, workload, cpp in (
            ("v1_DATA_resnet50_torus4x4x4", "v1-workload_DATA_Ring16_base",
             "Resnet50_DataParallel.txt", 4.10),
            ("v1_HYBRID_TRANSFORMER_torus4x4x4", "v1-workload_HYBRID_TRANSFORMER_Ring16_base",
             "Transformer_HybridParallel.txt", 3.06)):
        path = os.path.join(_case(case), workload)
        rows.append(Row(name, 64, cpp, ["--workload", path,
                                        "--system", os.path.join(torus, "sample_torus_sys.txt"),
                                        "--network", os.path.join(torus, "sample_Torus3D.json")],
                        needs=[path, torus]))
    wanted = lambda name: selected(name)          # noqa: E731 - generate only what runs
    for npus, cpp in ((64, (0.036, 0.044)), (256, (0.495, 0.684)), (1024, (17.4, 22.6))):
        for backend, cost in (("analytical", cpp[0]), ("analytical-aware", cpp[1])):
            name = f"v2_ring{npus}_allreduce_1MiB_{backend}"
            if not wanted(name):
                continue
            prefix = os.path.join(folder, f"ar{npus}", "ar")
            if not os.path.exists(prefix + ".0.et"):
                _generate(folder, "trace", "collective", "--npus", str(npus), "--collective",
                          "all_reduce", "--size", "1MiB", "--out", prefix)
            rows.append(Row(name, npus, cost, [
                "--workload", prefix, "--system", _v2_system(folder, "ring"),
                "--network", _v2_network(folder, f"ring{npus}", "Ring", npus),
                "--network-backend", backend]))
    for npus, cpp in ((64, 0.015), (4096, None)):
        name = f"v2_switch{npus}_hd_allreduce_1MiB_analytical"
        if wanted(name):
            prefix = os.path.join(folder, f"ar{npus}", "ar")
            if not os.path.exists(prefix + ".0.et"):
                _generate(folder, "trace", "collective", "--npus", str(npus), "--collective",
                          "all_reduce", "--size", "1MiB", "--out", prefix)
            rows.append(Row(name, npus, cpp, [
                "--workload", prefix, "--system", _v2_system(folder, "halvingDoubling"),
                "--network", _v2_network(folder, f"switch{npus}", "Switch", npus)]))
    for npus in (4096, 16384):
        name = f"v2_ring{npus}_allreduce_1MiB_analytical"
        if wanted(name):
            prefix = os.path.join(folder, f"ar{npus}", "ar")
            _generate(folder, "trace", "collective", "--npus", str(npus), "--collective",
                      "all_reduce", "--size", "1MiB", "--out", prefix)
            rows.append(Row(name, npus, None, [
                "--workload", prefix, "--system", _v2_system(folder, "ring"),
                "--network", _v2_network(folder, f"ring{npus}", "Ring", npus)]))
    resnet = os.path.join(_case("v1-workload_DATA_Ring16_base"), "Resnet50_DataParallel.txt")
    for npus, topology, algorithm, backend, cpp in (
            (64, "Ring", "ring", "analytical", 1.54),
            (64, "Switch", "halvingDoubling", "analytical-aware", 0.40),
            (1024, "Ring", "ring", "analytical", None)):
        name = f"v2_resnet50_dp{npus}_{topology.lower()}_{backend}"
        if not wanted(name) or not os.path.exists(resnet):
            continue
        prefix = os.path.join(folder, f"resnet{npus}", "resnet50")
        if not os.path.exists(prefix + ".0.et"):
            _generate(folder, "trace", "convert", "--workload", resnet, "--npus", str(npus),
                      "--out", prefix)
        rows.append(Row(name, npus, cpp, [
            "--workload", prefix, "--system", _v2_system(folder, algorithm),
            "--network", _v2_network(folder, f"{topology.lower()}{npus}", topology, npus),
            "--network-backend", backend], needs=[resnet]))
    return [row for row in rows if selected(row.name)]


def table(results: list[tuple[Row, Measured, float, Measured | None]], repeats: int) -> str:
    lines = [SECTION, "",
             f"`python benchmarks/speed_vs_cpp.py --repeats {repeats}` on "
             f"{time.strftime('%Y-%m-%d')}: best of {repeats} by CPU seconds, one child process "
             "per run (start-up included); C++ CPU seconds are issue 13's recorded constants. "
             "*Warm*: the same run repeated in one interpreter (start-up paid once, as by each "
             "trial of a sweep).",
             "", "| case | NPUs | reduced | total_ns | C++ CPU s | ours CPU s | ours / C++ | "
             "warm CPU s | warm / C++ | wall s | RSS MB | full CPU s |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row, ours, warm, full in results:
        ratio = f"{ours.cpu_s / row.cpp_cpu_s:.3f}x" if row.cpp_cpu_s else "-"
        warm_ratio = f"{warm / row.cpp_cpu_s:.3f}x" if row.cpp_cpu_s else "-"
        cpp = f"{row.cpp_cpu_s:.3f}" if row.cpp_cpu_s else "-"
        full_text = f"{full.cpu_s:.2f}" if full else "-"
        lines.append(f"| {row.name} | {row.npus} | {'yes' if ours.reduced else 'no'} | "
                     f"{ours.total_ns} | {cpp} | {ours.cpu_s:.3f} | {ratio} | {warm:.3f} | "
                     f"{warm_ratio} | {ours.wall_s:.2f} | {ours.rss_mb:.0f} | {full_text} |")
    return "\n".join(lines) + "\n"


def write_section(text: str) -> None:
    with open(RESULTS, encoding="utf-8") as handle:
        current = handle.read()
    start = current.find(SECTION)
    if start < 0:
        updated = current.rstrip() + "\n\n" + text
    else:
        end = current.find("\n## ", start + len(SECTION))
        updated = current[:start] + text + ("" if end < 0 else current[end:])
    with open(RESULTS, "w", encoding="utf-8") as handle:
        handle.write(updated)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--filter", action="append", default=[])
    parser.add_argument("--full", action="store_true",
                        help="also run --symmetry off and check the totals agree")
    parser.add_argument("--write", action="store_true", help="update benchmarks/results.md")
    args = parser.parse_args()
    selected = (lambda name: all(text in name for text in args.filter))  # noqa: E731
    subprocess.run([sys.executable, "-m", "compileall", "-q", os.path.join(ROOT, "orchestrator"),
                    os.path.join(ROOT, "adapters")], env=ENV, check=True,
                   stdout=subprocess.DEVNULL)
    results = []
    startup = []
    with tempfile.TemporaryDirectory() as folder:
        for row in build_rows(folder, selected):
            missing = [path for path in row.needs if not os.path.exists(path)]
            if missing:
                print(f"skip {row.name}: {missing[0]} is absent", file=sys.stderr)
                continue
            ours = best_of(row, args.repeats, [])
            full = best_of(row, 1, ["--symmetry", "off"]) if args.full else None
            if full is not None and full.total_ns != ours.total_ns:
                raise SystemExit(f"{row.name}: reduced {ours.total_ns} != full {full.total_ns}")
            results.append((row, ours, warm_cpu(row, args.repeats), full))
            print(table(results[-1:], args.repeats).splitlines()[-1], flush=True)
            if row.npus <= 256 and ours.reduced:
                startup.append((row.name, min(cpu_to_first_event(row.args, row.cwd or ROOT)
                                              for _ in range(args.repeats))))
    text = table(results, args.repeats)
    if startup:
        text += ("\nCPU seconds from the interpreter's start to the first event (imports, "
                 "reading and checking the inputs; best of the same repeats):\n\n"
                 "| case | to first event, CPU s |\n|---|---:|\n" +
                 "".join(f"| {name} | {seconds:.3f} |\n" for name, seconds in startup))
    print(text)
    if args.write:
        write_section(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
