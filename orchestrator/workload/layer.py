"""One DNN layer as a 1.0 text workload describes it (SEMANTICS §3.1)."""

from __future__ import annotations

from dataclasses import dataclass

# Communication kinds of a 1.0 workload, keyed by the token the file uses.
COMM_TYPES = ("ALLREDUCE", "ALLGATHER", "REDUCESCATTER", "ALLTOALL", "ALLREDUCEALLTOALL", "NONE")


@dataclass(frozen=True, slots=True)
class CommSpec:
    """A collective a layer issues: its kind (a ``COMM_TYPES`` token) and per-NPU size."""

    kind: str
    size_bytes: int

    @property
    def is_none(self) -> bool:
        return self.kind == "NONE" or self.size_bytes == 0


NO_COMM = CommSpec("NONE", 0)


@dataclass(frozen=True, slots=True)
class Layer:
    """Compute in cycles (= ns) and communication per pass: forward, input gradient, weight
    gradient, then the update delay charged after each of the layer's collectives."""

    index: int
    name: str
    fwd_compute_cycles: int
    fwd_comm: CommSpec
    ig_compute_cycles: int
    ig_comm: CommSpec
    wg_compute_cycles: int
    wg_comm: CommSpec
    update_delay_cycles: int
    policy: str | None = None  # HYBRID_CUSTOMIZED: this layer's own parallelism token
    line: int = 0               # where the layer was read, for messages
