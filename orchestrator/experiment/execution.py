"""Running built NPUs to the end, shared by both generations.

Every NPU's workload starts at t = 0 in NPU order (as upstream's main fires them), the event
queue runs until it drains, and the network adapter is closed whatever happens. A run in which
some NPU did not finish is reported with what it waits for, never returned as a result.
"""

from __future__ import annotations

from typing import Any, Protocol

from orchestrator.cosim.port import NetworkPort
from orchestrator.engine.clock import EventQueue
from orchestrator.errors import SimulationError
from orchestrator.system.npu import Npu, SystemContext


class Driver(Protocol):
    npu: Npu
    finished_ns: int | None

    def start(self) -> None: ...

    def outstanding(self) -> list[Any]: ...


def run_to_end(clock: EventQueue, network: NetworkPort, drivers: list[Driver],
               context: SystemContext, describe) -> list[int]:
    """Finish time per NPU; ``describe(driver)`` words what a stuck NPU waits for."""
    try:
        for driver in drivers:
            driver.start()
        clock.run()
    finally:
        network.client.close()
    stuck = [driver for driver in drivers if driver.finished_ns is None]
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


def cosim_metrics(network: NetworkPort) -> dict[str, Any]:
    """What synchronising with the network adapter cost (summary.json "cosim")."""
    client = network.client
    return {"network": {"endpoint": client.endpoint, "rounds": network.rounds,
                        "messages": network.messages, "bytes_sent": sum(network.bytes_sent),
                        "protocol_bytes": client.bytes_moved,
                        "wait_s": round(client.wait_s, 6)}}
