"""Do all NPUs of a 2.x run execute the same trace? (a condition of the reduction)

Byte-identical files are the common case (generated microbenchmarks); otherwise two traces are
the same workload when they differ only in node numbering that keeps the order of the ids
(Chakra's text converter counts ids across NPUs) and in node names. Names change no time, but
a trace file shows each NPU's own: when the run writes one for other NPUs than NPU 0, whose
spans a reduced run copies, the names must agree too. Point-to-point SEND/RECV and
remote-memory nodes name or touch other NPUs and are not compared: such runs are not reduced.
"""

from __future__ import annotations

from orchestrator.workload import chakra

_NOT_REDUCED = {chakra.NodeType.COMM_SEND_NODE: "point-to-point SEND",
                chakra.NodeType.COMM_RECV_NODE: "point-to-point RECV",
                chakra.NodeType.MEM_LOAD_NODE: "remote-memory load",
                chakra.NodeType.MEM_STORE_NODE: "remote-memory store"}


def _canonical(trace: chakra.Trace, names: bool) -> list[bytes]:
    """The trace's nodes with ids renumbered by rank, and names dropped unless ``names``."""
    rank = {node_id: index for index, node_id in enumerate(sorted(n.id for n in trace.nodes))}
    canonical = []
    for node in trace.nodes:
        copy = chakra.pb.Node()
        copy.CopyFrom(node)
        copy.id = rank[node.id]
        if not names:
            copy.name = ""
        del copy.data_deps[:]
        # a dependency on a missing node keeps its own number, past every rank (the run
        # reports it); ids are unsigned
        copy.data_deps.extend(rank.get(dep, len(rank) + dep) for dep in node.data_deps)
        del copy.ctrl_deps[:]
        copy.ctrl_deps.extend(rank.get(dep, len(rank) + dep) for dep in node.ctrl_deps)
        canonical.append(copy.SerializeToString(deterministic=True))
    return canonical


def why_traces_differ(prefix: str, npus_count: int, names: bool = False) -> str:
    """'' when every NPU's trace is NPU 0's up to numbering (and, with ``names``, has the same
    node names); otherwise the reason."""
    first_path = chakra.trace_path(prefix, 0)
    with open(first_path, "rb") as handle:
        first_bytes = handle.read()
    first = chakra.read_trace(first_path)
    for node in first.nodes:
        if node.type in _NOT_REDUCED:
            return f"the traces have {_NOT_REDUCED[node.type]} nodes"
    canonical = None
    for npu in range(1, npus_count):
        path = chakra.trace_path(prefix, npu)
        with open(path, "rb") as handle:
            if handle.read() == first_bytes:
                continue
        if canonical is None:
            canonical = _canonical(first, names)
        other = chakra.read_trace(path)
        if _canonical(other, names) != canonical:
            if names and _canonical(other, False) == _canonical(first, False):
                return (f"NPU {npu}'s trace names its nodes differently from NPU 0's, and the "
                        "trace file shows other NPUs than NPU 0")
            return f"NPU {npu}'s trace differs from NPU 0's"
    return ""
