"""``astra-cosim sweep``: run every variant of an experiment that a sweep file describes.

    astra-cosim sweep SWEEP.yaml [--jobs N] [--executor local|ray] [--out DIR]
                      [--resume | --no-resume] [--retry-failed] [--max-trials N]

Writes ``OUT/trials/<key>.json`` per trial (its summary figures, or its error), then
``OUT/results.csv``, ``OUT/results.parquet`` (with pandas and pyarrow) and ``OUT/total_ns.png``
(with matplotlib); a parallelism search (``predict:`` in place of ``base:``) writes
``OUT/results.csv`` and ``OUT/ranking.csv`` and prints its best configurations. A rerun skips
trials that have a file. A trial that fails is recorded and
the sweep goes on; the exit status says how it ended: 0 when every trial run has a result, 1
(with a line saying how many) when any trial failed, 2 when the sweep file or the executor
fails, 143 when the sweep was terminated (SIGTERM: its workers are stopped, the trials
finished so far kept for a rerun).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

from orchestrator.errors import InputError
from orchestrator.sweep.runner import EXECUTORS, run_sweep
from orchestrator.sweep.spec import load_sweep


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("sweep", help="run a design-space sweep of experiments",
                                 description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sweep", help="a sweep YAML file (a base experiment plus axes)")
    parser.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1,
                        help="trials run at once (default: the number of CPUs); with "
                             "--executor ray, the CPUs of the local Ray instance")
    parser.add_argument("--executor", choices=EXECUTORS, default="local",
                        help="local: a process pool here; ray: Ray tasks, on the cluster at "
                             "$RAY_ADDRESS when it is set (default local)")
    parser.add_argument("--out", help="output folder (default: results/<sweep name>)")
    parser.add_argument("--resume", action=argparse.BooleanOptionalAction, default=True,
                        help="skip trials that already have a result file (default); "
                             "--no-resume runs them all again")
    parser.add_argument("--retry-failed", action="store_true",
                        help="run again the trials recorded as failed")
    parser.add_argument("--max-trials", type=int, default=None, metavar="N",
                        help="run at most N of the trials still to do, then write the table "
                             "(a rerun does the rest)")
    parser.add_argument("--quiet", action="store_true", help="no line per trial")
    parser.set_defaults(handler=sweep_command)


def sweep_command(args: argparse.Namespace) -> int:
    if args.jobs < 1:
        raise InputError(f"--jobs: found {args.jobs}; expected a whole number >= 1")
    if args.max_trials is not None and args.max_trials < 0:
        raise InputError(f"--max-trials: found {args.max_trials}; expected a whole number >= 0")
    spec = load_sweep(args.sweep)
    out_dir = args.out or os.path.join("results", spec.name)
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        report = run_sweep(spec, out_dir, executor=args.executor, jobs=args.jobs,
                           resume=args.resume, retry_failed=args.retry_failed,
                           max_trials=args.max_trials, progress=None if args.quiet else print)
    except (Terminated, KeyboardInterrupt) as exc:
        # the trials finished so far are on disk: say so, not the run's "no result written"
        how, signum = (("terminated", signal.SIGTERM) if isinstance(exc, Terminated)
                       else ("interrupted (SIGINT)", signal.SIGINT))
        print(f"astra-cosim: {how}; the trials finished so far are kept in {out_dir}: "
              "run the same command again to resume", file=sys.stderr)
        return 128 + signum
    finally:
        signal.signal(signal.SIGTERM, previous)
    for note in report.notes:
        print(f"astra-cosim: note: {note}")
    done = report.trials - report.missing
    print(f"{spec.name}: {done} of {report.trials} trials have results "
          f"({report.ran} run now, {report.skipped} from earlier runs, {report.failed} failed)")
    if report.missing:
        print(f"{report.missing} trial(s) not run yet: run the same command again to resume")
    for path in report.outputs:
        print(f"  {path}")
    if report.best:
        print("best configurations (by predicted TFLOP/s per GPU):")
        for line in report.best:
            print(f"  {line}")
    if report.failed:
        print(f"astra-cosim: error: {report.failed} of {report.trials} trials failed (their "
              f"errors are in {os.path.join(out_dir, 'results.csv')}; --retry-failed runs them "
              "again)", file=sys.stderr, flush=True)
        return 1
    return 0


class Terminated(BaseException):
    """SIGTERM, raised where the sweep waits so that its workers are stopped on the way out
    (like Ctrl-C, which the executors already handle)."""


def _terminated(signum: int, frame: object) -> None:
    raise Terminated()
