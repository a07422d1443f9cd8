"""Run one ``Experiment``: tell ASTRA-sim 1.0 inputs from 2.x inputs, then build and run.

The two generations share the event queue, the system layer and the result type; what
differs is the workload (text workload vs Chakra traces), the configuration files and a few
system-layer rules (``SystemContext``). The choice is made from the files themselves, as the
CLI contract asks: a workload *file* is a 1.0 text workload, a workload *prefix* with
``<prefix>.0.et`` beside it is a set of 2.x execution traces.
"""

from __future__ import annotations

import os

from orchestrator.engine.collector import quiet_collector
from orchestrator.errors import InputError, SimulationError
from orchestrator.experiment.generations import check_generations
from orchestrator.experiment.model import Experiment
from orchestrator.limits import INT64_MAX, TIME_LIMIT_NS, time_overflow_message
from orchestrator.output.instruments import Instruments
from orchestrator.output.results import RunResult


def input_format(workload: str) -> str:
    if os.path.isfile(workload):
        if workload.endswith(".et"):
            raise InputError("this is one execution trace; give the prefix before "
                             "'.<npu>.et' (e.g. et/all_reduce for et/all_reduce.0.et)", workload)
        return "v1"
    from orchestrator.workload.chakra import trace_path   # protobuf: only for 2.x inputs
    if os.path.isfile(trace_path(workload, 0)):
        return "v2"
    if os.path.exists(workload):        # it exists: "No such file" would be wrong
        what = "a folder" if os.path.isdir(workload) else "not a regular file"
        raise InputError(f"the workload is {what}; expected a 1.0 workload file or the prefix "
                         f"of execution traces ({trace_path(workload, 0)} does not exist)",
                         workload)
    raise InputError("cannot read workload file (No such file or directory); nor is it the "
                     f"prefix of execution traces ({trace_path(workload, 0)} does not exist)",
                     workload)


def simulate(experiment: Experiment, instruments: Instruments | None = None) -> RunResult:
    """Run it; ``instruments`` (statistics, trace, progress) records into itself."""
    generation = input_format(experiment.workload)
    check_generations(generation, experiment)       # a 1.0 system file for 2.x traces, ...
    with quiet_collector():
        if generation == "v1":
            from orchestrator.experiment.run_v1 import simulate_v1
            result = simulate_v1(experiment, instruments)
        else:
            from orchestrator.experiment.run_v2 import simulate_v2
            result = simulate_v2(experiment, instruments)
    return check_result(result)


def check_result(result: RunResult) -> RunResult:
    """A result whose times or byte counts left int64 / the simulated clock is no result."""
    latest = max(result.finish_ns)
    if latest >= TIME_LIMIT_NS:
        raise SimulationError(time_overflow_message(latest))
    if result.payload_bytes > INT64_MAX:
        raise SimulationError(f"NPU 0 sent {result.payload_bytes} bytes, more than int64 "
                              f"({INT64_MAX}); the inputs' sizes are too large to give a result")
    return result
