"""What a Python process costs before astra-cosim simulates anything (issue 13's start-up rows).

Issue 13 asks for the 2.x microbenchmarks at or below the C++ CPU time (Switch 64
halving-doubling all-reduce 0.015 s, Ring 64 all-reduce 0.036 s) and for the symmetric rows at
0.1x of C++ (Ring 64: 0.0036 s). This script measures the floor under those rows: CPU seconds
(user + system, ``os.wait4``, best of N) of an interpreter that does nothing, of the imports
every run of a given input format needs (PyYAML for 2.x network files, protobuf for Chakra
traces, dataclasses), of ``astra-cosim --version`` and of the whole Switch 64 run.

    python benchmarks/startup_floor.py [--repeats 10] [--write]

``--write`` replaces its section of benchmarks/results.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results.md")
SECTION = "## Start-up floor (issue 13)"
# as an installed package runs: with its bytecode cached (see speed_vs_cpp.py)
ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
CPP_SWITCH64_S = 0.015        # issue 13's C++ CPU seconds for the Switch 64 row


def cpu_s(argv: list[str], repeats: int, cwd: str) -> float:
    best = float("inf")
    for _ in range(repeats):
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                   env=ENV, cwd=cwd)
        _, status, usage = os.wait4(process.pid, 0)
        error = process.stderr.read().decode()
        process.stderr.close()
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"{' '.join(argv)}: {error.strip()}")
        best = min(best, usage.ru_utime + usage.ru_stime)
    return best


def switch64_inputs(folder: str) -> list[str]:
    """The Switch 64 halving-doubling all-reduce of 1 MiB, as speed_vs_cpp.py runs it."""
    prefix = os.path.join(folder, "ar64", "ar")
    subprocess.run([sys.executable, "-m", "orchestrator", "trace", "collective", "--npus", "64",
                    "--collective", "all_reduce", "--size", "1MiB", "--out", prefix],
                   check=True, capture_output=True, cwd=ROOT)
    network = os.path.join(folder, "switch64.yml")
    with open(network, "w", encoding="utf-8") as handle:
        handle.write("topology: [ Switch ]\nnpus_count: [ 64 ]\nbandwidth: [ 50.0 ]\n"
                     "latency: [ 500.0 ]\n")
    system = os.path.join(folder, "sys_hd.json")
    with open(system, "w", encoding="utf-8") as handle:
        json.dump({"scheduling-policy": "LIFO", "endpoint-delay": 10,
                   "active-chunks-per-dimension": 1, "preferred-dataset-splits": 4,
                   "all-reduce-implementation": ["halvingDoubling"],
                   "all-gather-implementation": ["halvingDoubling"],
                   "reduce-scatter-implementation": ["halvingDoubling"],
                   "all-to-all-implementation": ["direct"],
                   "collective-optimization": "localBWAware", "local-mem-bw": 1600}, handle)
    return ["--workload", prefix, "--system", system, "--network", network,
            "--out", os.path.join(folder, "out"), "--quiet"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    python = sys.executable
    with tempfile.TemporaryDirectory() as folder:
        run_args = switch64_inputs(folder)
        rows = [
            ("`python -S -c pass` (no site packages)", [python, "-S", "-c", "pass"]),
            ("`python -c pass` (the venv's site; the editable install is a .pth path)",
             [python, "-c", "pass"]),
            ("`python -c 'import dataclasses'`", [python, "-c", "import dataclasses"]),
            ("`python -c 'import yaml'` (2.x network files)", [python, "-c", "import yaml"]),
            ("`python -c 'from google.protobuf import descriptor_pool'` (Chakra traces)",
             [python, "-c", "from google.protobuf import descriptor_pool"]),
            ("`astra-cosim --version`", [python, "-m", "orchestrator", "--version"]),
            ("`astra-cosim run` Switch 64 halving-doubling all-reduce 1 MiB (whole run)",
             [python, "-m", "orchestrator", "run", *run_args]),
        ]
        measured = [(name, cpu_s(argv, args.repeats, folder)) for name, argv in rows]
    lines = [SECTION, "",
             f"`python benchmarks/startup_floor.py --repeats {args.repeats}` on "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: CPU seconds, best of "
             f"{args.repeats}, one process each (Python {sys.version.split()[0]}).", "",
             "| process | CPU ms | / C++ Switch 64 run (15 ms) |", "|---|---:|---:|"]
    for name, seconds in measured:
        lines.append(f"| {name} | {seconds * 1e3:.0f} | {seconds / CPP_SWITCH64_S:.2f}x |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        _replace_section(text)


def _replace_section(text: str) -> None:
    with open(RESULTS, encoding="utf-8") as handle:
        current = handle.read()
    start = current.find(SECTION)
    if start < 0:
        updated = current.rstrip("\n") + "\n\n" + text
    else:
        end = current.find("\n## ", start + len(SECTION))
        updated = current[:start] + text + (current[end + 1:] if end >= 0 else "")
    with open(RESULTS, "w", encoding="utf-8") as handle:
        handle.write(updated)


if __name__ == "__main__":
    main()
