"""One trial: what an executor ships to a worker, and the function the worker runs.

``run_trial`` never raises for a trial that fails: the error becomes part of the record, so one
infeasible point (``halvingDoubling`` on 6 NPUs, a collective smaller than its splits) costs
one row of the table and not the sweep. Only an interrupt propagates. The record is returned,
not written: the driver writes every trial file, so workers on other machines (Ray) need no
shared folder for results.
"""

from __future__ import annotations

import time
import traceback
import warnings
from dataclasses import dataclass
from typing import Any

from orchestrator.errors import AstraCosimError

STATUS_OK = "ok"
STATUS_ERROR = "error"


@dataclass(frozen=True, slots=True)
class Trial:
    key: str                       # sha256 of the resolved config (config.py)
    axes: dict[str, Any]           # axis path -> value, as the sweep file wrote it
    config: dict[str, Any]         # the experiment document; paths relative to base_dir
    base_dir: str                  # absolute folder of the sweep file
    source: str                    # the sweep file, named in error messages


def run_trial(trial: Trial) -> dict[str, Any]:
    """Simulate one trial; returns its record (``status`` ok or error)."""
    # Imported here so that a worker pays for the engine only once it runs something.
    from orchestrator.experiment.load import experiment_from_mapping
    from orchestrator.experiment.runner import simulate
    from orchestrator.output.collective_figures import micro_benchmark_figures
    from orchestrator.output.files import summary_dict
    from orchestrator.output.instruments import Instruments
    from orchestrator.sweep.generated import realised
    from orchestrator.sweep.parallelism import run_prediction

    record: dict[str, Any] = {"key": trial.key, "axes": trial.axes, "status": STATUS_OK,
                              "error": None, "summary": None, "warnings": []}
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if "predict" in trial.config:           # a parallelism search (parallelism.py)
                record["summary"] = run_prediction(trial.config["predict"])
            else:
                # a generated workload is generated here, once per machine
                config = realised(trial.config)
                experiment = experiment_from_mapping(config, trial.source, trial.base_dir)
                instruments = Instruments()           # NPU 0's collectives, for busbw
                record["summary"] = summary_dict(simulate(experiment, instruments))
                record["collective"] = micro_benchmark_figures(instruments.recorder)
        except AstraCosimError as exc:
            record.update(status=STATUS_ERROR, error=str(exc))
        except Exception as exc:        # noqa: BLE001 - a bug in one trial must not end a sweep
            record.update(status=STATUS_ERROR, error=f"{type(exc).__name__}: {exc}",
                          traceback=traceback.format_exc())
    record["warnings"] = sorted({str(warning.message) for warning in caught})
    record["wall_s"] = round(time.perf_counter() - start, 6)
    record["config"] = trial.config
    return record
