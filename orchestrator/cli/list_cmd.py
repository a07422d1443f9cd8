"""``astra-cosim list``: the registered training loops and collective algorithms."""

from __future__ import annotations

import argparse

from orchestrator.system.algorithms.base import algorithms
from orchestrator.workload.loops.base import training_loops


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("list", help="list training loops and collective algorithms")
    parser.set_defaults(handler=list_command)


def list_command(_args: argparse.Namespace) -> int:
    for title, registry in (("training loops (workload header token)", training_loops),
                            ("collective algorithms (system file token)", algorithms)):
        print(f"{title}:")
        for entry in registry.entries():
            print(f"  {entry.name:<34} {entry.summary}")
    return 0
