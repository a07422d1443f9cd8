"""A readable summary of execution traces (``astra-cosim trace show``).

Per trace: nodes by type, total compute (the time a replay would take), bytes by collective
type, and the critical path through the data dependencies counting compute only (the time the
trace would take on an infinitely fast network).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from orchestrator.workload import chakra


@dataclass(slots=True)
class TraceSummary:
    path: str
    nodes: int = 0
    by_type: Counter = field(default_factory=Counter)
    compute_ns: int = 0
    bytes_by_collective: Counter = field(default_factory=Counter)
    critical_path_ns: int = 0


def _duration_ns(node, path: str) -> int:
    if node.type != chakra.NodeType.COMP_NODE:
        return 0
    if chakra.attribute(node, chakra.DURATION_NS) is not None:
        return chakra.int_attribute(node, chakra.DURATION_NS, path)
    return node.duration_micros * 1000


def summarise(trace: chakra.Trace) -> TraceSummary:
    summary = TraceSummary(trace.path, nodes=len(trace.nodes))
    for node in trace.nodes:
        summary.by_type[chakra.NodeType.Name(node.type) if node.type in
                        chakra.NodeType.values() else f"unknown type {node.type}"] += 1
        duration = _duration_ns(node, trace.path)
        summary.compute_ns += duration
        if node.type == chakra.NodeType.COMM_COLL_NODE:
            comm_type = chakra.int_attribute(node, "comm_type", trace.path)
            name = chakra.CollectiveCommType.Name(comm_type) \
                if comm_type in chakra.CollectiveCommType.values() else str(comm_type)
            summary.bytes_by_collective[name] += chakra.int_attribute(node, "comm_size",
                                                                      trace.path)
    summary.critical_path_ns = _critical_path(trace)
    return summary


def _critical_path(trace: chakra.Trace) -> int:
    """Longest compute-only path, in topological order (nodes may precede their parents)."""
    nodes = {node.id: node for node in trace.nodes}
    waiting = {node_id: len([p for p in node.data_deps if p in nodes])
               for node_id, node in nodes.items()}
    children: dict[int, list[int]] = {}
    for node in trace.nodes:
        for parent in node.data_deps:
            if parent in nodes:
                children.setdefault(parent, []).append(node.id)
    start = {node_id: 0 for node_id in nodes}
    ready = [node_id for node_id, count in waiting.items() if count == 0]
    longest = 0
    while ready:
        node_id = ready.pop()
        finish = start[node_id] + _duration_ns(nodes[node_id], trace.path)
        longest = max(longest, finish)
        for child in children.get(node_id, ()):
            start[child] = max(start[child], finish)
            waiting[child] -= 1
            if waiting[child] == 0:
                ready.append(child)
    return longest


def format_summary(summary: TraceSummary) -> str:
    lines = [f"{summary.path}: {summary.nodes} nodes"]
    for name, count in sorted(summary.by_type.items()):
        lines.append(f"  {name:<16} {count:>8}")
    lines.append(f"  compute total    {summary.compute_ns / 1000:>14.3f} us")
    lines.append(f"  critical path    {summary.critical_path_ns / 1000:>14.3f} us "
                 "(compute only, along data dependencies)")
    for name, total in sorted(summary.bytes_by_collective.items()):
        lines.append(f"  {name:<16} {total:>14,} bytes")
    return "\n".join(lines)
