"""Running built NPUs to the end, shared by both generations.

Every NPU's workload starts at t = 0 in NPU order (as upstream's main fires them), the event
queue runs until it drains, and the network adapter is closed whatever happens. A run in which
some NPU did not finish is reported with what it waits for, never returned as a result.
"""

from __future__ import annotations

from typing import Any, Protocol

from orchestrator.cosim.compute_port import ComputePort
from orchestrator.cosim.inprocess import AdapterError
from orchestrator.cosim.port import NetworkPort
from orchestrator.engine.clock import EventQueue
from orchestrator.errors import InputError, SimulationError
from orchestrator.experiment.model import Experiment
from orchestrator.limits import TIME_LIMIT_NS, time_overflow_message
from orchestrator.symmetry.guard import SymmetryBroken
from orchestrator.system.npu import Npu, SystemContext


class Driver(Protocol):
    npu: Npu
    finished_ns: int | None

    def start(self) -> None: ...

    def outstanding(self) -> list[Any]: ...


def network_adapter(experiment: Experiment, input_format: str, doc: Any) -> tuple[str, Any]:
    """The network model to open for this experiment, and its configuration document."""
    backend = experiment.network_backend
    if backend in ("ns3", "garnet"):
        return backend, {"format": input_format, "network": doc,
                         "options": experiment.network_options}
    if experiment.network_options:
        raise InputError(f"network options ({', '.join(sorted(experiment.network_options))}) "
                         f"apply to the ns3 and garnet backends, not {backend}",
                         experiment.source)
    if input_format == "v1":
        if backend != "analytical":
            raise InputError(f"--network-backend {backend}: 1.0 inputs run on the analytical "
                             "or ns3 backend; the congestion-aware analytical network needs "
                             "ASTRA-sim 2.x inputs (Chakra traces, JSON system, YAML network)")
        return "analytical-v1", doc
    return {"analytical": "analytical-v2", "analytical-aware": "analytical-v2-aware"}[backend], doc


def run_to_end(clock: EventQueue, network: NetworkPort, drivers: list[Driver],
               context: SystemContext, describe, compute: ComputePort | None = None,
               reduced: bool = False) -> list[int]:
    """Finish time per NPU; ``describe(driver)`` words what a stuck NPU waits for. A
    ``reduced`` run (one representative NPU) that does not end cleanly is not reported: the
    caller runs the full simulation, which tells what is stuck."""
    try:
        for driver in drivers:
            driver.start()
        clock.run()
        guard = getattr(clock, "guard", None)
        if guard is not None:
            guard.settle()                     # the last nanosecond of a reduced run
    except RuntimeError:
        # the engine's horizon cannot pass NEVER: the run outgrew the simulated clock
        pending = clock.next_time()
        if pending is not None and pending >= TIME_LIMIT_NS:
            raise SimulationError(time_overflow_message(clock.now_ns)) from None
        raise
    finally:
        try:
            network.client.close()
        finally:
            if compute is not None:
                compute.client.close()
    for port in (network, compute):
        if port is not None and port.client.failure:
            raise AdapterError(port.client.failure)
    stuck = [driver for driver in drivers if driver.finished_ns is None]
    if reduced and (stuck or network.unmatched()):
        raise SymmetryBroken("the representative NPU did not finish cleanly")
    if stuck:
        raise SimulationError(stall_report(stuck[0].npu.id, len(stuck), describe(stuck[0]),
                                           context, clock.now_ns))
    return [driver.finished_ns for driver in drivers]


def stall_report(npu: int, unfinished: int, what: str, context: SystemContext,
                 now_ns: int) -> str:
    held = ""
    if context.barrier is not None:
        held = f"; {len(context.barrier.waiting())} chunk(s) held at the phase barrier"
    return (f"the simulation stopped at {now_ns} ns with {unfinished} NPU(s) unfinished "
            f"(first: NPU {npu}, waiting on {what or 'nothing'}{held}). No result is reported.")


def cosim_metrics(network: NetworkPort, compute: ComputePort | None = None
                  ) -> dict[str, Any]:
    """What synchronising with each adapter cost (summary.json "cosim")."""
    client = network.client
    metrics: dict[str, Any] = {"network": {
        "endpoint": client.endpoint, "rounds": network.rounds, "messages": network.messages,
        "bytes_sent": sum(network.bytes_sent), "asked": network.asked_messages,
        "reused": network.reused_messages,
        "protocol_bytes": client.bytes_moved,
        "wait_s": round(client.wait_s, 6)}}
    if compute is not None:
        metrics["compute"] = compute.metrics()
    return metrics


def adapter_stats(network: NetworkPort, compute: ComputePort | None = None
                  ) -> dict[str, dict[str, float]]:
    """Each adapter's own counters, as it reported them when it was closed. A pure network's
    message and byte counters also count the messages whose delay the engine reused from the
    model's earlier answers: the model decided them, once per shape, as it would each time."""
    stats = {"network": dict(network.client.final_stats)}
    reused = {"messages": network.reused_messages, "bytes": network.reused_bytes}
    for key, count in reused.items():
        if count and key in stats["network"]:
            stats["network"][key] += float(count)
    if compute is not None:
        stats["compute"] = dict(compute.client.final_stats)
    return stats
