"""Entry point of ``astra-cosim``: wires the subcommands and turns errors into one line.

Exit status 0 on success; 2 with ``astra-cosim: error: <reason>`` on stderr for bad input or a
run that cannot finish. Tracebacks are shown only with ``ASTRA_COSIM_DEBUG=1``.

Only the module of the subcommand being run is imported (``run`` does not pay for the sweep
executors, the adapter server or the report), so a simulation starts in a fraction of a second;
``--help`` without a subcommand imports them all to list them.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading

from orchestrator import __version__
from orchestrator.errors import AstraCosimError

# subcommand -> module under orchestrator.cli with an add_parser(commands) function
COMMANDS = {
    "run": "run",
    "trace": "trace",
    "adapter": "adapter",
    "sweep": "sweep",
    "workload": "workload_cmd",
    "report": "report_cmd",
    "predict": "predict_cmd",
    "list": "list_cmd",
    "collective": "collective_cmd",
}


def _chosen(argv: list[str]) -> str | None:
    """The subcommand named on the command line (the first word not starting with '-')."""
    for word in argv:
        if not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="astra-cosim",
        description="Simulate distributed DNN training (ASTRA-sim semantics, exact to the ns).")
    parser.add_argument("--version", action="version", version=f"astra-cosim {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    words = sys.argv[1:] if argv is None else argv
    chosen = _chosen(words)
    if chosen is None and "--version" in words:
        return parser            # it prints the version and exits: no subcommand is needed
    for name, module in COMMANDS.items():
        if chosen is None or name == chosen:
            importlib.import_module(f"orchestrator.cli.{module}").add_parser(commands)
    return parser


class Terminated(BaseException):
    """SIGTERM, raised where the run is so that it unwinds like Ctrl-C: adapters are shut
    down, their scratch folders and the staged result folder removed."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated()


def main(argv: list[str] | None = None, parser: argparse.ArgumentParser | None = None) -> int:
    """``parser``: one build_parser made earlier for the same subcommand (a forked adapter
    child gets its engine's, orchestrator/cosim/spawn.py)."""
    args = (parser or build_parser(argv)).parse_args(argv)
    previous = None
    # only `run` unwinds on SIGTERM: its workers (adapter children) are processes of their
    # own, whereas forked sweep workers would inherit the handler
    if args.command == "run" and threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return args.handler(args)
    except AstraCosimError as exc:
        if os.environ.get("ASTRA_COSIM_DEBUG"):
            raise
        print(f"astra-cosim: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("astra-cosim: interrupted (SIGINT); no result was written", file=sys.stderr)
        return 130
    except MemoryError:
        print("astra-cosim: error: out of memory: the run is too large for this machine",
              file=sys.stderr)
        return 2
    except Terminated:
        print("astra-cosim: terminated (SIGTERM); no result was written", file=sys.stderr)
        return 143
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
