"""``astra-cosim trace``: convert 1.0 text workloads to Chakra traces, and summarise traces.

    astra-cosim trace convert --workload W --npus N --out PREFIX [--network NET.json|.yml]
                              [--num-passes K] [--compute-scale X] [--comm-scale X]
    astra-cosim trace collective --npus N --collective all_reduce --size 1MiB --out PREFIX
    astra-cosim trace show PREFIX_OR_FILE [--all]
"""

from __future__ import annotations

import argparse
import os

from orchestrator.errors import InputError
from orchestrator.experiment.load import validate_options
from orchestrator.limits import MAX_NPUS
from orchestrator.system.topology import break_dimension
from orchestrator.workload import chakra
from orchestrator.units import parse_size, scale_float32
from orchestrator.workload.convert import convert_workload
from orchestrator.workload.microbenchmark import write_collective_traces
from orchestrator.workload.text_format import TextWorkload, load_text_workload
from orchestrator.workload.trace_summary import format_summary, summarise


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("trace", help="convert and inspect Chakra execution traces",
                                 description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    convert = verbs.add_parser("convert", help="1.0 text workload -> one .et file per NPU")
    convert.add_argument("--workload", required=True)
    convert.add_argument("--npus", type=int, required=True, help="number of NPUs (files)")
    convert.add_argument("--out", required=True, help="output prefix: writes PREFIX.<npu>.et")
    convert.add_argument("--network", help="network file, needed by HYBRID_TRANSFORMER loops "
                                           "to place model parallelism on the dimensions")
    convert.add_argument("--num-passes", type=int, default=1)
    convert.add_argument("--compute-scale", type=float, default=1.0)
    convert.add_argument("--comm-scale", type=float, default=1.0)
    convert.set_defaults(handler=convert_command)
    collective = verbs.add_parser(
        "collective", help="a microbenchmark: one collective per NPU (PREFIX.<npu>.et)")
    collective.add_argument("--npus", type=int, required=True, help="number of NPUs (files)")
    collective.add_argument("--collective", required=True,
                            help="all_reduce, all_gather, reduce_scatter or all_to_all")
    collective.add_argument("--size", required=True,
                            help="bytes per NPU (all-gather: the input shard), e.g. 1MiB, "
                                 "64KiB, 4096")
    collective.add_argument("--involved-dims", default=None, metavar="LIST",
                            help="dimensions the collective spans, e.g. 1,0 (default: all)")
    collective.add_argument("--out", required=True, help="output prefix: writes PREFIX.<npu>.et")
    collective.set_defaults(handler=collective_command)
    show = verbs.add_parser("show", help="summarise traces")
    show.add_argument("trace", help="a .et file or a prefix of PREFIX.<npu>.et files")
    show.add_argument("--all", action="store_true", help="every NPU, not only NPU 0")
    show.set_defaults(handler=show_command)


def _network_dims(path: str) -> list[int]:
    """NPUs per dimension, read and checked as a run reads the file (2.x YAML or 1.0 JSON)."""
    if path.endswith((".yml", ".yaml")):
        from adapters.analytical.config_v2 import load_v2_network
        return [dim.npus for dim in load_v2_network(path).dims]
    from adapters.analytical.config_v1 import load_v1_network
    return [dim.npus for dim in load_v1_network(path).dims]


def _check_npus(npus: int) -> None:
    if not 1 <= npus <= MAX_NPUS:
        raise InputError(f"--npus: found {npus}; expected a number from 1 to {MAX_NPUS} "
                         "(2^31 - 1)")


def _check_conversion(workload: TextWorkload, args: argparse.Namespace) -> None:
    """The options and the workload's scaled sizes and times, as `run` checks them: a
    --num-passes of 0 wrote traces without a pass, a scale of -1 or nan ended in a traceback."""
    from orchestrator.experiment.run_v1 import check_ranges
    options = validate_options({"num_passes": args.num_passes, "comm_scale": args.comm_scale,
                                "compute_scale": args.compute_scale}, None)
    check_ranges(workload, options)
    for layer in workload.layers:
        for kind in ("fwd", "ig", "wg"):
            spec = getattr(layer, f"{kind}_comm")
            if not spec.is_none and scale_float32(spec.size_bytes, options.comm_scale) < 1:
                raise InputError(f"column {kind}_comm_bytes: {spec.size_bytes} x comm-scale "
                                 f"{options.comm_scale:g} is 0 bytes; expected at least 1 byte",
                                 workload.path, layer.line)


def convert_command(args: argparse.Namespace) -> int:
    _check_npus(args.npus)
    workload = load_text_workload(args.workload)
    _check_conversion(workload, args)
    group = workload.loop_cls.model_parallel_group(workload.header)
    boundary = None
    logical = _network_dims(args.network) if args.network else None
    if group is not None:
        if logical is None:
            raise InputError(f"{workload.loop_name} places model parallelism on the network's "
                             "dimensions: give --network", args.workload)
        try:
            boundary, logical = break_dimension(logical, group)
        except ValueError as exc:
            raise InputError(str(exc), args.workload, workload.header_line) from None
    dims = workload.loop_cls.dimensions(workload.header, boundary)
    loop = workload.loop_cls(workload.layers, workload.header, dims)
    result = convert_workload(workload, loop, args.num_passes, args.compute_scale,
                              args.comm_scale, logical)
    for npu in range(args.npus):
        chakra.write_trace(chakra.trace_path(args.out, npu), result.nodes)
    removed = chakra.remove_ranks_from(args.out, args.npus)
    print(f"wrote {args.npus} trace(s) {args.out}.0.et ...: {len(result.nodes)} nodes each, "
          f"{result.collectives} collectives, {result.compute_ns / 1000:.3f} us of compute")
    if removed:
        print(chakra.stale_note(args.out, removed))
    return 0


def collective_command(args: argparse.Namespace) -> int:
    try:
        size = parse_size(args.size)
    except ValueError as exc:
        raise InputError(f"--size: {exc}") from None
    involved = None
    if args.involved_dims is not None:
        flags = [item.strip() for item in args.involved_dims.split(",")]
        if not flags or any(flag not in ("0", "1") for flag in flags):
            raise InputError(f"--involved-dims: found {args.involved_dims!r}; expected 0/1 "
                             "flags separated by commas, e.g. 1,0")
        involved = [flag == "1" for flag in flags]
    _check_npus(args.npus)
    paths = write_collective_traces(args.out, args.npus, args.collective, size, involved)
    removed = chakra.remove_ranks_from(args.out, len(paths))
    print(f"wrote {len(paths)} traces {args.out}.0.et ... {args.out}.{len(paths) - 1}.et "
          f"({args.collective}, {size} bytes per NPU)")
    if removed:
        print(chakra.stale_note(args.out, removed))
    return 0


def show_command(args: argparse.Namespace) -> int:
    if os.path.isfile(args.trace):
        paths = [args.trace]
    else:
        count = chakra.count_traces(args.trace)
        if count == 0:
            raise InputError("no such trace file, and no PREFIX.0.et", args.trace)
        paths = [chakra.trace_path(args.trace, npu) for npu in range(count)]
        if not args.all:
            print(f"{count} trace(s); showing NPU 0 (--all for every NPU)")
            paths = paths[:1]
    for path in paths:
        print(format_summary(summarise(chakra.read_trace(path))))
    return 0
