"""Adapter servers (protos/cosim.proto).

    astra-cosim adapter serve KIND --bind ENDPOINT [--preload MODEL]
    astra-cosim adapter ping ENDPOINT [--timeout S]

The engine starts a server itself for ``--placement process``; run one by hand, or in a
container, to place an adapter elsewhere and point the engine at it with
``--adapter network=ENDPOINT`` (or ``compute=``). ``ping`` does the protocol's hello and exits 0
when the adapter answers (a container healthcheck).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile

from adapters.registry import MODELS_BY_KIND, preload
from orchestrator.cosim.client import ping
from orchestrator.cosim.server import serve
from orchestrator.errors import InputError

SCRATCH_PREFIX = "astra-cosim-adapter-"     # spawn_adapter's scratch folders


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("adapter", help="run an adapter server",
                                 description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    serve_parser = verbs.add_parser("serve", help="serve one adapter kind")
    serve_parser.add_argument("kind", help="adapter kind: network or compute")
    serve_parser.add_argument("--preload", default=None, metavar="MODEL",
                              help="load this model's backend before listening (e.g. ns3), "
                                   "so that answering means ready")
    serve_parser.add_argument("--bind", required=True, help="ZeroMQ endpoint, e.g. tcp://*:5555")
    serve_parser.add_argument("--parent-pid", type=int, default=None,
                              help="exit when this process is gone")
    serve_parser.add_argument("--idle-timeout", type=float, default=600.0,
                              help="exit after this many seconds without a request")
    serve_parser.set_defaults(handler=serve_command)
    ping_parser = verbs.add_parser("ping", help="check that an adapter server answers")
    ping_parser.add_argument("endpoint", help="e.g. tcp://localhost:5555")
    ping_parser.add_argument("--timeout", type=float, default=5.0, metavar="S")
    ping_parser.set_defaults(handler=ping_command)


def serve_command(args: argparse.Namespace) -> int:
    if args.preload:
        if args.kind not in MODELS_BY_KIND:
            raise InputError(f"no adapter kind {args.kind!r}; expected one of "
                             f"{', '.join(MODELS_BY_KIND)}")
        preload(args.kind, args.preload)
    try:
        return serve(args.kind, args.bind, args.parent_pid, args.idle_timeout)
    finally:
        if args.parent_pid is not None:
            _remove_spawned_scratch()


def _remove_spawned_scratch() -> None:
    """A server the engine spawned runs in the engine's scratch folder; when the engine was
    killed (SIGKILL) nobody else is left to remove it."""
    try:
        here = os.getcwd()
    except OSError:          # already removed by the engine
        return
    if os.path.basename(here).startswith(SCRATCH_PREFIX) and \
            os.path.dirname(here) == os.path.realpath(tempfile.gettempdir()):
        shutil.rmtree(here, ignore_errors=True)


def ping_command(args: argparse.Namespace) -> int:
    kind, models = ping(args.endpoint, args.timeout)
    print(f"{kind} adapter at {args.endpoint}: ready ({', '.join(models)})")
    return 0
