"""The Ray executor: one Ray task per trial, on a local Ray instance or a cluster.

With ``RAY_ADDRESS`` set (``ray start --head`` prints it) the tasks go to that cluster and
its machines run them; otherwise a local instance with ``jobs`` CPUs is started for the sweep
and shut down after it. A task returns its record to the driver, which writes every trial
file, so the machines share no results folder; they need astra-cosim installed and the
workload files at the same absolute path (the system and network travel inside the trial).

Ray is imported only when this executor runs, so the rest of the package works without it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any

from orchestrator.sweep.local import ExecutorError
from orchestrator.sweep.trial import Trial, run_trial

RAY_MISSING = ("the ray executor needs Ray, which is not installed: pip install "
               "'astra-cosim[ray]' (or pip install ray==2.60.0)")


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ExecutorError(RAY_MISSING) from None
    return ray


def run_ray(trials: Sequence[Trial], jobs: int) -> Iterator[dict[str, Any]]:
    ray = import_ray()
    started = False
    if not ray.is_initialized():
        address = os.environ.get("RAY_ADDRESS")
        if address:
            ray.init(address=address)
        else:
            ray.init(num_cpus=max(1, jobs), include_dashboard=False)
        started = True
    pending: dict[Any, Trial] = {}
    try:
        task = ray.remote(num_cpus=1)(run_trial)
        pending = {task.remote(trial): trial for trial in trials}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                trial = pending.pop(ref)
                try:
                    yield ray.get(ref)
                except ray.exceptions.RayError as exc:
                    raise ExecutorError(f"Ray could not run trial {trial.key[:12]} ({exc}); the "
                                        "trials finished so far are kept: rerun the sweep to "
                                        "resume") from None
    finally:
        for ref in pending:
            ray.cancel(ref)
        if started:
            ray.shutdown()
