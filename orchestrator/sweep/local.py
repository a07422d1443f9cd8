"""The local executor: trials in a pool of worker processes on this machine.

An executor is a function ``(trials, jobs) -> iterator of records`` that yields each trial's
record as it finishes, in any order; the driver stores and reports them (``runner.py``).

The simulator is pure Python and CPU-bound, so parallelism needs processes, not threads. The
workers are started by ``forkserver`` (``spawn`` where that is missing) rather than ``fork``:
forking a parent that holds threads (a Ray driver, a test runner's plugins) can deadlock the
child, and the cost, one import of the engine per worker, is paid once per sweep. With one job
the trials run in this process: no pool to start, and a debugger sees them.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from orchestrator.errors import AstraCosimError
from orchestrator.sweep.trial import Trial, run_trial


class ExecutorError(AstraCosimError):
    """The executor itself failed (not a trial): a worker died, Ray is missing, ..."""


def _context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def run_local(trials: Sequence[Trial], jobs: int) -> Iterator[dict[str, Any]]:
    if jobs <= 1 or len(trials) <= 1:
        for trial in trials:
            yield run_trial(trial)
        return
    pool = ProcessPoolExecutor(max_workers=min(jobs, len(trials)), mp_context=_context())
    futures = []
    try:
        futures = [pool.submit(run_trial, trial) for trial in trials]
        for future in as_completed(futures):
            try:
                record = future.result()
            except BrokenProcessPool:
                raise ExecutorError("a worker process died (killed, out of memory, or it could not "
                                    "start: see the lines above); the "
                                    "trials finished so far are kept: rerun the sweep to "
                                    "resume") from None
            yield record
    except BaseException:
        # Interrupted (Ctrl-C), or the consumer stopped: stop now. Waiting for the running
        # trials (and the ones already queued to workers, which cannot be cancelled) would
        # take as long as they do, and nobody would store their results.
        for future in futures:
            future.cancel()
        _terminate_workers(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _terminate_workers(pool: ProcessPoolExecutor) -> None:
    """SIGTERM to the pool's workers. ``ProcessPoolExecutor`` has no public way to do this
    before Python 3.14 (``terminate_workers``); its ``_processes`` map is the documented-by-
    source place, and without it we fall back to waiting."""
    terminate = getattr(pool, "terminate_workers", None)
    if terminate is not None:
        terminate()
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        if process.is_alive():
            process.terminate()
