"""Small Chakra runs through the regular engine and any network backend: one collective on a
communicator group's own network, or a pipeline of per-rank node lists."""

from __future__ import annotations

import os
import tempfile
from typing import Any

from orchestrator.experiment.model import Experiment
from orchestrator.experiment.runner import simulate
from orchestrator.output.instruments import Instruments
from orchestrator.output.results import RunResult
from orchestrator.workload import chakra
from orchestrator.workload.chakra_et_pb2 import Node
from orchestrator.workload.generate.llm.ops import Op
from orchestrator.workload.generate.llm.trace import RankTrace


def system_doc(dims: int, local_mem_bw_gb_per_s: float) -> dict[str, Any]:
    """A 2.x system: ring collectives per dimension (NCCL's ring), direct all-to-all."""
    return {"scheduling-policy": "LIFO", "endpoint-delay": 10,
            "active-chunks-per-dimension": 1, "preferred-dataset-splits": 4,
            "all-reduce-implementation": ["ring"] * dims,
            "all-gather-implementation": ["ring"] * dims,
            "reduce-scatter-implementation": ["ring"] * dims,
            "all-to-all-implementation": ["direct"] * dims,
            "collective-optimization": "baseline", "local-mem-bw": local_mem_bw_gb_per_s}


def run_nodes(per_rank: list[list[Node]], network: dict[str, Any], backend: str,
              local_mem_bw_gb_per_s: float, name: str = "predict",
              instruments: Instruments | None = None) -> RunResult:
    """Run the ranks' node lists; ``instruments`` records NPU 0's spans when given."""
    with tempfile.TemporaryDirectory(prefix="astra-cosim-predict-") as tmp:
        prefix = os.path.join(tmp, name)
        for rank, nodes in enumerate(per_rank):
            chakra.write_trace(chakra.trace_path(prefix, rank), nodes)
        experiment = Experiment(name=name, workload=prefix,
                                system=system_doc(len(network["topology"]),
                                                  local_mem_bw_gb_per_s),
                                network=network, network_backend=backend,
                                source=f"<{name}>")
        return simulate(experiment, instruments)


class CollectiveTimer:
    """Times each distinct (collective, bytes) on a group's network once, through the
    chosen backend: the group runs it as a whole-system collective (hierarchical over the
    dimensions it spans)."""

    def __init__(self, backend: str, local_mem_bw_gb_per_s: float) -> None:
        self.backend = backend
        self.mem_bw = local_mem_bw_gb_per_s
        self.cache: dict[tuple, int] = {}

    def time_ns(self, op: Op, network: dict[str, Any]) -> int:
        key = (op.coll, op.size, repr(network))
        if key not in self.cache:
            ranks = 1
            for count in network["npus_count"]:
                ranks *= count
            per_rank = []
            for _ in range(ranks):
                trace = RankTrace()
                trace.op(Op(op.name, coll=op.coll, size=op.size))
                per_rank.append(trace.nodes)
            self.cache[key] = run_nodes(per_rank, network, self.backend, self.mem_bw,
                                        "collective").total_ns
        return self.cache[key]
