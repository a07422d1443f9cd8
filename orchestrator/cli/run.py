"""``astra-cosim run``: one simulation, from upstream files or an experiment YAML.

    astra-cosim run --workload W --system S --network N [--network-backend analytical]
                    [--network-option KEY=VALUE ...] [--compute-backend roofline]
                    [--compute-config FILE] [--placement process] [--transport tcp|ipc|pipe]
                    [--num-passes N] [--comm-scale X] [--compute-scale X]
                    [--injection-scale X] --out DIR
    astra-cosim run EXPERIMENT.yaml [--out DIR]

Writes ``summary.json``, ``tutorial_result.csv`` and ``EndToEnd.csv`` into ``--out`` and prints
a one-row result table.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
import warnings


from orchestrator.cosim.placement import TRANSPORTS, AdapterPlacement
from orchestrator.errors import InputError
from orchestrator.experiment.load import load_experiment, read_mapping, validate_options
from orchestrator.experiment.model import (COMPUTE_BACKENDS, NETWORK_BACKENDS, ComputeChoice,
                                           Experiment)
from orchestrator.experiment.runner import simulate
from orchestrator.experiment import plots
from orchestrator.output.files import write_results
from orchestrator.output.staging import StagedFile, StagedFolder
from orchestrator.output.instruments import (TRACE_ALL_NPUS_UP_TO, Instruments,
                                             npu_ranges)
from orchestrator.output.statistics import write_statistics
from orchestrator.output.trace_events import write_trace
from orchestrator.units import ns_to_us_text


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("run", help="run one simulation",
                                 description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("experiment", nargs="?", help="an experiment YAML file")
    parser.add_argument("--workload", help="1.0 text workload file, or the prefix of 2.x "
                                           "Chakra traces (<prefix>.<npu>.et)")
    parser.add_argument("--system", help="system file: 1.0 key: value lines, or 2.x JSON")
    parser.add_argument("--network", help="network file: 1.0 JSON, or 2.x YAML")
    parser.add_argument("--network-backend", default=None,
                        help=f"network backend: {', '.join(NETWORK_BACKENDS)} (default analytical)")
    parser.add_argument("--network-option", action="append", default=[], metavar="KEY=VALUE",
                        help="a backend-specific network setting (e.g. ns3's "
                             "topology_file=FILE); repeat for more")
    parser.add_argument("--compute-backend", default=None, choices=COMPUTE_BACKENDS,
                        help="time operations that carry a shape (Chakra num_ops, GEMMs) with "
                             "this compute adapter")
    parser.add_argument("--compute-config", default=None, metavar="FILE",
                        help="the compute adapter's settings (YAML/JSON mapping); roofline "
                             "defaults to the system file's peak-perf and local-mem-bw")
    parser.add_argument("--num-passes", type=int, default=None, metavar="N",
                        help="training iterations of a 1.0 workload (upstream's "
                             "--num-passes; default 1, or the experiment's)")
    parser.add_argument("--comm-scale", type=float, default=None, metavar="X",
                        help="multiply every collective size by X (upstream's --comm-scale; "
                             "1.0 rounds as float32 and truncates; default 1)")
    parser.add_argument("--compute-scale", type=float, default=None, metavar="X",
                        help="multiply every compute time of a 1.0 workload by X (upstream's "
                             "--compute-scale; default 1)")
    parser.add_argument("--injection-scale", type=float, default=None, metavar="X",
                        help="multiply the system file's endpoint-delay (each message's injection "
                             "cost) by X (upstream's --injection-scale; default 1)")
    parser.add_argument("--num-queues-per-dim", type=int, default=None, metavar="N",
                        help="queues per dimension (ASTRA-sim 1.0 inputs; default 1): phases "
                             "take a dimension's queues in turn, the second half anticlockwise, "
                             "each running ceil(active-chunks / N) chunks")
    parser.add_argument("--comm-group", default=None, metavar="FILE",
                        help="communicator groups JSON {name: [npus]} (2.x inputs only)")
    parser.add_argument("--placement", default=None, choices=("inprocess", "process"),
                        help="where the adapters run (default inprocess, or the experiment's "
                             "network/compute placement)")
    parser.add_argument("--transport", default=None, choices=TRANSPORTS,
                        help="how the engine reaches adapters it spawns: tcp loopback "
                             "(default), ipc (a Unix socket) or pipe (a socket pair, no ZeroMQ: "
                             "the cheapest rounds)")
    parser.add_argument("--adapter", action="append", default=[], metavar="KIND=ENDPOINT",
                        help="use a running adapter server, e.g. network=tcp://host:5555 or "
                             "compute=ipc:///tmp/compute.sock")
    parser.add_argument("--adapter-key", default=None, metavar="FILE",
                        help="CURVE key file of the running adapter servers (adapter keygen; "
                             "default: the experiment's key, or $ASTRA_ADAPTER_KEY)")
    parser.add_argument("--adapter-timeout", type=float, default=None, metavar="S",
                        help="seconds to wait for an adapter's answer (default 30)")
    parser.add_argument("--symmetry", default=None, choices=("auto", "off"),
                        help="auto (default): when every NPU of the run is interchangeable "
                             "(e.g. a ring or torus running the same workload), simulate one "
                             "and derive the rest, exactly; off: simulate every NPU. "
                             "summary.json says which ran")
    parser.add_argument("--out", help="output folder (default: results/<experiment name>)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace --out even when it holds files that are not an "
                             "astra-cosim result (a previous result is always replaced whole)")
    parser.add_argument("--quiet", action="store_true",
                        help="print nothing on success, and show no progress")
    parser.add_argument("--progress", default=None, choices=("rich", "plain", "off"),
                        help="progress of runs longer than 2 s on stderr: rich (a live line; "
                             "the default on a terminal), plain (a line every "
                             "--progress-interval seconds; the default otherwise) or off")
    parser.add_argument("--progress-interval", type=float, default=10.0, metavar="S",
                        help="seconds between plain progress lines (default 10)")
    parser.add_argument("--trace", metavar="FILE", default=None,
                        help="write a Chrome/Perfetto trace-event JSON of the run (open it in "
                             "ui.perfetto.dev or chrome://tracing)")
    parser.add_argument("--trace-npus", metavar="LIST", default="",
                        help="NPUs to trace: ids and ranges like 0,1,8 or 0-7, or 'all' "
                             f"(default: every NPU up to {TRACE_ALL_NPUS_UP_TO}, else NPU 0)")
    parser.set_defaults(handler=run_command)


def _overrides(args: argparse.Namespace) -> dict:
    return {key: value for key, value in (
        ("num_passes", args.num_passes), ("comm_scale", args.comm_scale),
        ("compute_scale", args.compute_scale), ("injection_scale", args.injection_scale),
        ("num_queues_per_dim", args.num_queues_per_dim))
        if value is not None}


def _experiment_from_args(args: argparse.Namespace) -> Experiment:
    if args.experiment:
        if args.workload or args.system or args.network:
            raise InputError("give either an experiment YAML or --workload/--system/--network, "
                             "not both")
        experiment = load_experiment(args.experiment)
        merged = dataclasses.asdict(experiment.options) | _overrides(args)
        experiment = dataclasses.replace(experiment, options=validate_options(merged, None))
        if args.network_backend:
            experiment = dataclasses.replace(experiment, network_backend=args.network_backend)
    else:
        missing = [flag for flag, value in (("--workload", args.workload),
                                            ("--system", args.system),
                                            ("--network", args.network)) if not value]
        if missing:
            raise InputError(f"missing {', '.join(missing)} (or give an experiment YAML)")
        experiment = Experiment(
            name=os.path.splitext(os.path.basename(args.workload))[0],
            workload=args.workload, system=args.system, network=args.network,
            network_backend=args.network_backend or "analytical",
            options=validate_options(_overrides(args), None))
    if experiment.network_backend not in NETWORK_BACKENDS:
        raise InputError(f"--network-backend: found {experiment.network_backend!r}; expected "
                         f"one of {', '.join(NETWORK_BACKENDS)}")
    if args.comm_group:
        experiment = dataclasses.replace(experiment, comm_group=args.comm_group)
    if args.network_option:
        options = {key: os.path.abspath(value) if key.endswith("_file") and
                   isinstance(value, str) else value
                   for key, value in _key_values(args.network_option, "--network-option").items()}
        experiment = dataclasses.replace(experiment, network_options=(
            experiment.network_options | options))
    compute = experiment.compute
    if args.compute_backend or args.compute_config:
        config = read_mapping(args.compute_config, "--compute-config") \
            if args.compute_config else (compute.config if compute else {})
        compute = ComputeChoice(args.compute_backend or (compute.backend if compute else
                                                         "roofline"),
                                config, compute.placement if compute else AdapterPlacement())
    endpoints: dict[str, str] = {}
    for item in args.adapter:
        kind, sep, value = item.partition("=")
        if kind not in ("network", "compute") or not sep or "://" not in value:
            raise InputError(f"--adapter: found {item!r}; expected network=tcp://HOST:PORT or "
                             "compute=tcp://HOST:PORT")
        endpoints[kind] = value
    if "compute" in endpoints and compute is None:
        raise InputError("--adapter compute=...: no compute backend is chosen; add "
                         "--compute-backend")
    if args.adapter_timeout is not None and not (math.isfinite(args.adapter_timeout) and
                                                 args.adapter_timeout > 0):
        raise InputError(f"--adapter-timeout: found {args.adapter_timeout:g}; expected a "
                         "finite number of seconds > 0")

    def where(current: AdapterPlacement, kind: str) -> AdapterPlacement:
        # the command line wins over the file: --placement drops the file's endpoint
        # (--adapter KIND=... names another one)
        endpoint = endpoints.get(kind, None if args.placement else current.endpoint)
        return AdapterPlacement(
            args.placement or current.placement, endpoint,
            args.adapter_timeout if args.adapter_timeout is not None else current.timeout_s,
            args.transport or current.transport, args.adapter_key or current.key_file,
            "--adapter-key" if args.adapter_key else current.key_origin)

    experiment = dataclasses.replace(experiment, placement=where(experiment.placement, "network"))
    if args.symmetry:
        experiment = dataclasses.replace(experiment, symmetry=args.symmetry)
    if compute is not None:
        compute = dataclasses.replace(compute, placement=where(compute.placement, "compute"))
    return dataclasses.replace(experiment, compute=compute)


def _key_values(items: list[str], flag: str) -> dict[str, object]:
    """KEY=VALUE pairs; each value read as a YAML scalar (numbers and booleans typed)."""
    import yaml        # not at module level: most runs have no KEY=VALUE options
    pairs: dict[str, object] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"{flag}: found {item!r}; expected KEY=VALUE")
        try:
            pairs[key] = yaml.safe_load(value)
        except yaml.YAMLError:
            pairs[key] = value
    return pairs


def run_command(args: argparse.Namespace) -> int:
    experiment = _experiment_from_args(args)
    out_dir = args.out or os.path.join("results", experiment.name)
    if args.trace_npus and not args.trace:
        raise InputError("--trace-npus selects the NPUs of a trace; add --trace FILE")
    if args.trace_npus:
        npu_ranges(args.trace_npus)          # bad lists fail before the run
    if not (math.isfinite(args.progress_interval) and args.progress_interval > 0):
        raise InputError(f"--progress-interval: found {args.progress_interval:g}; expected a "
                         "finite number of seconds > 0")
    style = "off" if args.quiet else args.progress or (
        "rich" if sys.stderr.isatty() else "plain")
    instruments = Instruments(trace=bool(args.trace), trace_npus=args.trace_npus,
                              progress=style != "off", progress_style=style,
                              progress_interval_s=args.progress_interval)
    # the output paths are checked (and staged) before the run, whose result they must hold
    out = StagedFolder(out_dir, args.overwrite, keep=_inputs(experiment) + (os.getcwd(),))
    trace_file: StagedFile | None = None
    try:
        trace_path = None
        if args.trace:
            trace_path, trace_file = _trace_target(args.trace, out)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = simulate(experiment, instruments)
        for warning in caught:
            print(f"astra-cosim: warning: {warning.message}", file=sys.stderr)
        write_results(result, out.path)
        write_statistics(result, instruments.recorder, out.path)
        if trace_path is not None:
            size = write_trace(result, instruments.recorder, trace_path)
        out.commit()
        if trace_file is not None:
            trace_file.commit()
    except BaseException:
        out.discard()
        if trace_file is not None:
            trace_file.discard()
        raise
    plotted = plots.after_run(result.name, out_dir)      # the tutorial's group plots
    if args.trace:
        if not args.quiet:
            print(f"trace of NPU(s) {_npu_list(instruments.recorder.npus)} in {args.trace} "
                  f"({size / 1e6:.1f} MB)")
    if not args.quiet:
        width = max(24, len(result.name))      # a long name widens the column, not the row
        print(f"{'run':<{width}} {'total (us)':>14} {'compute (us)':>14} "
              f"{'exposed comm (us)':>18}")
        print(f"{result.name:<{width}} {ns_to_us_text(result.total_ns):>14} "
              f"{ns_to_us_text(result.compute_ns):>14} "
              f"{ns_to_us_text(result.exposed_comm_ns):>18}")
        print(f"results in {out_dir}/")
        if plotted:
            print(plotted)
    return 0


def _inputs(experiment: Experiment) -> tuple[str, ...]:
    """The files a run reads, which its result folder must not hold (a 2.x workload is a
    prefix: its files are ``<prefix>.<npu>.et``)."""
    workload = experiment.workload
    if not os.path.exists(workload):
        from orchestrator.workload.chakra import trace_path   # protobuf: only for 2.x inputs
        workload = trace_path(workload, 0)
    paths = [workload, experiment.system, experiment.network, experiment.source,
             experiment.comm_group]
    return tuple(path for path in paths if isinstance(path, str))


def _trace_target(trace: str, out: StagedFolder) -> tuple[str, StagedFile | None]:
    """Where to write the trace now: inside the staged result folder when ``--trace`` lies
    inside ``--out`` (it moves with it), else a staged file beside the target."""
    target = os.path.abspath(trace)
    if os.path.commonpath([target, out.target]) == out.target:
        if target == out.target:
            raise InputError(f"--trace: {trace} is the --out folder; expected a file name")
        staged = out.staged(os.path.relpath(target, out.target))
        os.makedirs(os.path.dirname(staged), exist_ok=True)
        return staged, None
    staged_file = StagedFile(trace)
    return staged_file.path, staged_file


def _npu_list(npus: set[int]) -> str:
    """0-7,16: the traced NPUs, short."""
    ordered = sorted(npus)
    parts = []
    start = previous = ordered[0]
    for npu in ordered[1:] + [-1]:
        if npu != previous + 1:
            parts.append(str(start) if start == previous else f"{start}-{previous}")
            start = npu
        previous = npu
    return ",".join(parts)
