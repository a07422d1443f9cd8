"""``astra-cosim adapter serve KIND --bind ENDPOINT``: run an adapter server (protos/cosim.proto).

The engine starts one itself for ``--placement process``; run it by hand, or in a container, to
place an adapter elsewhere and point the engine at it with ``--adapter network=ENDPOINT``.
"""

from __future__ import annotations

import argparse

from orchestrator.cosim.server import serve


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("adapter", help="run an adapter server",
                                 description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    serve_parser = verbs.add_parser("serve", help="serve one adapter kind")
    serve_parser.add_argument("kind", help="adapter kind: network")
    serve_parser.add_argument("--bind", required=True, help="ZeroMQ endpoint, e.g. tcp://*:5555")
    serve_parser.add_argument("--parent-pid", type=int, default=None,
                              help="exit when this process is gone")
    serve_parser.add_argument("--idle-timeout", type=float, default=600.0,
                              help="exit after this many seconds without a request")
    serve_parser.set_defaults(handler=serve_command)


def serve_command(args: argparse.Namespace) -> int:
    return serve(args.kind, args.bind, args.parent_pid, args.idle_timeout)
