"""What the generation runners (experiment/run_v1.py, run_v2.py) need to run reduced.

``engine_parts(group)`` gives the event queue, port class and NPU class of a full (``group``
None) or reduced run; ``reduce_context`` adapts a built system context and port;
``orbit_document`` gives an orbit-keeping network model its group; ``summary`` is what
``summary.json`` says under ``"symmetry"``; ``fallback_reason`` words a refusal;
``derive_counts`` turns the representative's message counters into the full run's.
"""

from __future__ import annotations

from typing import Any

from orchestrator.cosim.port import NetworkPort
from orchestrator.engine.clock import EventQueue
from orchestrator.symmetry.eligibility import ORBIT_NETWORK_MODELS
from orchestrator.symmetry.group import OrbitGroup
from orchestrator.symmetry.guard import BROKEN_MARK, SymmetryBroken
from orchestrator.symmetry.mirror_port import MirrorPort
from orchestrator.symmetry.representative import GuardedEventQueue, InlineBarrier, ReducedNpu
from orchestrator.system.npu import Npu

__all__ = ["SymmetryBroken", "derive_counts", "engine_parts", "fallback_reason",
           "orbit_document", "reduce_context", "summary"]


def engine_parts(group: OrbitGroup | None) -> tuple[EventQueue, type[NetworkPort], type[Npu]]:
    """The event queue, network port class and NPU class of a full or reduced run."""
    if group is None:
        return EventQueue(), NetworkPort, Npu
    return GuardedEventQueue(), MirrorPort, ReducedNpu


def reduce_context(context: Any, network: MirrorPort, group: OrbitGroup,
                   model: str) -> None:
    """Make a built system context and port serve a reduced run."""
    network.group = group
    network.own_only = model in ORBIT_NETWORK_MODELS
    if context.barrier is not None:
        context.barrier = InlineBarrier()


def fallback_reason(exc: SymmetryBroken) -> str:
    """How ``summary.json`` words why a reduced run gave way to the full simulation."""
    return "not symmetric: " + str(exc).replace(BROKEN_MARK, "").strip()


def orbit_document(doc: Any, group: OrbitGroup | None, model: str) -> Any:
    """The network model's configuration, with the group for a model that keeps orbits."""
    if group is None or model not in ORBIT_NETWORK_MODELS:
        return doc
    return {**doc, "orbit": {"sizes": list(group.sizes), "kinds": list(group.kinds)}}


def summary(group: OrbitGroup | None, reason: str, npus_count: int) -> dict[str, Any]:
    """``summary.json``'s account of the reduction: whether it ran, over which group, how
    many NPUs were simulated, or why the full simulation ran instead."""
    if group is None:
        return {"reduced": False, "npus_simulated": npus_count, "orbits": npus_count,
                "reason": reason}
    return {"reduced": True, "npus_simulated": 1, "orbits": 1, "group": group.describe()}


def derive_counts(stats: dict[str, Any], port: MirrorPort, npus_count: int,
                  boost_mode: bool = False) -> dict[str, Any]:
    """The network model's message and byte counters as the full run would report them: every
    NPU sends what NPU 0 sends (the model saw NPU 0's messages, and their mirrors) — under
    1.0's boost mode only the NPUs on NPU 0's axis of a dimension run its phases."""
    derived = dict(stats)
    messages = sent = 0
    for dim, (count, size) in port.own_by_dim.items():
        copies = port.group.sizes[dim] if boost_mode and dim >= 0 else npus_count
        messages += count * copies
        sent += size * copies
    # the model's own types: a full run reports what the model (or the protocol's float map,
    # in process placement) gave, and the reduced run's summary must be the same text
    if "messages" in derived:
        derived["messages"] = type(derived["messages"])(messages)
    if "bytes" in derived:
        derived["bytes"] = type(derived["bytes"])(sent)
    return derived
