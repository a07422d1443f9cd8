"""Sweep throughput: trials per minute of the local process pool and of Ray, same 50 trials.

The sweep is comm_scale (5) x all-reduce algorithm (2) x link bandwidth (5) on the tutorial's
8-NPU ring (experiments/tutorial/ex1.yaml): 50 distinct trials of a few ms each, so what is
measured is mostly the executors' own cost per trial (start the workers, ship a trial, return
its record, write its file), which is what decides how small a trial may be before a sweep is
not worth parallelising. Each executor runs the whole sweep from an empty folder (no resume);
wall time is ``run_sweep`` end to end, table writing included. Ray is timed twice: starting
its local instance inside the sweep (what ``astra-cosim sweep --executor ray`` does on a
laptop), with the instance already up (what a sweep against a running cluster pays), and on
a 2-node cluster of separate processes on this machine (``ray start`` head and worker, one CPU
each, their own temporary folders: tests/sweep/ray_cluster.py), where every input travels
through the object store to a node cache (orchestrator/sweep/inputs.py), as on real machines.

    python benchmarks/sweep_throughput.py                  # best of 3, appends to results.md
    python benchmarks/sweep_throughput.py --repeats 1 --no-write

The section "Sweep throughput" of results.md is replaced when present, else appended; nothing
else in the file is touched.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from orchestrator.sweep.runner import run_sweep  # noqa: E402
from orchestrator.sweep.spec import load_sweep  # noqa: E402
from tests.sweep.ray_cluster import RAY_ENV, local_cluster  # noqa: E402

SECTION = "## Sweep throughput"
INPUTS = os.path.join(ROOT, "experiments", "tutorial", "inputs")
AXES = """axes:
  options.comm_scale: [1, 4, 16, 64, 256]
  system.all-reduce-implementation: [ring, direct]
  network.link-bandwidth[0]: [12.5, 25, 50, 100, 200]
"""
# The same 50 points on the tutorial's 8-NPU ring and on a 64-NPU ring (a few ms, ~20 ms).
SWEEPS = {
    8: f"name: sweep_throughput_8\nbase: {os.path.join(ROOT, 'experiments', 'tutorial')}/ex1.yaml\n"
       + AXES,
    64: f"""name: sweep_throughput_64
base:
  workload: {os.path.join(INPUTS, "allreduce_1MiB.txt")}
  system: {os.path.join(INPUTS, "sys_ring.txt")}
  network: {{topologies-per-dim: [Ring], units-count: [64], links-count: [2],
            link-latency: [500], link-bandwidth: [50]}}
""" + AXES,
}


def _time_sweep(path: str, executor: str, jobs: int, repeats: int) -> tuple[float, int]:
    best = float("inf")
    trials = 0
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="astra-cosim-sweep-bench-") as out:
            start = time.perf_counter()
            report = run_sweep(load_sweep(path), out, executor=executor, jobs=jobs,
                               resume=False, progress=None)
            best = min(best, time.perf_counter() - start)
            if report.failed or report.missing:
                raise SystemExit(f"{executor}: {report.failed} failed, {report.missing} missing")
            trials = report.ran
    return best, trials


def _cluster_rows(workdir: str, sizes: list[int], repeats: int
                  ) -> dict[int, tuple[str, int, int, float]]:
    rows = {}
    os.environ.update(RAY_ENV)
    with local_cluster():
        for npus in sizes:
            path = os.path.join(workdir, f"sweep{npus}.yaml")
            print(f"{npus} NPUs: running ray on a 2-node cluster ...", file=sys.stderr,
                  flush=True)
            _time_sweep(path, "ray", 2, 1)      # warm the worker processes and node caches
            wall_s, trials = _time_sweep(path, "ray", 2, repeats)
            rows[npus] = ("ray, 2-node cluster (head + worker, 1 CPU each)", 2, trials, wall_s)
    return rows


def _commit() -> str:
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                             capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=ROOT, text=True, capture_output=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return sha + (" (with uncommitted changes)" if dirty else "")


def _section(rows: list[tuple[int, str, int, int, float]], repeats: int,
             notes: list[str]) -> str:
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        SECTION, "",
        f"**{now}** · {platform.platform()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs · commit `{_commit()}` · best of {repeats} repeat(s)", "",
        "`python benchmarks/sweep_throughput.py`: one 50-trial sweep (comm_scale 1..256 x "
        "ring/direct all-reduce x link bandwidth 12.5..200 GB/s) on the tutorial's 8-NPU ring "
        "(a few ms of simulation per trial: the numbers are the executors' cost per trial) "
        "and on a 64-NPU ring (a trial takes the one-process row's wall time / 50), run from an empty output folder "
        "by each executor; wall time is `run_sweep` end to end (expansion, trials, trial "
        "files, CSV/Parquet/plot).", "",
        "| ring | executor | jobs | trials | wall s (best) | trials/min |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for npus, name, jobs, trials, wall_s in rows:
        lines.append(f"| {npus} NPUs | {name} | {jobs} | {trials} | {wall_s:.2f} | "
                     f"{trials / wall_s * 60:,.0f} |")
    lines.extend(["", "Rows of one run are comparable; absolute seconds vary with the machine's "
                  "load.", *notes])
    return "\n".join(lines).rstrip("\n") + "\n"


def _write_section(path: str, section: str) -> None:
    """Replace our section (up to the next level-2 heading) or append it; the file is read
    right before writing because other scripts write other sections of it."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError:
        text = ""
    start = text.find(SECTION + "\n")
    if start >= 0:
        end = text.find("\n## ", start + len(SECTION))
        rest = text[end + 1:] if end >= 0 else ""
        text = text[:start] + section + ("\n" + rest if rest else "")
    else:
        text = (text.rstrip("\n") + "\n\n" if text.strip() else "") + section
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--npus", type=int, nargs="+", choices=sorted(SWEEPS),
                        default=sorted(SWEEPS), help="which sweeps (ring size) to run")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--out", default=os.path.join(HERE, "results.md"))
    args = parser.parse_args(argv)
    rows, notes = [], []
    try:
        import ray
    except ImportError:
        ray = None
        notes.append("Ray rows skipped: ray is not installed (pip install 'astra-cosim[ray]').")
    with tempfile.TemporaryDirectory(prefix="astra-cosim-sweep-bench-") as workdir:
        for npus in args.npus:
            with open(os.path.join(workdir, f"sweep{npus}.yaml"), "w", encoding="utf-8") as out:
                out.write(SWEEPS[npus])
        # The cluster first: connecting to it after this process has started and shut down a
        # local Ray instance failed with "the object's owner has exited" (Ray 2.60).
        cluster_rows = _cluster_rows(workdir, args.npus, args.repeats) if ray else {}
        for npus in args.npus:
            path = os.path.join(workdir, f"sweep{npus}.yaml")
            run_sweep(load_sweep(path), os.path.join(workdir, "warm"), jobs=1, progress=None,
                      max_trials=1)       # warm-up: imports, caches
            for name, executor, jobs in (("local, one process", "local", 1),
                                         ("local, process pool", "local", args.jobs)):
                print(f"{npus} NPUs: running {name} ...", file=sys.stderr, flush=True)
                wall_s, trials = _time_sweep(path, executor, jobs, args.repeats)
                rows.append((npus, name, jobs, trials, wall_s))
            if ray is None:
                continue
            print(f"{npus} NPUs: running ray (starting a local instance each time) ...",
                  file=sys.stderr, flush=True)
            wall_s, trials = _time_sweep(path, "ray", args.jobs, args.repeats)
            rows.append((npus, "ray, local instance started by the sweep", args.jobs, trials,
                         wall_s))
            start = time.perf_counter()
            ray.init(num_cpus=args.jobs, include_dashboard=False)
            init_s = time.perf_counter() - start
            try:
                print(f"{npus} NPUs: running ray (instance already up) ...", file=sys.stderr,
                      flush=True)
                _time_sweep(path, "ray", args.jobs, 1)      # warm the worker processes
                wall_s, trials = _time_sweep(path, "ray", args.jobs, args.repeats)
                rows.append((npus, "ray, instance already up", args.jobs, trials, wall_s))
            finally:
                ray.shutdown()
            notes.append(f"{npus} NPUs: starting the local Ray instance (`ray.init`) took "
                         f"{init_s:.1f} s.")
            rows.append((npus, *cluster_rows[npus]))
    if ray is not None:
        notes.append(f"Ray {ray.__version__}.")
    section = _section(rows, args.repeats, notes)
    print(section)
    if not args.no_write:
        _write_section(args.out, section)
        print(f"(section written to {os.path.relpath(args.out)})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
