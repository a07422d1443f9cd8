"""An experiment: what to simulate (workload, system, network) and with which options.

Both CLI forms end here: ``run --workload W --system S --network N`` and ``run EXPERIMENT.yaml``.
System and network settings are either a path to an upstream file or an inline mapping with
the same keys, so a YAML experiment can carry everything in one file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from orchestrator.cosim.placement import AdapterPlacement

NETWORK_BACKENDS = ("analytical", "analytical-aware", "ns3", "garnet")
COMPUTE_BACKENDS = ("roofline", "scalesim", "gpu-roofline")


@dataclass(frozen=True, slots=True)
class RunOptions:
    """Command-line scalings of upstream 1.0 (SEMANTICS §3.1, §4.1)."""

    num_passes: int = 1
    comm_scale: float = 1.0
    compute_scale: float = 1.0
    injection_scale: float = 1.0
    num_queues_per_dim: int = 1    # 1.0: queues per dimension (--num-queues-per-dim)


@dataclass(frozen=True, slots=True)
class ComputeChoice:
    """Which compute adapter times operations that carry a shape, and where it runs.

    An empty roofline ``config`` takes peak-perf and local-mem-bw from the 2.x system file."""

    backend: str = "roofline"
    config: dict[str, Any] = field(default_factory=dict)
    placement: AdapterPlacement = field(default_factory=AdapterPlacement)


@dataclass(frozen=True, slots=True)
class Experiment:
    name: str
    workload: str                          # path of the workload file
    system: str | dict[str, Any]           # path of a system file, or its keys inline
    network: str | dict[str, Any]          # path of a network file, or its keys inline
    network_backend: str = "analytical"
    network_options: dict[str, Any] = field(default_factory=dict)   # backend-specific (ns3)
    compute: ComputeChoice | None = None   # None: compute times come from the workload
    options: RunOptions = field(default_factory=RunOptions)
    comm_group: str | None = None          # 2.x communicator groups (JSON file)
    placement: AdapterPlacement = field(default_factory=AdapterPlacement)
    source: str | None = None              # the experiment YAML, when there is one
    # "auto": simulate one NPU when the run is symmetric (orchestrator/symmetry); "off": all
    symmetry: str = "auto"
