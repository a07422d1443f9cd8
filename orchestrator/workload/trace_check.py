"""Whole-run checks of a set of Chakra traces, made once when they are read.

What one trace cannot tell by itself, or what upstream runs through silently:

* every communication node moves at least one byte and at most int64 bytes (after
  ``comm_scale``): a size of 0 or below simulates nothing, a size of 2^63 or more wraps;
* a node's recorded compute time fits the simulated clock;
* a SEND or RECV names an NPU of the network (0 .. npus-1);
* every SEND has its RECV and every RECV its SEND - matched as the network does it, on
  (source, destination, tag, bytes): a SEND nobody receives would leave the run "finished"
  with a message in flight, a RECV nobody sends to would wait forever.

The checks walk each node once before the run starts; the engine's hot path is untouched.
"""

from __future__ import annotations

from collections import Counter

from orchestrator.errors import InputError
from orchestrator.limits import check_bytes, check_time
from orchestrator.workload import chakra
from orchestrator.workload.chakra_et_pb2 import Node

_COMM = (chakra.NodeType.COMM_COLL_NODE, chakra.NodeType.COMM_SEND_NODE,
         chakra.NodeType.COMM_RECV_NODE)
_BROADCAST = chakra.CollectiveCommType.BROADCAST


def scaled_size(size: int, comm_scale: float) -> int:
    """The bytes a node moves after ``--comm-scale`` (the graph driver's rule)."""
    return size if comm_scale == 1 else int(size * comm_scale)


def _where(node: Node) -> str:
    return f"node {node.id} ({node.name!r})"


def check_traces(traces: list[chakra.Trace], npus_count: int, comm_scale: float,
                 replay_only: bool) -> None:
    """Raise ``InputError`` for the first node that cannot give a meaningful result."""
    sends: Counter[tuple[int, int, int, int]] = Counter()
    recvs: Counter[tuple[int, int, int, int]] = Counter()
    first_of: dict[tuple[str, tuple[int, int, int, int]], tuple[str, Node]] = {}
    for npu, trace in enumerate(traces):
        path = trace.path
        for node in trace.nodes:
            _check_durations(node, path)
            if replay_only or node.type not in _COMM:
                continue      # replay-only traces replay every node's recorded time
            if node.type == chakra.NodeType.COMM_COLL_NODE and \
                    chakra.int_attribute(node, "comm_type", path) == _BROADCAST:
                continue      # replayed: its size is not simulated
            raw = chakra.int_attribute(node, "comm_size", path)
            size = check_bytes(scaled_size(raw, comm_scale) if raw > 0 else raw,
                               f"{_where(node)}: comm_size {raw}" +
                               (f" x comm-scale {comm_scale:g}" if comm_scale != 1 else ""),
                               path)
            if node.type == chakra.NodeType.COMM_COLL_NODE:
                continue
            tag = chakra.int_attribute(node, "comm_tag", path)
            if node.type == chakra.NodeType.COMM_SEND_NODE:
                peer = chakra.int_attribute(node, "comm_dst", path)
                key, table, side = (npu, peer, tag, size), sends, "send"
            else:
                peer = chakra.int_attribute(node, "comm_src", path)
                key, table, side = (peer, npu, tag, size), recvs, "recv"
            if not 0 <= peer < npus_count:
                field = "comm_dst" if side == "send" else "comm_src"
                raise InputError(f"{_where(node)}: {field} is {peer}; expected an NPU of the "
                                 f"network, 0 to {npus_count - 1}", path)
            table[key] += 1
            first_of.setdefault((side, key), (path, node))
    _check_matching(sends, recvs, first_of)


def _check_durations(node: Node, path: str) -> None:
    if node.duration_micros:
        check_time(node.duration_micros * 1000, f"{_where(node)}: duration_micros "
                   f"{node.duration_micros}", path)
    if chakra.attribute(node, chakra.DURATION_NS) is not None:
        exact = chakra.int_attribute(node, chakra.DURATION_NS, path)
        if exact < 0:
            raise InputError(f"{_where(node)}: {chakra.DURATION_NS} is {exact}; expected a "
                             "time >= 0 ns", path)
        check_time(exact, f"{_where(node)}: {chakra.DURATION_NS}", path)


def _check_matching(sends: Counter, recvs: Counter, first_of: dict) -> None:
    for key in sorted(set(sends) | set(recvs)):
        sent, received = sends[key], recvs[key]
        if sent == received:
            continue
        src, dst, tag, size = key
        side = "send" if sent > received else "recv"
        path, node = first_of[(side, key)]
        if side == "send":
            raise InputError(f"{_where(node)}: {sent} SEND(s) from NPU {src} to NPU {dst} "
                             f"(tag {tag}, {size} bytes) but NPU {dst} posts {received} "
                             "matching RECV(s); a message nobody receives would stay in "
                             "flight", path)
        raise InputError(f"{_where(node)}: {received} RECV(s) on NPU {dst} from NPU {src} "
                         f"(tag {tag}, {size} bytes) but NPU {src} posts {sent} matching "
                         "SEND(s); the receive would wait forever", path)
