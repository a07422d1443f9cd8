"""Writes gemm4.<npu>.et: the Chakra traces of the SCALE-Sim stacks (run it from this folder).

Four NPUs, each a tiny training step of one linear layer: a forward GEMM, the two backward
GEMMs (input and weight gradient), then a ring all-reduce of the 1 MiB weight gradient. The
GEMM nodes carry their shape (``gemm_m/n/k``, and as 2.x's roofline reads them ``num_ops``
and ``tensor_size``), so a compute adapter times them; the traces hold no durations.
"""

from __future__ import annotations

from orchestrator.workload import chakra
from orchestrator.workload.chakra_et_pb2 import Node

NPUS = 4
BATCH, IN_FEATURES, OUT_FEATURES = 256, 512, 1024
ELEMENT_BYTES = 2                                            # fp16
GRADIENT_BYTES = IN_FEATURES * OUT_FEATURES * ELEMENT_BYTES  # 1 MiB


def gemm(node_id: int, name: str, m: int, n: int, k: int, deps: list[int]) -> Node:
    attrs = [chakra.make_attr("is_cpu_op", False), chakra.make_attr("gemm_m", m),
             chakra.make_attr("gemm_n", n), chakra.make_attr("gemm_k", k),
             chakra.make_attr("num_ops", 2 * m * n * k),
             chakra.make_attr("tensor_size", (m * k + k * n + m * n) * ELEMENT_BYTES)]
    return Node(id=node_id, name=name, type=chakra.NodeType.COMP_NODE, data_deps=deps,
                attr=attrs)


def all_reduce(node_id: int, size_bytes: int, deps: list[int]) -> Node:
    attrs = [chakra.make_attr("is_cpu_op", False),
             chakra.make_attr("comm_type", chakra.CollectiveCommType.ALL_REDUCE),
             chakra.make_attr("comm_size", size_bytes)]
    return Node(id=node_id, name="wg_all_reduce", type=chakra.NodeType.COMM_COLL_NODE,
                data_deps=deps, attr=attrs)


def step() -> list[Node]:
    return [gemm(0, "fwd", BATCH, OUT_FEATURES, IN_FEATURES, []),
            gemm(1, "ig", BATCH, IN_FEATURES, OUT_FEATURES, [0]),
            gemm(2, "wg", IN_FEATURES, OUT_FEATURES, BATCH, [0]),
            all_reduce(3, GRADIENT_BYTES, [2])]


if __name__ == "__main__":
    for npu in range(NPUS):
        chakra.write_trace(chakra.trace_path("gemm4", npu), step())
