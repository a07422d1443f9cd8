"""``astra-cosim workload generate``: a 1.0 workload from a model description.

    astra-cosim workload generate --model vgg16|MODEL.yaml --parallelism DATA --npus 256
        --compute scalesim [--compute-config FILE] [--compute-option KEY=VALUE ...]
        [--packages N] [--tp N] [--pp 1] [--placement inprocess|process] [--endpoint URL]
        --out WORKLOAD.txt [--chakra PREFIX [--network NET]]

Presets: vgg16, resnet50, gpt3-175b, megatron-gpt-8.3b, dlrm (orchestrator/workload/generate/
presets/). Parallelisms: DATA, DATA_REORDER, MODEL, HYBRID_DATA_MODEL, HYBRID_MODEL_DATA
(--packages), TRANSFORMER and TRANSFORMER_NO_CHECKPOINTS (--tp), DLRM. Compute cycles come from
the compute model, through the co-simulation protocol when it runs as a process
(``--placement process``) or elsewhere (``--endpoint``); SCALE-Sim's answers are cached
on disk.
"""

from __future__ import annotations

import argparse
import math
import os
from typing import Any

import yaml

from orchestrator.cosim.placement import PLACEMENTS, AdapterPlacement, open_compute
from orchestrator.errors import InputError
from orchestrator.experiment.load import read_mapping
from orchestrator.experiment.model import COMPUTE_BACKENDS
from orchestrator.limits import check_bytes, check_time
from orchestrator.workload.generate.generator import PARALLELISMS, generate
from orchestrator.workload.generate.model_file import load_model, preset_names
from orchestrator.workload.generate.recipes import Parallel
from orchestrator.workload.generate.writer import format_workload


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("workload", help="generate 1.0 workloads from model "
                                 "descriptions", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    gen = verbs.add_parser("generate", help="model + parallelism + compute model -> workload")
    gen.add_argument("--model", required=True,
                     help=f"a model YAML file or a preset: {', '.join(preset_names())}")
    gen.add_argument("--parallelism", required=True, choices=sorted(PARALLELISMS))
    gen.add_argument("--npus", type=int, required=True, help="NPUs in the whole system")
    gen.add_argument("--packages", type=int, help="HYBRID_*: number of packages")
    gen.add_argument("--tp", type=int, help="TRANSFORMER: tensor-parallel group size")
    gen.add_argument("--pp", type=int, default=1, help="TRANSFORMER: pipeline stages (1)")
    gen.add_argument("--compute", required=True, choices=COMPUTE_BACKENDS,
                     help="compute model timing the GEMMs")
    gen.add_argument("--compute-config", help="YAML/JSON file with the compute model's keys")
    gen.add_argument("--compute-option", action="append", default=[], metavar="KEY=VALUE",
                     help="one compute-model key (after --compute-config), e.g. "
                          "preset=tpu-256x256-ws")
    gen.add_argument("--placement", default="inprocess", choices=PLACEMENTS)
    gen.add_argument("--endpoint", help="a compute adapter server already running")
    gen.add_argument("--timeout", type=float, default=600.0,
                     help="seconds to wait for an out-of-process compute adapter")
    gen.add_argument("--out", required=True, help="the workload file to write")
    gen.add_argument("--chakra", metavar="PREFIX",
                     help="also write Chakra traces PREFIX.<npu>.et (astra-cosim trace convert), "
                          "their GEMM nodes carrying gemm_m/gemm_n/gemm_k")
    gen.add_argument("--network", help="with --chakra for TRANSFORMER: the network file")
    gen.set_defaults(handler=generate_command)
    from orchestrator.cli.predict_cmd import add_workload_verb
    add_workload_verb(verbs)


def compute_config(path: str | None, options: list[str]) -> dict[str, Any]:
    config: dict[str, Any] = read_mapping(path, "--compute-config") if path else {}
    for option in options:
        key, sep, value = option.partition("=")
        if not sep or not key:
            raise InputError(f"--compute-option: found {option!r}; expected KEY=VALUE")
        config[key] = yaml.safe_load(value)
    return config


def generate_command(args: argparse.Namespace) -> int:
    if not (math.isfinite(args.timeout) and args.timeout > 0):     # nan was taken silently
        raise InputError(f"--timeout: found {args.timeout:g}; expected a finite number of "
                         "seconds > 0")
    model = load_model(args.model)
    parallel = Parallel(args.npus, args.packages, args.tp, args.pp)
    config = compute_config(args.compute_config, args.compute_option)
    where = AdapterPlacement(args.placement, args.endpoint, args.timeout)
    compute = open_compute(args.compute, config, where, args.compute_config or "--compute")
    try:
        workload = generate(model, args.parallelism, parallel, compute)
    finally:
        close = getattr(compute, "close", None)
        if close is not None:
            close()
    stats = compute.stats()       # an adapter process reports its statistics as it stops
    _check_rows(workload, model.path)
    try:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(format_workload(workload))
    except OSError as exc:
        raise InputError(f"cannot write the workload ({exc.strerror})", args.out) from None
    totals = [sum(getattr(row, f"{kind}_cycles") for row in workload.rows)
              for kind in ("fwd", "ig", "wg")]
    print(f"wrote {args.out}: {workload.header.split()[0]}, {len(workload.rows)} layers, "
          f"compute fwd/ig/wg {totals[0]}/{totals[1]}/{totals[2]} cycles; {args.compute}: "
          f"{workload.requests} distinct GEMMs, "
          + ", ".join(f"{key} {value:g}" for key, value in stats.items()))
    if args.chakra:
        from orchestrator.cli.trace import convert_command
        convert_command(argparse.Namespace(workload=args.out, npus=args.npus, out=args.chakra,
                                           network=args.network, num_passes=1,
                                           compute_scale=1.0, comm_scale=1.0))
        add_gemm_shapes(args.chakra, args.npus, workload.shapes)
    return 0


def _check_rows(workload: Any, path: str) -> None:
    """Every generated time must fit the simulated clock and every size int64, as a run
    checks the file: a batch of 10^20 wrote compute times of 2^62 and sizes of 10^23 bytes
    that no run can take, and exited 0."""
    for row in workload.rows:
        for kind in ("fwd", "ig", "wg"):
            what = f"layer {row.name}: generated {kind} compute"
            check_time(getattr(row, f"{kind}_cycles"), what, path)
            comm, size = getattr(row, f"{kind}_comm")
            if comm != "NONE":
                check_bytes(int(size), f"layer {row.name}: generated {kind} {comm}", path)


def add_gemm_shapes(prefix: str, npus: int, shapes: dict) -> None:
    """Give every COMP node that is one GEMM its ``gemm_m``/``gemm_n``/``gemm_k``, so a run
    with a compute adapter (``astra-cosim run --compute-backend``) times it online; the
    recorded ``duration_ns`` stays for runs without one. Every NPU's trace is the same."""
    from orchestrator.workload import chakra
    nodes = chakra.read_trace(chakra.trace_path(prefix, 0)).nodes
    for node in nodes:
        shape = shapes.get(node.name) if node.type == chakra.NodeType.COMP_NODE else None
        if shape is not None:
            node.attr.extend([chakra.make_attr("gemm_m", shape.m),
                              chakra.make_attr("gemm_n", shape.n),
                              chakra.make_attr("gemm_k", shape.k)])
    for npu in range(npus):
        chakra.write_trace(chakra.trace_path(prefix, npu), nodes)
