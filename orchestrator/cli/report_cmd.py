"""``astra-cosim report DIR [--html FILE]``: summarise a run's or a sweep's result folder.

    astra-cosim report results/ex1                 # tables on the terminal
    astra-cosim report results/ex1 --html ex1.html # plus a self-contained HTML page
    astra-cosim report sweeps/ex2_1 --html s.html  # a sweep: axes x totals, busbw, plots
"""

from __future__ import annotations

import argparse

from orchestrator.output.report import load_report, print_report
from orchestrator.output.sweep_report import (is_sweep_folder, load_sweep_report,
                                              print_sweep_report, write_sweep_html)


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("report", help="summarise the result folder of a run or a sweep",
                                 description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", help="the --out folder of `astra-cosim run` or of "
                                       "`astra-cosim sweep`")
    parser.add_argument("--html", metavar="FILE", default=None,
                        help="also write a self-contained HTML page with the plots")
    parser.set_defaults(handler=report_command)


def report_command(args: argparse.Namespace) -> int:
    if is_sweep_folder(args.folder):
        sweep = load_sweep_report(args.folder)
        print_sweep_report(sweep)
        if args.html:
            write_sweep_html(sweep, args.html)
            print(f"HTML report in {args.html}")
        return 0
    report = load_report(args.folder)
    print_report(report)
    if args.html:
        from orchestrator.output.report_html import write_html
        write_html(report, args.html)
        print(f"HTML report in {args.html}")
    return 0
