"""``astra-cosim collective``: an nccl-tests run of one collective over a range of sizes.

    astra-cosim collective all-reduce -b 8 -e 128M -f 2 --platform ring8
    astra-cosim collective all-gather -b 1K -e 1G -f 4 --system S --network N \\
        --network-backend analytical-aware
    astra-cosim collective all-to-all -b 1M -e 64M -f 2 --platform switch8 \\
        --network-backend ns3 --placement process

Prints nccl-tests' table (size, count, type, redop, root, time, algbw, busbw) a row at a
time, and writes collective.csv and busbw.png (busbw against size) into --out. busbw is
nccl-tests' algbw x 2(n-1)/n for all-reduce and x (n-1)/n for all-gather, reduce-scatter and
all-to-all. `astra-cosim list` shows the platform presets.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

from adapters.analytical.config_v1 import load_v1_network
from adapters.analytical.config_v2 import load_v2_network
from orchestrator.cli.run import _key_values
from orchestrator.cosim.placement import PLACEMENTS, TRANSPORTS, AdapterPlacement
from orchestrator.errors import InputError
from orchestrator.experiment.model import NETWORK_BACKENDS
from orchestrator.nccl.bench import (COLLECTIVES, Target, buffer_bytes, collective,
                                     time_collective)
from orchestrator.nccl.sizes import TYPE_BYTES, parse_size, size_series
from orchestrator.output import nccl_table
from orchestrator.output.staging import StagedFolder
from orchestrator.nccl.presets import PLATFORMS, platform

DEFAULT_PLATFORM = "ring8"


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "collective", help="nccl-tests mode: time one collective over a range of sizes",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("collective", help=f"one of {', '.join(COLLECTIVES)}")
    parser.add_argument("-b", "--minbytes", default="8", metavar="SIZE",
                        help="first size in bytes, suffixes K, M, G (default 8)")
    parser.add_argument("-e", "--maxbytes", default="128M", metavar="SIZE",
                        help="last size in bytes (default 128M)")
    parser.add_argument("-f", "--stepfactor", type=int, default=None, metavar="F",
                        help="multiply the size by F each row (default 2)")
    parser.add_argument("-i", "--stepbytes", default=None, metavar="SIZE",
                        help="add SIZE bytes each row instead of -f")
    parser.add_argument("-d", "--datatype", default="float", choices=list(TYPE_BYTES),
                        help="element type: sets the count column and rounds sizes to whole "
                             "elements (default float)")
    parser.add_argument("--platform", default=None, metavar="NAME",
                        help=f"a platform preset ({', '.join(PLATFORMS)}; default "
                             f"{DEFAULT_PLATFORM}); or give --system and --network")
    parser.add_argument("--system", help="system file: 1.0 key: value lines, or 2.x JSON")
    parser.add_argument("--network", help="network file: 1.0 JSON, or 2.x YAML")
    parser.add_argument("--network-backend", default="analytical", choices=NETWORK_BACKENDS,
                        help="network model (default analytical; analytical-aware needs 2.x "
                             "inputs or a preset)")
    parser.add_argument("--network-option", action="append", default=[], metavar="KEY=VALUE",
                        help="a backend-specific network setting (ns3's); repeat for more")
    parser.add_argument("--placement", default="inprocess", choices=PLACEMENTS,
                        help="where the network adapter runs (default inprocess)")
    parser.add_argument("--transport", default="tcp", choices=TRANSPORTS,
                        help="how the engine reaches a spawned adapter (default tcp)")
    parser.add_argument("--adapter-timeout", type=float, default=30.0, metavar="S",
                        help="seconds to wait for an adapter's answer (default 30)")
    parser.add_argument("--out", default=None,
                        help="folder for collective.csv and busbw.png (default "
                             "results/collective/<collective>-<platform>-<backend>)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the contents of an --out folder that is not a result")
    parser.add_argument("--quiet", action="store_true", help="print nothing on success")
    parser.set_defaults(handler=collective_command)


def _target(args: argparse.Namespace) -> Target:
    placement = AdapterPlacement(args.placement, None, args.adapter_timeout, args.transport)
    options = _key_values(args.network_option, "--network-option")
    if args.system or args.network:
        if args.platform:
            raise InputError("give either --platform or --system and --network, not both")
        if not (args.system and args.network):
            raise InputError("--system and --network go together (or give --platform)")
        if args.system.endswith(".json"):
            npus = load_v2_network(args.network).npus_count
            input_format = "v2"
        else:
            npus = load_v1_network(args.network).npus_count
            input_format = "v1"
        label = os.path.splitext(os.path.basename(args.network))[0]
        return Target(label, input_format, os.path.abspath(args.system),
                      os.path.abspath(args.network), npus, args.network_backend, options,
                      placement)
    preset = platform(args.platform or DEFAULT_PLATFORM)
    return Target(preset.name, "v2", preset.system, preset.network, preset.npus_count,
                  args.network_backend, options, placement)


def collective_command(args: argparse.Namespace) -> int:
    coll = collective(args.collective)
    target = _target(args)
    if target.input_format == "v1" and target.backend == "analytical-aware":
        raise InputError("--network-backend analytical-aware needs 2.x inputs (a JSON system "
                         "file and a YAML network) or a --platform preset")
    step = parse_size(args.stepbytes, "-i") if args.stepbytes else None
    factor = args.stepfactor if args.stepfactor is not None or step is not None else 2
    sizes = size_series(parse_size(args.minbytes, "-b"), parse_size(args.maxbytes, "-e"),
                        factor, step)
    type_bytes = TYPE_BYTES[args.datatype]
    buffers = [buffer_bytes(coll, size, type_bytes, target.npus) for size in sizes]
    too_small = [size for size, buffer in zip(sizes, buffers) if buffer == 0]
    runs = sorted({buffer for buffer in buffers if buffer > 0})
    if not runs:
        raise InputError(f"-e: {coll.name} on {target.npus} NPUs needs at least "
                         f"{type_bytes * (1 if coll.token == 'ALLREDUCE' else target.npus)} "
                         f"bytes of {args.datatype}; every size is smaller")
    out_dir = args.out or os.path.join("results", "collective",
                                       f"{coll.name}-{target.label}-{target.backend}")
    title = (f"{coll.name} on {target.label} ({target.npus} NPUs), {target.backend} network, "
             f"placement {target.placement.placement}")
    say = (lambda text: None) if args.quiet else (lambda text: print(text, flush=True))
    # checked and staged before the first size runs, moved into place whole at the end (a bad
    # --out was a traceback after every size had run)
    keep = tuple(path for path in (target.system, target.network, os.getcwd())
                 if isinstance(path, str) and os.path.exists(path))
    out = StagedFolder(out_dir, args.overwrite, keep=keep)
    try:
        for text in nccl_table.header(title):
            say(text)
        if too_small:
            say(f"# skipped {len(too_small)} size(s) below one {args.datatype} per NPU: "
                f"{', '.join(str(size) for size in too_small)}")
        rows = []
        with tempfile.TemporaryDirectory(prefix="astra-cosim-collective-") as folder:
            for size in runs:
                row = time_collective(coll, target, size, args.datatype, type_bytes, folder)
                rows.append(row)
                say(nccl_table.line(row))
        for text in nccl_table.footer(rows):
            say(text)
        nccl_table.write_csv(rows, out.staged(nccl_table.CSV_NAME))
        try:
            nccl_table.write_plot(rows, title, out.staged(nccl_table.PLOT_NAME))
            plotted = f" and {nccl_table.PLOT_NAME}"
        except ImportError:
            plotted = ""
            print("astra-cosim: warning: busbw.png not drawn: matplotlib is missing (pip "
                  "install 'astra-cosim[report]')", file=sys.stderr)
        out.commit()
    except BaseException:
        out.discard()
        raise
    say(f"# {nccl_table.CSV_NAME}{plotted} in {out_dir}/")
    return 0
