"""Entry point of ``astra-cosim``: wires the subcommands and turns errors into one line.

Exit status 0 on success; 2 with ``astra-cosim: error: <reason>`` on stderr for bad input or a
run that cannot finish. Tracebacks are shown only with ``ASTRA_COSIM_DEBUG=1``.
"""

from __future__ import annotations

import argparse
import os
import sys

from orchestrator import __version__
from orchestrator.cli import (adapter, collective_cmd, list_cmd, report_cmd, run, sweep, trace,
                              workload_cmd)
from orchestrator.errors import AstraCosimError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="astra-cosim",
        description="Simulate distributed DNN training (ASTRA-sim semantics, exact to the ns).")
    parser.add_argument("--version", action="version", version=f"astra-cosim {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run.add_parser(commands)
    trace.add_parser(commands)
    adapter.add_parser(commands)
    sweep.add_parser(commands)
    workload_cmd.add_parser(commands)
    report_cmd.add_parser(commands)
    list_cmd.add_parser(commands)
    collective_cmd.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except AstraCosimError as exc:
        if os.environ.get("ASTRA_COSIM_DEBUG"):
            raise
        print(f"astra-cosim: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("astra-cosim: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
