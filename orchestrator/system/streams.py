"""Collectives as the system layer tracks them: DataSets of Streams of Phases (SEMANTICS §4.2).

A collective (``DataSet``) is split into chunks; each chunk is a ``Stream`` that walks an ordered
list of ``Phase``s, one per topology dimension it spans. Streams are numbered per NPU in the
order they are created, which is the same on every NPU, so stream *k* names the same chunk
everywhere (the phase barrier relies on this).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orchestrator.system.algorithms.base import PhaseAlgorithm
    from orchestrator.system.topology import RingView


@dataclass(slots=True)
class Phase:
    """One step of a chunk: a collective ``kind`` on one dimension's ring, in one queue."""

    kind: str
    dim: int
    queue: int
    algorithm: type[PhaseAlgorithm]
    ring: RingView
    size_bytes: int
    window: int = -1
    root_at_max: bool = True      # doubleBinaryTree: which of the two trees this chunk uses
    direction: int = 1            # ring order of the queue: +1 clockwise, -1 anticlockwise


# DataSet and Stream are things with an identity, not values: eq=False keeps ``==`` (and so
# ``list.remove`` of the scheduler and the workload driver) to identity. The generated
# field-by-field ``__eq__`` made removing one of n outstanding collectives cost n Python
# calls, which with thousands outstanding (a MICRO run of many passes) was a third of the run.
@dataclass(slots=True, eq=False)
class DataSet:
    """One collective on one NPU; ``on_finished`` runs when its last stream finishes."""

    id: int
    kind: str
    size_bytes: int
    created_ns: int
    total_streams: int = 0
    finished_streams: int = 0
    finished_ns: int = -1
    on_finished: Callable[[DataSet], None] | None = None
    context: Any = None            # the workload's handle (layer, kind)


@dataclass(slots=True, eq=False)
class Stream:
    """One chunk of a DataSet travelling through its phases."""

    num: int
    dataset: DataSet
    priority: int
    phases: list[Phase]
    phase_index: int = -1          # -1: not yet in its first phase
    queue: int = -1
    initialized: bool = False      # running in its queue (counted against the active limit)
    enabled: bool = True           # 1.0 boost mode: False while in a phase this NPU skips
    algorithm: PhaseAlgorithm | None = None
    queued_ns: int = 0             # entered the current phase's queue
    started_ns: int = 0            # became active in it
    # per finished phase: (dim, queued, started, ended) in ns
    phase_log: list[tuple[int, int, int, int]] = field(default_factory=list)
    # a reduced run's guard remembers which actor this chunk is in its current phase and
    # queue (orchestrator/symmetry/guard.py: stream_actor); None elsewhere
    actor_memo: tuple[int, int, tuple] | None = field(default=None, repr=False, compare=False)

    @property
    def phase(self) -> Phase:
        return self.phases[self.phase_index]
