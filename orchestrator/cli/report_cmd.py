"""``astra-cosim report DIR [--html [FILE]]``: summarise a run's or a sweep's result folder.

    astra-cosim report results/ex1                 # tables on the terminal
    astra-cosim report results/ex1 --html          # plus a self-contained HTML page,
                                                   # results/ex1/report.html
    astra-cosim report results/ex1 --html ex1.html # the page written elsewhere
    astra-cosim report sweeps/ex2_1 --html         # a sweep: axes x totals, busbw, plots
"""

from __future__ import annotations

import argparse
import os

from orchestrator.output.report import load_report, print_report
from orchestrator.output.sweep_report import (is_sweep_folder, load_sweep_report,
                                              print_sweep_report, write_sweep_html)
from orchestrator.output.staging import HTML_NAME


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("report", help="summarise the result folder of a run or a sweep",
                                 description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", help="the --out folder of `astra-cosim run` or of "
                                       "`astra-cosim sweep`")
    parser.add_argument("--html", metavar="FILE", nargs="?", const=True, default=None,
                        help="also write a self-contained HTML page with the plots, to FILE "
                             f"(default: {HTML_NAME} inside the folder)")
    parser.set_defaults(handler=report_command)


def _html_path(args: argparse.Namespace) -> str | None:
    """Where the page goes: FILE as given, or ``report.html`` in the folder for a bare --html
    (the name a rerun into the folder replaces with the rest, output/staging.py)."""
    if args.html is True:
        return os.path.join(args.folder, HTML_NAME)
    return args.html


def report_command(args: argparse.Namespace) -> int:
    args.html = _html_path(args)
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
