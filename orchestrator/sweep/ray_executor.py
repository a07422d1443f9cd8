"""The Ray executor: one Ray task per trial, on a local Ray instance or a cluster.

With ``RAY_ADDRESS`` set (``ray start --head`` prints it) the tasks go to that cluster and
its machines run them; otherwise a local instance with ``jobs`` CPUs is started for the sweep
and shut down after it. A task returns its record to the driver, which writes every trial
file, so the machines share no results folder. Nor do they share inputs: the system and
network travel inside the trial, and the workload (a file or a Chakra trace set), the
communicator groups and files named by network options are put into Ray's object store once
per sweep, named by sha256, and cached on each node that runs a trial (``inputs.py``). The
machines need only astra-cosim installed.

``ASTRA_COSIM_RAY_RESOURCES`` (JSON, e.g. ``{"sweep": 1}``) adds custom resources each task
asks for, so that trials run only on the nodes started with them (``ray start --resources``).

Ray is imported only when this executor runs, so the rest of the package works without it.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterator, Sequence
from typing import Any

from orchestrator.errors import InputError
from orchestrator.sweep import inputs
from orchestrator.sweep.local import ExecutorError
from orchestrator.sweep.trial import Trial, run_trial

RESOURCES_ENV = "ASTRA_COSIM_RAY_RESOURCES"
# slot in the config -> (unit, object reference of its contents)
Shipment = list[tuple[tuple[tuple[str, ...], str], inputs.Unit, Any]]

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
    resources = _resources()        # checked before a Ray instance is started for nothing
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
        task = ray.remote(num_cpus=1, resources=resources)(run_shipped)
        shipments = _ship(ray, trials)
        pending = {task.remote(trial, shipment): trial
                   for trial, shipment in zip(trials, shipments)}
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


def _resources() -> dict[str, float]:
    text = os.environ.get(RESOURCES_ENV)
    if not text:
        return {}
    try:
        resources = json.loads(text)
    except ValueError:
        resources = None
    if not (isinstance(resources, dict) and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0
            for v in resources.values())):
        raise InputError(f"${RESOURCES_ENV}: found {text!r}; expected a JSON mapping of "
                         'resource names to amounts > 0, e.g. {"sweep": 1}')
    return {str(name): float(amount) for name, amount in resources.items()}


def _ship(ray: Any, trials: Sequence[Trial]) -> list[Shipment]:
    """Each distinct input unit into the object store once; per trial, its units' refs."""
    known: dict[str, inputs.Unit] = {}
    refs: dict[str, Any] = {}
    shipments = []
    for trial in trials:
        shipment = []
        for slot, unit in inputs.trial_units(trial.config, trial.base_dir, known).items():
            if unit.digest not in refs:
                refs[unit.digest] = ray.put(inputs.read_unit(unit))
            shipment.append((slot, unit, refs[unit.digest]))
        shipments.append(shipment)
    return shipments


def run_shipped(trial: Trial, shipment: Shipment) -> dict[str, Any]:
    """The Ray task: lay the trial's inputs out in this node's cache, run it there, and give
    back the record the local executor would have written."""
    import ray

    paths, back = {}, {}
    for slot, unit, ref in shipment:
        # refs nested in an argument are not resolved by Ray: fetched only when not cached
        local = inputs.materialise(unit, lambda ref=ref: ray.get(ref))
        paths[slot] = local
        back[local] = unit.driver_path
    record = run_trial(dataclasses.replace(trial, config=inputs.localised(trial.config, paths)))
    record["config"] = trial.config
    for key in ("error", "traceback"):
        if key in record:
            record[key] = inputs.renamed(record[key], back)
    record["warnings"] = sorted({inputs.renamed(text, back) for text in record["warnings"]})
    return record
