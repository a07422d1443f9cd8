"""The local executor: trials in a pool of worker processes on this machine.

An executor is a function ``(trials, jobs) -> iterator of records`` that yields each trial's
record as it finishes, in any order; the driver stores and reports them (``runner.py``).

The simulator is pure Python and CPU-bound, so parallelism needs processes, not threads. The
workers are started by ``forkserver`` (``spawn`` where that is missing, or where its socket path
would be too long for a Unix socket: a deep TMPDIR) rather than ``fork``:
forking a parent that holds threads (a Ray driver, a test runner's plugins) can deadlock the
child, and the cost, one import of the engine per worker, is paid once per sweep. With one job
the trials run in this process: no pool to start, and a debugger sees them.

Workers watch the driver: a driver killed outright (SIGKILL, the OOM killer) runs no cleanup,
and a worker in the middle of a long trial would not notice until its trial ended. Each worker
therefore waits on the driver's pid (a pidfd on Linux, a poll elsewhere) in a thread and, when
the driver is gone, stops itself with SIGTERM; its parent, the forkserver, exits with the
driver and ``PR_SET_PDEATHSIG`` sends the same signal. On SIGTERM (also the driver's way of
stopping workers on Ctrl-C) a worker interrupts its trial, so that the trial's adapters are
closed and their scratch folders removed, and exits.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import multiprocessing.util
import select
import shutil
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from orchestrator.errors import AstraCosimError
from orchestrator.processes import alive as _driver_alive
from orchestrator.sweep.trial import Trial, run_trial


class ExecutorError(AstraCosimError):
    """The executor itself failed (not a trial): a worker died, Ray is missing, ..."""


SOCKET_PATH_MAX = 107      # bytes of a Unix socket path (sockaddr_un.sun_path less its NUL)
# the forkserver listens on <multiprocessing's folder>/listener-<8 random characters>
_LISTENER_NAME = len("listener-") + 8 + 1


def _context() -> multiprocessing.context.BaseContext:
    """forkserver where it exists and its socket path fits in a Unix socket address; under a
    deep TMPDIR (Python 3.11 puts the forkserver's socket there) spawn, which needs none."""
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods and \
            len(os.fsencode(multiprocessing.util.get_temp_dir())) + _LISTENER_NAME \
            <= SOCKET_PATH_MAX:
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context("spawn")


GRACE_S = 3.0        # how long a stopped worker may take to close its trial's adapters
_idle = threading.Event()       # set in a worker while no trial runs
_idle.set()
_stopping = threading.Event()   # set in a worker once it was told to stop
_scratch: str | None = None     # the driver's multiprocessing folder (pymp-*)
_driver = 0


def _exit_now() -> None:
    """End the worker; a killed driver cannot remove its scratch folder, so a worker does."""
    if _scratch and not _driver_alive(_driver):
        shutil.rmtree(_scratch, ignore_errors=True)
    os._exit(1)


def _on_sigterm(signum: int, frame: object) -> None:
    """Stop: at once when idle, else interrupt the trial so that its adapters are closed (and
    their scratch folders removed) on the way out of it; ``_run_watched`` then exits."""
    if _stopping.is_set():
        return
    _stopping.set()
    if _idle.is_set():
        _exit_now()
    threading.Timer(GRACE_S, _exit_now).start()       # should the trial not let go
    raise KeyboardInterrupt


def _quiet_when_stopping(unraisable: Any) -> None:
    """A stop that lands while a finalizer runs (e.g. ``subprocess.Popen.__del__``) cannot
    interrupt the trial from there: Python drops the KeyboardInterrupt and would print a
    traceback into the sweep's stderr. The worker is stopping anyway (the grace timer ends it),
    so that one is not printed; anything else is, as by default."""
    if _stopping.is_set() and isinstance(unraisable.exc_value, KeyboardInterrupt):
        return
    sys.__unraisablehook__(unraisable)


def _exit_when_gone(pid: int) -> None:
    try:
        watch = os.pidfd_open(pid)        # readable once the process has exited
    except (AttributeError, OSError):
        while _driver_alive(pid):
            time.sleep(0.5)
    else:
        select.select([watch], [], [])
    os.kill(os.getpid(), signal.SIGTERM)


def watch_driver(driver_pid: int, scratch: str | None = None) -> None:
    """Worker initializer: stop this worker when the sweep's driver process is gone."""
    global _scratch, _driver
    _scratch, _driver = scratch, driver_pid
    signal.signal(signal.SIGTERM, _on_sigterm)
    sys.unraisablehook = _quiet_when_stopping
    if sys.platform.startswith("linux"):
        try:   # PR_SET_PDEATHSIG: SIGTERM when the parent (the forkserver) exits
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)
        except (OSError, AttributeError):
            pass
    if not _driver_alive(driver_pid):
        os._exit(1)
    threading.Thread(target=_exit_when_gone, args=(driver_pid,), daemon=True,
                     name="watch-driver").start()


def _run_watched(trial: Trial) -> dict[str, Any]:
    """``run_trial`` in a worker; a worker told to stop exits once the trial has let go."""
    _idle.clear()
    try:
        return run_trial(trial)
    finally:
        _idle.set()
        if _stopping.is_set():
            _exit_now()


def _quiet_resource_tracker() -> None:
    """Start multiprocessing's resource tracker without its warning about leaked semaphores:
    it frees the pool's semaphores after a killed driver, which is its job, and the two-line
    warning it prints then on the driver's terminal says nothing the user can act on."""
    from multiprocessing import resource_tracker

    quiet = "ignore::UserWarning:multiprocessing.resource_tracker"
    sys.warnoptions.append(quiet)          # the tracker inherits the interpreter's -W options
    try:
        resource_tracker.ensure_running()
    finally:
        sys.warnoptions.remove(quiet)


def run_local(trials: Sequence[Trial], jobs: int) -> Iterator[dict[str, Any]]:
    if jobs <= 1 or len(trials) <= 1:
        for trial in trials:
            yield run_trial(trial)
        return
    _quiet_resource_tracker()
    pool = ProcessPoolExecutor(max_workers=min(jobs, len(trials)), mp_context=_context(),
                               initializer=watch_driver,
                               initargs=(os.getpid(), multiprocessing.util.get_temp_dir()))
    futures = []
    try:
        futures = [pool.submit(_run_watched, trial) for trial in trials]
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
