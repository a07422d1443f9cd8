"""Small ASTRA-sim 2.x inputs written by the tests themselves: Chakra traces made with
``chakra.write_trace`` / ``make_attr``, a JSON system file and a YAML network file.

Defaults are the reference suite's generated micro cases (links 50 GB/s and 500 ns; LIFO,
endpoint-delay 10, active-chunks 1, splits 4, local-mem-bw 1600, localBWAware).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from orchestrator.experiment.model import Experiment
from orchestrator.experiment.runner import simulate
from orchestrator.output.results import RunResult
from orchestrator.workload import chakra
from orchestrator.workload.chakra_et_pb2 import AttributeProto, Node

COLL = chakra.NodeType.COMM_COLL_NODE
COMP = chakra.NodeType.COMP_NODE
SEND = chakra.NodeType.COMM_SEND_NODE
RECV = chakra.NodeType.COMM_RECV_NODE
CT = chakra.CollectiveCommType


def system(algorithm: str | Sequence[str] = "ring", a2a: str | Sequence[str] | None = None,
           **changes: object) -> dict:
    """A 2.x system file as a dict; ``changes`` use ``_`` for ``-`` in key names."""
    algs = [algorithm] if isinstance(algorithm, str) else list(algorithm)
    a2as = algs if a2a is None else ([a2a] if isinstance(a2a, str) else list(a2a))
    doc = {
        "scheduling-policy": "LIFO",
        "endpoint-delay": 10,
        "active-chunks-per-dimension": 1,
        "preferred-dataset-splits": 4,
        "all-reduce-implementation": algs,
        "all-gather-implementation": algs,
        "reduce-scatter-implementation": algs,
        "all-to-all-implementation": a2as,
        "collective-optimization": "localBWAware",
        "local-mem-bw": 1600,
    }
    return doc | {key.replace("_", "-"): value for key, value in changes.items()}


def network(topology: str | Sequence[str] = "Ring", npus: int | Sequence[int] = 8,
            bandwidth: float | Sequence[float] = 50.0,
            latency: float | Sequence[float] = 500.0) -> dict:
    """A 2.x analytical network as a dict (one entry per dimension)."""
    topologies = [topology] if isinstance(topology, str) else list(topology)

    def per_dim(value):
        return list(value) if isinstance(value, (list, tuple)) else [value] * len(topologies)

    return {"topology": topologies, "npus_count": per_dim(npus),
            "bandwidth": [float(v) for v in per_dim(bandwidth)],
            "latency": [float(v) for v in per_dim(latency)]}


def npus_of(net: dict) -> int:
    total = 1
    for count in net["npus_count"]:
        total *= count
    return total


def coll_node(node_id: int, comm_type: int, size: int, *, size_kind: str = "int64_val",
              deps: Iterable[int] = (), involved_dim: list[bool] | None = None,
              name: str | None = None) -> Node:
    """A COMM_COLL_NODE as the reference micro traces have it (is_cpu_op false, comm_type
    int64); ``size_kind`` picks the value kind that carries comm_size."""
    attrs = [chakra.make_attr("is_cpu_op", False), chakra.make_attr("comm_type", comm_type),
             AttributeProto(name="comm_size", **{size_kind: size})]
    if involved_dim is not None:
        attrs.append(chakra.make_attr("involved_dim", involved_dim))
    return Node(id=node_id, name=name or f"coll{node_id}", type=COLL, data_deps=list(deps),
                attr=attrs)


def comp_node(node_id: int, micros: int, *, deps: Iterable[int] = ()) -> Node:
    return Node(id=node_id, name=f"comp{node_id}", type=COMP, duration_micros=micros,
                data_deps=list(deps), attr=[chakra.make_attr("is_cpu_op", False)])


def write_traces(directory: Path | str, name: str, per_npu: Sequence[Sequence[Node]]) -> str:
    """Writes ``<directory>/<name>.<npu>.et`` for every NPU; returns the prefix."""
    prefix = os.path.join(str(directory), name)
    for npu, nodes in enumerate(per_npu):
        chakra.write_trace(chakra.trace_path(prefix, npu), nodes)
    return prefix


def write_micro(directory: Path | str, npus: int, comm_type: int, size: int, *,
                size_kind: str = "int64_val", name: str | None = None) -> str:
    """One collective node (id 0) per NPU, like the reference ``v2-1d`` traces."""
    nodes = [coll_node(0, comm_type, size, size_kind=size_kind)]
    return write_traces(directory, name or f"micro_{comm_type}_{size}_{size_kind}",
                        [nodes] * npus)


def network_yaml(net: dict) -> str:
    return "".join(f"{key}: [ {', '.join(str(v) for v in values)} ]\n"
                   for key, values in net.items())


def write_configs(directory: Path, sys_doc: dict | None = None,
                  net: dict | None = None) -> tuple[str, str]:
    """Writes ``system.json`` and ``network.yml``; returns their paths."""
    sys_path = directory / "system.json"
    net_path = directory / "network.yml"
    sys_path.write_text(json.dumps(system() if sys_doc is None else sys_doc, indent=1),
                        encoding="utf-8")
    net_path.write_text(network_yaml(network() if net is None else net), encoding="utf-8")
    return str(sys_path), str(net_path)


def cli_argv(prefix: str, sys_path: str, net_path: str, out: Path,
             backend: str = "analytical") -> list[str]:
    return ["run", "--workload", prefix, "--system", sys_path, "--network", net_path,
            "--network-backend", backend, "--out", str(out), "--quiet"]


def run(prefix: str, sys_doc: dict, net: dict, backend: str = "analytical") -> RunResult:
    """One run through the public entry point, with the configs inline."""
    return simulate(Experiment(name=os.path.basename(prefix), workload=prefix, system=sys_doc,
                               network=net, network_backend=backend))
