"""What a run records beyond its result: compute spans, waits, collectives and chunk phases.

The engine's hot paths never see this module. Hooks sit at collective, chunk, layer and node
granularity (``Npu._advance`` when a chunk leaves its last phase, the workload drivers when
they compute, wait or see a collective finish) and each is one ``is not None`` test on an
attribute that stays None unless the run asked for statistics or a trace. Only the NPUs the
run selected get a recorder, so a 256-NPU run traced on NPU 0 records 1/256 of the chunks.

Times are integer ns of simulated time, as everywhere in the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from orchestrator.system.streams import DataSet, Stream


# appended to the label of a forward collective that activation checkpointing reruns in the
# backward pass (HYBRID_TRANSFORMER_FWD_IN_BCKWD), so the two are told apart
RECOMPUTED = " (recomputed)"


@dataclass(slots=True, frozen=True)
class ComputeSpan:
    npu: int
    start_ns: int
    duration_ns: int
    name: str              # the layer (1.0) or the Chakra node (2.x)
    kind: str              # fwd / ig / wg (1.0), gpu / cpu (2.x)


@dataclass(slots=True, frozen=True)
class WaitSpan:
    """The training loop sat waiting for a collective: exposed communication (1.0)."""

    npu: int
    start_ns: int
    end_ns: int
    layer: str
    kind: str


@dataclass(slots=True, frozen=True)
class PhaseSpan:
    """One chunk's part of one phase on one NPU."""

    kind: str              # the collective the phase runs (REDUCESCATTER, ALLREDUCE, ...)
    dim: int
    algorithm: str         # upstream token: ring, direct, halvingDoubling, doubleBinaryTree
    ring_size: int
    size_bytes: int
    queued_ns: int         # entered the dimension's queue
    start_ns: int          # became active (its first packet was inserted)
    end_ns: int            # this NPU's part was done


@dataclass(slots=True)
class CollectiveRecord:
    """One collective on one NPU, with the phases of each of its chunks."""

    npu: int
    dataset_id: int
    kind: str
    size_bytes: int
    start_ns: int
    end_ns: int
    label: str             # "layer.kind" (1.0) or the node name (2.x)
    layer: str
    chunks: list[list[PhaseSpan]] = field(default_factory=list)

    @property
    def participants(self) -> int:
        """NPUs taking part: the product of the ring sizes of the dimensions it spans."""
        sizes: dict[int, int] = {}
        for phases in self.chunks[:1]:
            for phase in phases:
                sizes[phase.dim] = phase.ring_size
        count = 1
        for size in sizes.values():
            count *= size
        return count

    @property
    def algorithms(self) -> str:
        seen: dict[int, str] = {}
        for phases in self.chunks[:1]:
            for phase in phases:
                seen.setdefault(phase.dim, phase.algorithm)
        return "/".join(f"{name}@dim{dim}" for dim, name in sorted(seen.items()))


def algorithm_token(cls: type) -> str:
    """``HalvingDoubling`` -> ``halvingDoubling``: the registry token of an algorithm class."""
    name = cls.__name__
    return name[0].lower() + name[1:]


class Recorder:
    """Collects spans from the NPUs that carry it; see the module docstring for the hooks."""

    def __init__(self) -> None:
        self.compute: list[ComputeSpan] = []
        self.waits: list[WaitSpan] = []
        self.collectives: list[CollectiveRecord] = []
        # chunks finish before their DataSet's owner hears of it: park them by (npu, dataset)
        self._chunks: dict[tuple[int, int], list[list[PhaseSpan]]] = {}
        self.npus: set[int] = set()
        self.links: dict[str, int] = {}                  # link name -> bytes carried
        self.link_bytes_per_ns: dict[str, float] = {}    # where the bandwidth is known
        self.link_utilisation: dict[str, float] = {}     # where the model measures it (ns-3)
        self.network_stats: dict[str, float] = {}

    def replicate(self, source: int, npus: list[int],
                  runs_phase: Callable[[int, int], bool] | None = None) -> None:
        """Copy NPU ``source``'s spans to ``npus`` (a reduced run: they all did the same, at
        the same times). ``runs_phase(npu, dim)``: whether an NPU runs its chunks' phases on
        a dimension (1.0's boost mode: only NPUs on NPU 0's axis do); None: every NPU does."""
        for npu in npus:
            self.compute += [replace(span, npu=npu) for span in self.compute
                             if span.npu == source]
            self.waits += [replace(span, npu=npu) for span in self.waits if span.npu == source]
            for record in [record for record in self.collectives if record.npu == source]:
                chunks = record.chunks if runs_phase is None else [
                    [phase for phase in phases if runs_phase(npu, phase.dim)]
                    for phases in record.chunks]
                self.collectives.append(replace(record, npu=npu, chunks=chunks))

    # -- hooks -------------------------------------------------------------------------------
    def compute_span(self, npu: int, start_ns: int, duration_ns: int, name: str,
                     kind: str) -> None:
        self.compute.append(ComputeSpan(npu, start_ns, duration_ns, name, kind))

    def wait_span(self, npu: int, start_ns: int, end_ns: int, layer: str, kind: str) -> None:
        self.waits.append(WaitSpan(npu, start_ns, end_ns, layer, kind))

    def chunk_done(self, npu: int, stream: Stream) -> None:
        """The log holds the phases this NPU ran, in order; under 1.0's boost mode it skips
        the dimensions where the NPU is off NPU 0's axis, so each entry is matched to the
        next phase on its dimension rather than to the phase at its position."""
        phases = []
        remaining = iter(stream.phases)
        for dim, queued, start, end in stream.phase_log:
            phase = next(phase for phase in remaining if phase.dim == dim)
            phases.append(PhaseSpan(phase.kind, dim, algorithm_token(phase.algorithm),
                                    phase.ring.size, phase.size_bytes, queued, start, end))
        self._chunks.setdefault((npu, stream.dataset.id), []).append(phases)

    def collective_done(self, npu: int, dataset: DataSet, label: str, layer: str) -> None:
        chunks = self._chunks.pop((npu, dataset.id), [])
        self.collectives.append(CollectiveRecord(
            npu, dataset.id, dataset.kind, dataset.size_bytes, dataset.created_ns,
            dataset.finished_ns, label, layer, chunks))
