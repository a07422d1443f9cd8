"""Soak: one served network adapter answers back-to-back runs from two alternating engines.

Starts ``astra-cosim adapter serve network`` once, then two engine processes that take turns:
run i is done by engine i % 2, alternating between MLSys'22 exercise 1 and exercise 2-1 at
comm_scale 8 (both on the 8-NPU ring, expected totals from experiments/tutorial/expected.json).
Every run opens its own session (a new connection, hello, configure, rounds, goodbye). Checked
per run: the total equals the expected one. Measured: the server's resident memory (VmRSS) after
the warm-up runs and its largest value after that; growth = (largest - warm) / warm.

    python benchmarks/adapter_soak.py                  # 1,000 runs, writes results.md
    python benchmarks/adapter_soak.py --runs 20 --no-write --json

Exit status 1 when a run gave a wrong total or memory grew by more than 5%
(tests/cosim/test_soak.py runs 20). The section "Adapter soak" of results.md is replaced when
present, else appended.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TUTORIAL = os.path.join(ROOT, "experiments", "tutorial")
EXPERIMENTS = ("ex1", "ex2_1_comm_scale_8")
SECTION = "## Adapter soak"
GROWTH_LIMIT = 0.05


def engine_loop(endpoint: str) -> int:
    """An engine process: for every experiment name read from stdin, run it against the
    served adapter and print its total_ns (or the error)."""
    sys.path.insert(0, ROOT)
    from orchestrator.cosim.placement import AdapterPlacement
    from orchestrator.errors import AstraCosimError
    from orchestrator.experiment.load import load_experiment
    from orchestrator.experiment.runner import simulate

    for line in sys.stdin:
        experiment = load_experiment(os.path.join(TUTORIAL, f"{line.strip()}.yaml"))
        experiment = dataclasses.replace(experiment, placement=AdapterPlacement(
            endpoint=endpoint, timeout_s=30.0))
        try:
            print(simulate(experiment).total_ns, flush=True)
        except AstraCosimError as exc:
            print(f"error: {exc}", flush=True)
    return 0


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def _free_endpoint() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{probe.getsockname()[1]}"


def soak(runs: int, warmup: int) -> dict[str, object]:
    with open(os.path.join(TUTORIAL, "expected.json"), encoding="utf-8") as handle:
        expected = {name: value["total_ns"] for name, value in json.load(handle).items()}
    endpoint = _free_endpoint()
    server = subprocess.Popen([sys.executable, "-m", "orchestrator", "adapter", "serve",
                               "network", "--bind", endpoint, "--parent-pid", str(os.getpid()),
                               "--idle-timeout", "120"], cwd=ROOT, stdin=subprocess.DEVNULL)
    engines = [subprocess.Popen([sys.executable, os.path.abspath(__file__), "--engine", endpoint],
                                cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                text=True) for _ in range(2)]
    wrong: list[str] = []
    warm_kib = peak_kib = 0
    started = time.perf_counter()
    try:
        for index in range(runs):
            name = EXPERIMENTS[index % len(EXPERIMENTS)]
            engine = engines[index % 2]
            engine.stdin.write(name + "\n")
            engine.stdin.flush()
            answer = engine.stdout.readline().strip()
            if answer != str(expected[name]):
                wrong.append(f"run {index + 1} ({name}): {answer or 'no answer'}, expected "
                             f"{expected[name]}")
            if index + 1 == warmup:
                warm_kib = peak_kib = _rss_kib(server.pid)
            elif index + 1 > warmup:
                peak_kib = max(peak_kib, _rss_kib(server.pid))
        wall_s = time.perf_counter() - started
        alive = server.poll() is None
    finally:
        for engine in engines:
            engine.stdin.close()
            engine.wait(timeout=30)
            engine.stdout.close()
        server.terminate()
        server.wait(timeout=30)
    return {"runs": runs, "warmup": warmup, "wrong": wrong, "server_alive": alive,
            "warm_rss_kib": warm_kib, "peak_rss_kib": peak_kib,
            "growth": (peak_kib - warm_kib) / warm_kib if warm_kib else 0.0,
            "wall_s": round(wall_s, 2)}


def _section(result: dict[str, object]) -> str:
    stamp = datetime.datetime.now().strftime("%Y-%m-%d")
    return (f"{SECTION}\n\n`python benchmarks/adapter_soak.py --runs {result['runs']}` "
            f"({stamp}, {platform.machine()}, Python {platform.python_version()}): one served "
            f"network adapter, {result['runs']} back-to-back runs from two alternating engine "
            f"processes (exercise 1 and exercise 2-1 at comm_scale 8, a session each).\n\n"
            f"| runs | wrong totals | server RSS after {result['warmup']} runs (KiB) | "
            f"largest RSS after (KiB) | growth | wall (s) |\n|---|---|---|---|---|---|\n"
            f"| {result['runs']} | {len(result['wrong'])} | {result['warm_rss_kib']} | "
            f"{result['peak_rss_kib']} | {result['growth'] * 100:.2f}% | {result['wall_s']} |\n")


def _write(section: str, path: str) -> None:
    text = open(path, encoding="utf-8").read() if os.path.exists(path) else ""
    if SECTION in text:
        head, _, rest = text.partition(SECTION)
        tail = rest[rest.find("\n## "):] if "\n## " in rest else ""
        text = head + section + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=None,
                        help="runs before the memory baseline (default: a tenth, at least 4)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--no-write", action="store_true", help="leave results.md alone")
    parser.add_argument("--engine", metavar="ENDPOINT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.engine:
        return engine_loop(args.engine)
    warmup = args.warmup if args.warmup is not None else max(4, args.runs // 10)
    if not 0 < warmup < args.runs:
        parser.error("--warmup must be between 1 and --runs - 1")
    result = soak(args.runs, warmup)
    print(json.dumps(result) if args.json else _section(result))
    if not args.no_write:
        _write(_section(result), os.path.join(HERE, "results.md"))
    return 0 if not result["wrong"] and result["server_alive"] and \
        result["growth"] <= GROWTH_LIMIT else 1


if __name__ == "__main__":
    sys.exit(main())
