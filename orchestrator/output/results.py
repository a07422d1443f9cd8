"""What a finished run knows, independent of how it is written out."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class LayerStats:
    """One layer on the reporting NPU (NPU 0), summed over passes, in ns."""

    name: str
    fwd_compute_ns: int = 0
    ig_compute_ns: int = 0
    wg_compute_ns: int = 0
    # Time the training loop sat waiting for this layer's collectives (exposed communication).
    fwd_exposed_ns: int = 0
    ig_exposed_ns: int = 0
    wg_exposed_ns: int = 0
    # Issue-to-finish time of this layer's collectives (total communication).
    fwd_comm_ns: int = 0
    ig_comm_ns: int = 0
    wg_comm_ns: int = 0

    @property
    def compute_ns(self) -> int:
        return self.fwd_compute_ns + self.ig_compute_ns + self.wg_compute_ns

    @property
    def exposed_ns(self) -> int:
        return self.fwd_exposed_ns + self.ig_exposed_ns + self.wg_exposed_ns

    @property
    def comm_ns(self) -> int:
        return self.fwd_comm_ns + self.ig_comm_ns + self.wg_comm_ns


@dataclass(slots=True)
class RunResult:
    name: str
    input_format: str              # "v1" (1.0 text workload) or "v2" (Chakra traces)
    total_ns: int                  # v1: when NPU 0 finished all passes; v2: the last NPU
    finish_ns: list[int]           # per NPU
    compute_ns: int                # NPU 0's compute, as the reference reports it
    exposed_comm_ns: int           # NPU 0's finish minus its compute
    payload_bytes: int             # bytes NPU 0 sent
    events_processed: int
    layers: list[LayerStats] = field(default_factory=list)
    cosim: dict = field(default_factory=dict)    # synchronisation metrics per adapter
    adapter_stats: dict = field(default_factory=dict)  # each adapter's own counters
    symmetry: dict = field(default_factory=dict)       # reduced to one NPU or not, and why
