"""Regenerate MLSys'22 exercises 3 and 4 with SCALE-Sim and compare with the tutorial's files.

    python benchmarks/scalesim_regeneration.py [--reference ../shared/reference/cases]

Runs experiments/tutorial/inputs/generated/regenerate.sh's commands twice on an empty cache
(wall time and SCALE-Sim simulations of each pass), times one layer in SCALE-Sim's full mode
against fold mode, compares every layer's compute cycles and communication with the
tutorial's workload files, runs the four exercise-3 experiments, and prints Markdown
(the README's SCALE-Sim section and benchmarks/results.md take their numbers from it).
Needs the scalesim extra; on demand only, never in tests.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shlex
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)

from adapters.base import ComputeRequest  # noqa: E402
from adapters.registry import build_compute  # noqa: E402
from adapters.scalesim.simulate import simulation_count  # noqa: E402
from orchestrator.cli.main import main  # noqa: E402

GENERATED = os.path.join(ROOT, "experiments", "tutorial", "inputs", "generated")
TUTORIAL = os.path.join(ROOT, "experiments", "tutorial")
PAIRS = [  # (generated file, reference case, reference workload file)
    ("vgg16_data_256.txt", "mlsys22_ex3-1_TPU-VGG16", "vgg16.txt"),
    ("gpt3_transformer_tp16_256.txt", "mlsys22_ex3-2_TPU-GPT3", "gpt3.txt"),
    ("resnet50_slice_data_reorder_64.txt", "mlsys22_ex4_reorder", "exercise_4_reorder.txt"),
]
RUNS = [("ex3_1_dgx2_vgg16", "mlsys22_ex3-1_DGX2-VGG16"), ("ex3_1_tpu_vgg16",
        "mlsys22_ex3-1_TPU-VGG16"), ("ex3_2_dgx2_gpt3", "mlsys22_ex3-2_DGX2-GPT3"),
        ("ex3_2_tpu_gpt3", "mlsys22_ex3-2_TPU-GPT3"), ("ex4_data_reorder", "mlsys22_ex4_reorder")]


def regenerate(out_dir: str) -> list[tuple[str, float, int]]:
    rows = []
    with open(os.path.join(GENERATED, "regenerate.sh"), encoding="utf-8") as handle:
        commands = [shlex.split(line)[1:] for line in handle
                    if line.startswith("astra-cosim workload generate")]
    cwd = os.getcwd()
    os.chdir(GENERATED)
    try:
        for args in commands:
            target = args.index("--out") + 1
            name = args[target]
            args[target] = os.path.join(out_dir, name)
            before, start = simulation_count(), time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):
                assert main(args) == 0
            rows.append((name, time.perf_counter() - start, simulation_count() - before))
    finally:
        os.chdir(cwd)
    return rows


def full_vs_fold() -> str:
    request = ComputeRequest.gemm(196, 512, 4609)       # VGG16 block5_conv1, forward, DATA/256
    lines = []
    for mode in ("fold", "full"):
        model = build_compute("scalesim", {"preset": "tpu-256x256-ws", "mode": mode,
                                           "cache": "off"})
        start = time.perf_counter()
        cycles = model.duration_ns(request)
        lines.append(f"| {mode} | {cycles} | {time.perf_counter() - start:.1f} |")
    return "\n".join(["| mode | cycles | wall s |", "|---|---:|---:|", *lines])


def _rows(path: str) -> list[list[str]]:
    with open(path, encoding="utf-8") as handle:
        return [line.split() for line in handle.read().splitlines()[2:] if line.strip()]


def compare(reference_root: str) -> str:
    out = []
    for generated, case, ref_file in PAIRS:
        ours = _rows(os.path.join(GENERATED, generated))
        ref = _rows(os.path.join(reference_root, case, ref_file))
        compute_equal = comm_equal = 0
        out += [f"\n**{generated}** vs the tutorial's `{ref_file}`\n",
                "| layer | fwd ours / ref | ig ours / ref | wg ours / ref | comm (fwd, ig, wg) |"
                " comm equal |", "|---|---:|---:|---:|---|:---:|"]
        for mine, theirs in zip(ours, ref):
            cells = [f"{int(mine[i]):,} / {int(theirs[i]):,}" for i in (2, 5, 8)]
            compute_equal += sum(mine[i] == theirs[i] for i in (2, 5, 8))
            comms = [(mine[i], mine[i + 1]) for i in (3, 6, 9)]
            same = comms == [(theirs[i], theirs[i + 1]) for i in (3, 6, 9)]
            comm_equal += same
            text = ", ".join("–" if kind == "NONE" else f"{kind} {int(size):,}"
                             for kind, size in comms)
            out.append(f"| {mine[0]} | {' | '.join(cells)} | {text} | {'yes' if same else 'NO'} |")
        out.append(f"\nexact: compute {compute_equal}/{3 * len(ours)} cells, communication "
                   f"{comm_equal}/{len(ours)} layers; layers {len(ours)} vs {len(ref)}")
    return "\n".join(out)


def totals(reference_root: str, out_dir: str) -> str:
    lines = ["| experiment | total µs ours / ref | compute µs ours / ref "
             "| exposed µs ours / ref |", "|---|---:|---:|---:|"]
    for name, case in RUNS:
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(["run", os.path.join(TUTORIAL, f"{name}.yaml"), "--out",
                         os.path.join(out_dir, name), "--quiet"]) == 0
        with open(os.path.join(out_dir, name, "summary.json"), encoding="utf-8") as handle:
            ours = json.load(handle)
        with open(os.path.join(reference_root, case, "case.json"), encoding="utf-8") as handle:
            ref = json.load(handle)["expected"]
        cells = [f"{ours[key] / 1000:,.3f} / {ref[key] / 1000:,.3f}"
                 for key in ("total_ns", "compute_ns", "exposed_comm_ns")]
        lines.append(f"| {name} | {' | '.join(cells)} |")
    return "\n".join(lines)


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", default=os.path.join(ROOT, "..", "shared", "reference",
                                                            "cases"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["ASTRA_COSIM_CACHE_DIR"] = os.path.join(scratch, "cache")
        print("| pass | workload | wall s | SCALE-Sim simulations |\n|---|---|---:|---:|")
        for label in ("first (empty cache)", "second"):
            for name, seconds, sims in regenerate(scratch):
                print(f"| {label} | {name} | {seconds:.1f} | {sims} |")
        print("\nOne GEMM in both modes (VGG16 block5_conv1 forward on one of 256 NPUs):\n")
        print(full_vs_fold())
        print(compare(args.reference))
        print()
        print(totals(args.reference, scratch))


if __name__ == "__main__":
    run()
