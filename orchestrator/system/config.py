"""The system layer's settings, as a 1.0 system file or an experiment's inline keys give them
(SEMANTICS §4.1). Parsing lives in ``orchestrator.experiment.system_file``."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class SystemConfig:
    """Validated 1.0 system settings; algorithm lists hold one entry per dimension."""

    scheduling_policy: str
    collective_optimization: str
    all_reduce: tuple[str, ...]
    all_gather: tuple[str, ...]
    reduce_scatter: tuple[str, ...]
    all_to_all: tuple[str, ...]
    endpoint_delay: int | None = None      # None: not given (10, and not injection-scaled)
    active_chunks_per_dimension: int = 1
    preferred_dataset_splits: int = 1
    boost_mode: int = 0
    intra_dimension_scheduling: str = "FIFO"
    inter_dimension_scheduling: str = "ascending"
    path: str = "<inline>"
    lines: dict[str, int] = field(default_factory=dict)   # key -> line it was read from
    # ASTRA-sim 2.x only
    local_mem_bw_gb_per_s: float | None = None  # reduction cost and roofline bandwidth
    peak_perf_tflops: float | None = None
    roofline_enabled: bool = False
    replay_only: bool = False

    def line_of(self, key: str) -> int | None:
        return self.lines.get(key)
