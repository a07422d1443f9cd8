"""The containerised analytical stack against the host's in-process run (issue 18).

Runs the compose stack of README "Run in containers" with the analytical network adapter in a
container of its own (profile ``analytical``, ZeroMQ CURVE between the containers, as
``experiments/containers/analytical-adapter.yaml``) and times, alternating, best of
``--repeats`` engine containers x ``--inner`` runs in each:

* ``host in-process``: ``simulate()`` in this process, the network model called directly;
* ``container in-process``: the same in the engine image (``docker compose run engine``),
  the model called directly there (what the image itself costs);
* ``container -> adapter container``: the engine container reaching the adapter container
  over the compose network (``endpoint: tcp://analytical:5555``, encrypted).

The container rows time ``simulate()`` inside the container; the start of a container and of
the stack are reported apart (they are paid once per ``compose up``, not per simulated step).
The simulated results must be identical in all three (the script exits 1 otherwise).

    python benchmarks/compose_overhead.py [--repeats 3] [--inner 3] [--filter SUBSTR] [--no-write]

Needs Docker, compose and the images (docker/build.sh engine; IMAGE_TAG picks the tag) and
the reference cases in ../shared/reference; it says why and exits 2 when one is missing.
Writes the "Containerised analytical stack" section of results.md unless --no-write.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from typing import Any

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, PROJECT)

from orchestrator.experiment.model import Experiment, RunOptions  # noqa: E402
from orchestrator.experiment.runner import simulate  # noqa: E402

CASES = os.path.join(os.path.dirname(PROJECT), "shared", "reference", "cases")
ROWS = ("mlsys22_ex3-1_TPU-VGG16", "mlsys22_ex3-2_DGX2-GPT3", "mlsys22_ex4_vanilla")
MARK = "## Containerised analytical stack"
IMAGE_TAG = os.environ.get("IMAGE_TAG", "latest")

# Runs inside the engine container: one row, both container modes, one repeat each.
_INSIDE = r'''
import dataclasses, json, os, sys, time
from orchestrator.cosim.placement import AdapterPlacement
from orchestrator.experiment.model import Experiment, RunOptions
from orchestrator.experiment.runner import simulate

spec = json.loads(sys.argv[1])
base = Experiment(name=spec["name"], workload=spec["workload"], system=spec["system"],
                  network=spec["network"], network_backend="analytical",
                  options=RunOptions(**spec["options"]), symmetry=spec["symmetry"])
remote = AdapterPlacement(endpoint="tcp://analytical:5555", timeout_s=60.0,
                          key_file=os.environ["ASTRA_ADAPTER_KEY"])
for placement in (AdapterPlacement(), remote):      # imports, caches and the key warm
    simulate(dataclasses.replace(base, placement=placement))
out = {}
for _ in range(spec["inner"]):                     # alternating, best of them
    for mode, placement in (("inprocess", AdapterPlacement()), ("adapter", remote)):
        start, cpu = time.perf_counter(), time.process_time()
        result = simulate(dataclasses.replace(base, placement=placement))
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        fields = dataclasses.asdict(result)
        network = fields.pop("cosim")["network"]
        fields.pop("adapter_stats", None)
        best = out.setdefault(mode, {"wall_s": wall, "cpu_s": cpu, "result": fields,
                                     "rounds": network["rounds"], "wait_s": network["wait_s"],
                                     "total_s": 0.0})
        best["total_s"] += wall
        best["cpu_s"] = min(best["cpu_s"], cpu)
        if wall <= best["wall_s"]:
            best.update(wall_s=wall, wait_s=network["wait_s"])
        if fields != best["result"]:
            best["result"] = None                  # differs between runs: reported as such
print("RESULT " + json.dumps(out))
'''


def _compose() -> list[str] | None:
    if shutil.which("docker") is None:
        return None
    for command in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(command[0]) and subprocess.run(
                [*command, "version"], capture_output=True).returncode == 0:
            return command
    return None


def _healthy(base: list[str], env: dict[str, str], service: str, within_s: float) -> bool:
    """Wait until the service's container passes its healthcheck (compose v1 has no --wait)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        ids = subprocess.run([*base, "ps", "-q", service], env=env, capture_output=True,
                             text=True, timeout=60).stdout.split()
        status = subprocess.run(["docker", "inspect", "--format", "{{.State.Health.Status}}",
                                 *ids[:1]], capture_output=True, text=True).stdout.strip()
        if ids and status == "healthy":
            return True
        time.sleep(1)
    return False


def _case(name: str, folder: str) -> dict[str, Any]:
    """Copy a reference case's three input files into ``folder`` (mounted in the
    container); its paths here and in the container."""
    with open(os.path.join(CASES, name, "case.json"), encoding="utf-8") as handle:
        case = json.load(handle)
    os.makedirs(os.path.join(folder, name))
    spec: dict[str, Any] = {"name": name, "options": case.get("args", {})}
    for key in ("workload", "system", "network"):
        source = os.path.join(CASES, name, case[key])
        target = os.path.join(folder, name, os.path.basename(source))
        shutil.copyfile(source, target)
        spec[key] = target
    return spec


def _in_container(spec: dict[str, Any], folder: str) -> dict[str, Any]:
    """The same case with the paths the engine container sees (folder at /work/experiments)."""
    return {**spec, **{key: spec[key].replace(folder, "/work/experiments")
                       for key in ("workload", "system", "network")}}


def _host(spec: dict[str, Any]) -> tuple[float, float, dict[str, Any]]:
    experiment = Experiment(name=spec["name"], workload=spec["workload"],
                            system=spec["system"], network=spec["network"],
                            network_backend="analytical",
                            options=RunOptions(**spec["options"]), symmetry=spec["symmetry"])
    start, cpu = time.perf_counter(), time.process_time()
    result = simulate(experiment)
    wall = time.perf_counter() - start
    fields = dataclasses.asdict(result)
    fields.pop("cosim")
    fields.pop("adapter_stats", None)
    return wall, time.process_time() - cpu, fields


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3,
                        help="engine containers started per row (default 3)")
    parser.add_argument("--inner", type=int, default=3,
                        help="runs per mode in each container and on the host per repeat; "
                             "the best of repeats x inner is reported (default 3)")
    parser.add_argument("--filter", default=None, help="only rows whose name contains this")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--out", default=os.path.join(PROJECT, "benchmarks", "results.md"))
    args = parser.parse_args(argv)
    compose = _compose()
    missing = ("docker or compose is not installed" if compose is None else
               f"reference cases not found at {CASES}" if not os.path.isdir(CASES) else
               None)
    if missing is None and subprocess.run(["docker", "image", "inspect",
                                           f"astra-cosim/engine:{IMAGE_TAG}"],
                                          capture_output=True).returncode != 0:
        missing = f"image astra-cosim/engine:{IMAGE_TAG} not built (docker/build.sh engine)"
    if missing:
        print(f"compose_overhead: {missing}", file=sys.stderr)
        return 2
    rows = [name for name in ROWS if args.filter is None or args.filter in name]
    folder = tempfile.mkdtemp(prefix="astra-cosim-compose-bench-")
    os.chmod(folder, 0o755)
    project = f"astra-cosim-bench-{uuid.uuid4().hex[:8]}"
    env = os.environ | {"ASTRA_EXPERIMENTS": folder, "ASTRA_RESULTS": folder,
                        "COMPOSE_PROFILES": "analytical", "IMAGE_TAG": IMAGE_TAG}
    base = [*compose, "-f", os.path.join(PROJECT, "docker-compose.yml"), "-p", project]
    lines: list[str] = []
    differs = False
    try:
        with open(os.path.join(folder, "inside.py"), "w", encoding="utf-8") as handle:
            handle.write(_INSIDE)
        start = time.perf_counter()
        up = subprocess.run([*base, "up", "-d", "analytical"], env=env,
                            capture_output=True, text=True, timeout=600)
        healthy = up.returncode == 0 and _healthy(base, env, "analytical", 300)
        stack_s = time.perf_counter() - start
        if not healthy:
            print(f"compose_overhead: the stack did not come up:\n{up.stderr[-2000:]}",
                  file=sys.stderr)
            return 1
        container_start = float("inf")
        for name in rows:
            for symmetry in ("off", "auto"):
                spec = _case(name, os.path.join(folder, f"{name}-{symmetry}"))
                spec["symmetry"] = symmetry
                inside = {**_in_container(spec, folder), "inner": args.inner}
                best = {"host": [float("inf")] * 2, "inprocess": [float("inf")] * 2,
                        "adapter": [float("inf")] * 2}
                rounds = wait_s = 0
                for _ in range(args.repeats):
                    for _ in range(args.inner):
                        wall, cpu, host_result = _host(spec)
                        best["host"] = [min(best["host"][0], wall),
                                        min(best["host"][1], cpu)]
                    start = time.perf_counter()
                    run = subprocess.run(
                        [*base, "run", "--rm", "--no-deps", "--entrypoint", "python3",
                         "engine", "/work/experiments/inside.py", json.dumps(inside)],
                        env=env, capture_output=True, text=True, timeout=600)
                    elapsed = time.perf_counter() - start
                    if run.returncode != 0 or "RESULT " not in run.stdout:
                        print(f"compose_overhead: the engine container failed:\n"
                              f"{run.stdout[-1500:]}\n{run.stderr[-1500:]}", file=sys.stderr)
                        return 1
                    measured = json.loads(run.stdout.split("RESULT ", 1)[1])
                    inner = sum(m["total_s"] for m in measured.values())
                    container_start = min(container_start, elapsed - inner)
                    for mode, m in measured.items():
                        best[mode] = [min(best[mode][0], m["wall_s"]),
                                      min(best[mode][1], m["cpu_s"])]
                        if m["result"] != host_result:
                            differs = True
                    rounds = measured["adapter"]["rounds"]
                    wait_s = measured["adapter"]["wait_s"]
                host = best["host"]
                label = name + ("" if symmetry == "auto" else " · symmetry off")
                lines.append(
                    f"| {label} | {host[0]:.3f} | {best['inprocess'][0]:.3f} | "
                    f"{best['adapter'][0]:.3f} | {best['adapter'][0] / host[0]:.2f}x | "
                    f"{best['adapter'][0] / best['inprocess'][0]:.2f}x | "
                    f"{best['adapter'][1] / host[1]:.2f}x | {rounds} | {wait_s:.3f} |")
                print(lines[-1], file=sys.stderr, flush=True)
    finally:
        subprocess.run([*base, "down", "-v", "--remove-orphans", "--timeout", "5"], env=env,
                       capture_output=True, timeout=300)
        shutil.rmtree(folder, ignore_errors=True)
    section = "\n".join([
        MARK, "",
        f"**{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}** · "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()} · images "
        f"`astra-cosim/engine:{IMAGE_TAG}` · best of {args.repeats} x {args.inner}",
        "",
        "`python benchmarks/compose_overhead.py`: `host s` is `simulate()` on the host with the "
        "network model in-process; `container s` the same inside the engine container; "
        "`stack s` the engine container against the analytical adapter in a container of its "
        "own (compose network, CURVE), timed inside the engine container. CPU ratio: the "
        "engine's CPU in the stack over the host's (the adapter container's CPU is not "
        "counted).",
        "",
        "| case | host s | container s | stack s | stack / host | stack / container | "
        "engine CPU stack / host | rounds | wait s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        *lines, "",
        f"Results identical in all three: {'no' if differs else 'yes'}. Paid once per stack, "
        f"not per run: `compose up -d analytical` until healthy (keys and adapter "
        f"containers, healthchecks) {stack_s:.1f} s; starting one engine container "
        f"(`compose run`, imports, a warm-up simulation in each mode) at least "
        f"{container_start:.1f} s.", ""])
    print(section)
    if not args.no_write:
        with open(args.out, encoding="utf-8") as handle:
            text = handle.read()
        if MARK in text:
            head, rest = text.split(MARK, 1)
            tail = rest[rest.find("\n## "):] if "\n## " in rest else ""
            text = head + section + tail
        else:
            text = text.rstrip("\n") + "\n\n" + section
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(text)
    return 1 if differs else 0


if __name__ == "__main__":
    sys.exit(main())
