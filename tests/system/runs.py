"""Running one MICRO collective through the public entry point (``simulate(Experiment)``).

The system and network are passed inline with the keys of the 1.0 files; the workload is a
one-layer MICRO text file written once per (collective, size, update delay) into a directory
the caller owns (a pytest ``tmp_path_factory`` directory).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from orchestrator.experiment.model import Experiment, RunOptions
from orchestrator.experiment.runner import simulate
from orchestrator.output.results import RunResult

KINDS = ("ALLREDUCE", "REDUCESCATTER", "ALLGATHER", "ALLTOALL")


def _per_dim(value, count: int) -> list:
    if isinstance(value, (list, tuple)):
        assert len(value) == count
        return list(value)
    return [value] * count


@dataclass
class MicroRunner:
    directory: str

    def workload(self, kind: str, size: int, update: int) -> str:
        path = os.path.join(self.directory, f"micro_{kind}_{size}_{update}.txt")
        if not os.path.exists(path):
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(f"MICRO\n1\nmicro -1 1 NONE 0 1 NONE 0 1 {kind} {size} {update}\n")
        return path

    def experiment(self, kind: str, size: int, *, topology: str | Sequence[str],
                   npus: int | Sequence[int], links: int | Sequence[int], algorithm: str,
                   splits: int = 1, endpoint_delay: int = 10, latency: float | Sequence = 500,
                   bandwidth: float | Sequence = 50, active_chunks: int = 1, update: int = 1,
                   optimization: str = "baseline", policy: str = "LIFO",
                   nic_latency: float | Sequence | None = None,
                   router_latency: float | Sequence | None = None,
                   options: RunOptions | None = None) -> Experiment:
        topologies = [topology] if isinstance(topology, str) else list(topology)
        count = len(topologies)
        system = {
            "scheduling-policy": policy,
            "endpoint-delay": endpoint_delay,
            "active-chunks-per-dimension": active_chunks,
            "preferred-dataset-splits": splits,
            "collective-optimization": optimization,
            "all-reduce-implementation": algorithm,
            "reduce-scatter-implementation": algorithm,
            "all-gather-implementation": algorithm,
            "all-to-all-implementation": algorithm,
        }
        network = {
            "topologies-per-dim": topologies,
            "units-count": _per_dim(npus, count),
            "links-count": _per_dim(links, count),
            "link-latency": _per_dim(latency, count),
            "link-bandwidth": _per_dim(bandwidth, count),
        }
        if nic_latency is not None:
            network["nic-latency"] = _per_dim(nic_latency, count)
        if router_latency is not None:
            network["router-latency"] = _per_dim(router_latency, count)
        return Experiment(name=f"{kind}-{algorithm}", workload=self.workload(kind, size, update),
                          system=system, network=network, options=options or RunOptions())

    def run(self, kind: str, size: int, **kwargs) -> RunResult:
        return simulate(self.experiment(kind, size, **kwargs))
