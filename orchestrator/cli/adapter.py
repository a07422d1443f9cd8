"""Adapter servers (protos/cosim.proto).

    astra-cosim adapter serve KIND --bind ENDPOINT [--preload MODEL] [--curve-secret-key FILE]
    astra-cosim adapter ping ENDPOINT [--timeout S] [--key FILE]
    astra-cosim adapter keygen DIR [--shared] [--force]

The engine starts a server itself for ``--placement process``; run one by hand, or in a
container, to place an adapter elsewhere and point the engine at it with
``--adapter network=ENDPOINT`` (or ``compute=``). A served adapter gives every engine a session
(and a model) of its own. With ``--curve-secret-key`` it speaks ZeroMQ CURVE and admits only
engines given the same key file (``run --adapter-key``, or ``key:`` in the experiment's adapter
section); ``keygen`` writes one. ``$ASTRA_ADAPTER_KEY`` names the key file when no flag does.
``ping`` does the protocol's hello and exits 0 when the adapter answers (a container
healthcheck).
"""

from __future__ import annotations

import argparse
import math

from adapters.registry import MODELS_BY_KIND, preload
from orchestrator.cosim import keys
from orchestrator.cosim.server import MAX_SESSIONS, serve
from orchestrator.errors import InputError


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
    serve_parser.add_argument("--bind", required=True,
                              help="ZeroMQ endpoint, e.g. tcp://*:5555; or fd:N, a connected "
                                   "stream socket inherited as descriptor N (the pipe "
                                   "transport of --placement process)")
    serve_parser.add_argument("--curve-secret-key", default=None, metavar="FILE",
                              help="encrypt with this key pair (adapter keygen) and admit only "
                                   "engines that hold it (default: $ASTRA_ADAPTER_KEY)")
    serve_parser.add_argument("--max-sessions", type=int, default=MAX_SESSIONS, metavar="N",
                              help=f"engines served at once (default {MAX_SESSIONS}); one more "
                                   "is refused as busy")
    serve_parser.add_argument("--one-engine", action="store_true",
                              help="serve one engine, then exit (as --placement process does)")
    serve_parser.add_argument("--scratch", default=None, metavar="DIR",
                              help="a folder of this server's own, removed when it exits (the "
                                   "engine that spawned it may have been killed)")
    serve_parser.add_argument("--parent-pid", type=int, default=None,
                              help="exit when this process is gone")
    serve_parser.add_argument("--idle-timeout", type=float, default=600.0,
                              help="exit after this many seconds without a request; a session "
                                   "silent this long is closed")
    serve_parser.add_argument("--ready-fd", type=int, default=None, help=argparse.SUPPRESS)
    serve_parser.set_defaults(handler=serve_command)
    ping_parser = verbs.add_parser("ping", help="check that an adapter server answers")
    ping_parser.add_argument("endpoint", help="e.g. tcp://localhost:5555")
    ping_parser.add_argument("--timeout", type=float, default=5.0, metavar="S")
    ping_parser.add_argument("--key", default=None, metavar="FILE",
                             help="the adapter's CURVE key file (default: $ASTRA_ADAPTER_KEY)")
    ping_parser.set_defaults(handler=ping_command)
    keygen_parser = verbs.add_parser("keygen", help="write a CURVE key pair for served adapters")
    keygen_parser.add_argument("directory", help="writes DIR/adapter.key_secret and "
                                                 "DIR/adapter.key")
    keygen_parser.add_argument("--shared", action="store_true",
                               help="make the secret file readable by every user (for a volume "
                                    "only the stack's containers mount)")
    keygen_parser.add_argument("--force", action="store_true",
                               help="replace an existing pair (default: keep it)")
    keygen_parser.set_defaults(handler=keygen_command)


def serve_command(args: argparse.Namespace) -> int:
    if args.max_sessions < 1:
        raise InputError(f"--max-sessions: found {args.max_sessions}; expected a whole number "
                         ">= 1")
    if not args.idle_timeout > 0:
        raise InputError(f"--idle-timeout: found {args.idle_timeout}; expected seconds > 0")
    key_file = keys.key_file(args.curve_secret_key)
    if key_file is not None:
        keys.load(key_file, "--curve-secret-key" if args.curve_secret_key
                  else f"${keys.ENV_KEY}")     # a bad key fails before any loading
    if args.preload:
        if args.kind not in MODELS_BY_KIND:
            raise InputError(f"no adapter kind {args.kind!r}; expected one of "
                             f"{', '.join(MODELS_BY_KIND)}")
        preload(args.kind, args.preload)
    return serve(args.kind, args.bind, args.parent_pid, args.idle_timeout,
                 one_engine=args.one_engine, key_file=key_file, max_sessions=args.max_sessions,
                 scratch=args.scratch, ready_fd=args.ready_fd)


def ping_command(args: argparse.Namespace) -> int:
    if not (math.isfinite(args.timeout) and args.timeout > 0):     # inf waited for ever
        raise InputError(f"--timeout: found {args.timeout}; expected seconds > 0")
    if "://" not in args.endpoint:
        raise InputError(f"endpoint: found {args.endpoint!r}; expected e.g. tcp://host:5555 "
                         "or ipc:///path/socket")
    from orchestrator.cosim.client import ping   # the engine's side: not on a server's path

    kind, models = ping(args.endpoint, args.timeout, keys.key_file(args.key),
                        "--key" if args.key else f"${keys.ENV_KEY}")
    print(f"{kind} adapter at {args.endpoint}: ready ({', '.join(models)})")
    return 0


def keygen_command(args: argparse.Namespace) -> int:
    secret, public, written = keys.generate(args.directory, shared=args.shared, force=args.force)
    print(f"{'wrote' if written else 'kept'} {secret} (give it to the adapter and its engines) "
          f"and {public}")
    return 0
