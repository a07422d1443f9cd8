"""Whole-run checks of a set of Chakra traces, made once when they are read.

What one trace cannot tell by itself, or what upstream runs through silently:

* every communication node moves at least one byte and at most int64 bytes (after
  ``comm_scale``): a size of 0 or below simulates nothing, a size of 2^63 or more wraps;
* a node's recorded compute time fits the simulated clock;
* a compute shape (``num_ops``, ``tensor_size``, ``gemm_m/n/k``) lies in 0 .. int64: a
  negative count was timed as no work at all, one beyond int64 as a figure no run has;
* a SEND or RECV names an NPU of the network (0 .. npus-1), and names one at all;
* every SEND has its RECV and every RECV its SEND - matched as the network does it, on
  (source, destination, tag, bytes): a SEND nobody receives would leave the run "finished"
  with a message in flight, a RECV nobody sends to would wait forever.

The checks walk each node once before the run starts; the engine's hot path is untouched.
"""

from __future__ import annotations

from orchestrator.errors import InputError
from orchestrator.limits import INT64_MAX, TIME_LIMIT_NS, check_bytes, check_time
from orchestrator.workload import chakra
from orchestrator.workload.chakra_et_pb2 import Node

_COLL = int(chakra.NodeType.COMM_COLL_NODE)
_SEND = int(chakra.NodeType.COMM_SEND_NODE)
_RECV = int(chakra.NodeType.COMM_RECV_NODE)
_BROADCAST = int(chakra.CollectiveCommType.BROADCAST)
_P2P = (_SEND, _RECV)
_NODE_TYPES = frozenset(chakra.NodeType.values())
# the attributes read here; one pass over a node's attributes collects them all
_SHAPE = frozenset(("num_ops", "tensor_size", "gemm_m", "gemm_n", "gemm_k"))
_READ = frozenset(("comm_type", "comm_size", "comm_tag", "comm_src", "comm_dst",
                   chakra.DURATION_NS)) | _SHAPE
_INTEGERS = frozenset(chakra.INTEGER_KINDS)


def scaled_size(size: int, comm_scale: float) -> int:
    """The bytes a node moves after ``--comm-scale`` (the graph driver's rule)."""
    return size if comm_scale == 1 else int(size * comm_scale)


def _where(node: Node) -> str:
    return f"node {node.id} ({node.name!r})"


def check_traces(traces: list[chakra.Trace], npus_count: int, comm_scale: float,
                 replay_only: bool) -> None:
    """Raise ``InputError`` for the first node that cannot give a meaningful result."""
    balance: dict[tuple[int, int, int, int], int] = {}
    balance_get = balance.get
    limit_us = TIME_LIMIT_NS // 1000
    for npu, trace in enumerate(traces):
        path = trace.path
        for node in trace.nodes:
            if node.duration_micros >= limit_us:
                check_time(node.duration_micros * 1000,
                           f"{_where(node)}: duration_micros {node.duration_micros}", path)
            kind = node.type
            if kind not in _NODE_TYPES:      # protobuf keeps an enum value it does not know
                raise InputError(f"{_where(node)}: node type {kind} is not a Chakra NodeType; "
                                 "expected one of " + ", ".join(
                                     f"{name} {number}" for name, number in
                                     chakra.NodeType.items()), path)
            comm = kind in _P2P or kind == _COLL
            size = tag = peer = comm_type = 0
            held_size = held_peer = held_type = False
            for attr in node.attr:
                name = attr.name
                if name not in _READ:
                    continue
                held = attr.WhichOneof("value")
                number = getattr(attr, held) if held in _INTEGERS else \
                    chakra.int_attribute(node, name, path)     # bool, or an error
                if name == "comm_size":
                    if not held_size:            # the first, as int_attribute reads it
                        size, held_size = number, True
                elif name == chakra.DURATION_NS:
                    if number < 0 or number >= TIME_LIMIT_NS:
                        _bad_duration(node, number, path)
                elif name in _SHAPE:
                    if not 0 <= number <= INT64_MAX:
                        raise InputError(f"{_where(node)}: {name} is {number}; expected a "
                                         f"count from 0 to {INT64_MAX} (int64)", path)
                elif name == "comm_type":
                    comm_type, held_type = number, True
                elif name == "comm_tag":
                    tag = number
                elif name == ("comm_dst" if kind == _SEND else "comm_src"):
                    peer, held_peer = number, True
            if replay_only or not comm:
                continue      # replay-only traces replay every node's recorded time
            if kind == _COLL and not held_type:    # protobuf's default would be ALL_REDUCE
                raise InputError(f"{_where(node)}: COMM_COLL_NODE without comm_type; expected "
                                 "the collective it runs (ALL_REDUCE, ALL_GATHER, "
                                 "REDUCE_SCATTER, ALL_TO_ALL or BROADCAST)", path)
            if kind == _COLL and comm_type == _BROADCAST:
                continue      # replayed: its size is not simulated
            if not 1 <= size <= INT64_MAX or comm_scale != 1:
                size = _check_size(node, size, comm_scale, path)
            if kind == _COLL:
                continue
            if not held_peer:        # protobuf's default would make it NPU 0, silently
                field = "comm_dst" if kind == _SEND else "comm_src"
                raise InputError(f"{_where(node)}: {'SEND' if kind == _SEND else 'RECV'} "
                                 f"without {field}; expected the NPU it "
                                 f"{'sends to' if kind == _SEND else 'receives from'}", path)
            if not 0 <= peer < npus_count:
                field = "comm_dst" if kind == _SEND else "comm_src"
                raise InputError(f"{_where(node)}: {field} is {peer}; expected an NPU of the "
                                 f"network, 0 to {npus_count - 1}", path)
            # +1 per SEND, -1 per RECV of the same (source, destination, tag, bytes)
            if kind == _SEND:
                key, step = (npu, peer, tag, size), 1
            else:
                key, step = (peer, npu, tag, size), -1
            balance[key] = balance_get(key, 0) + step
    unbalanced = [key for key, count in balance.items() if count]
    if unbalanced:
        _report_unmatched(traces, min(unbalanced), balance[min(unbalanced)], comm_scale)


def _check_size(node: Node, raw: int, comm_scale: float, path: str) -> int:
    size = scaled_size(raw, comm_scale) if raw > 0 else raw
    if 1 <= size <= INT64_MAX:
        return size
    return check_bytes(size, f"{_where(node)}: comm_size {raw}" +
                       (f" x comm-scale {comm_scale:g}" if comm_scale != 1 else ""), path)


def _bad_duration(node: Node, exact: int, path: str) -> None:
    if exact < 0:
        raise InputError(f"{_where(node)}: {chakra.DURATION_NS} is {exact}; expected a time "
                         ">= 0 ns", path)
    check_time(exact, f"{_where(node)}: {chakra.DURATION_NS}", path)


def _report_unmatched(traces: list[chakra.Trace], key: tuple[int, int, int, int],
                      excess: int, comm_scale: float) -> None:
    """Name the first SEND (excess > 0) or RECV (excess < 0) of ``key`` without a partner: a
    second walk over the traces, taken only when the inputs are wrong."""
    src, dst, tag, size = key
    counts = {_SEND: 0, _RECV: 0}
    first: tuple[str, Node] | None = None
    for rank, trace in enumerate(traces):
        for node in trace.nodes:
            if node.type not in _P2P:
                continue
            send = node.type == _SEND
            peer = chakra.int_attribute(node, "comm_dst" if send else "comm_src", trace.path)
            if ((rank, peer) if send else (peer, rank)) != (src, dst) or \
                    chakra.int_attribute(node, "comm_tag", trace.path) != tag or \
                    scaled_size(chakra.int_attribute(node, "comm_size", trace.path),
                                comm_scale) != size:
                continue
            counts[node.type] += 1
            if first is None and send == (excess > 0):
                first = (trace.path, node)
    assert first is not None
    path, node = first
    sent, received = counts[_SEND], counts[_RECV]
    if excess > 0:
        raise InputError(f"{_where(node)}: {sent} SEND(s) from NPU {src} to NPU {dst} "
                         f"(tag {tag}, {size} bytes) but NPU {dst} posts {received} matching "
                         "RECV(s); a message nobody receives would stay in flight", path)
    raise InputError(f"{_where(node)}: {received} RECV(s) on NPU {dst} from NPU {src} "
                     f"(tag {tag}, {size} bytes) but NPU {src} posts {sent} matching SEND(s); "
                     "the receive would wait forever", path)
