"""Chakra execution traces (ETs): reading and writing, SEMANTICS §3.2.

A trace is one file per NPU, ``<prefix>.<npu>.et``: a base-128 varint length before every
message, first a ``GlobalMetadata``, then ``Node``s (gzip-compressed files are accepted too).
The schema is ours (``protos/chakra_et.proto``) and wire-compatible with Chakra's.

Attributes are read by name. Where upstream's feeder reads one value kind only and silently
gets 0 otherwise (``comm_size`` written as ``uint64_val`` simulates nothing upstream), we
accept every integer kind; a kind that cannot hold the value is an error naming the node.
"""

from __future__ import annotations

import glob
import gzip
import os
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from orchestrator.errors import InputError
from orchestrator.workload import chakra_et_pb2 as pb

NodeType = pb.NodeType
CollectiveCommType = pb.CollectiveCommType
# astra-cosim's own attribute: the exact compute time in ns (duration_micros cannot hold
# 1.0's cycle counts); other readers ignore it and use duration_micros.
DURATION_NS = "duration_ns"

INTEGER_KINDS = ("int64_val", "uint64_val", "int32_val", "uint32_val", "sint64_val",
                  "sint32_val", "fixed64_val", "fixed32_val", "sfixed64_val", "sfixed32_val")


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _decode_varint(data: bytes, position: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if position >= len(data):
            raise ValueError("truncated length prefix")
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, position
        shift += 7
        if shift > 63:
            raise ValueError("length prefix longer than 64 bits")


def _frames(data: bytes, path: str) -> Iterator[bytes]:
    position = 0
    index = 0
    while position < len(data):
        try:
            length, position = _decode_varint(data, position)
        except ValueError as exc:
            raise InputError(f"message {index}: {exc}", path) from None
        if position + length > len(data):
            raise InputError(f"message {index} claims {length} bytes but the file ends after "
                             f"{len(data) - position}", path)
        yield data[position:position + length]
        position += length
        index += 1


@dataclass(slots=True)
class Trace:
    """One NPU's trace: its metadata and its nodes, in file order."""

    path: str
    metadata: pb.GlobalMetadata
    nodes: list[pb.Node]


def trace_path(prefix: str, npu: int) -> str:
    return f"{prefix}.{npu}.et"


def read_trace(path: str) -> Trace:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise InputError(f"cannot read execution trace ({exc.strerror})", path) from None
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:   # BadGzipFile is an OSError
            raise InputError(f"corrupt or truncated gzip-compressed trace ({exc})",
                             path) from None
    frames = _frames(data, path)
    first = next(frames, None)
    if first is None:
        raise InputError("empty execution trace; expected a GlobalMetadata message first", path)
    metadata = _parse(pb.GlobalMetadata, first, 0, path)
    nodes = [_parse(pb.Node, frame, index, path) for index, frame in enumerate(frames, start=1)]
    return Trace(path, metadata, nodes)


def _parse(message_type: type, frame: bytes, index: int, path: str):
    message = message_type()
    try:
        message.ParseFromString(frame)
    except Exception as exc:  # google.protobuf.message.DecodeError and friends
        raise InputError(f"not a Chakra execution trace: message {index} does not parse as "
                         f"{message_type.__name__} ({exc})", path) from None
    return message


def encode_frames(messages: Iterable) -> bytes:
    """Messages in Chakra's framing: each preceded by its length as a varint."""
    parts = []
    for message in messages:
        payload = message.SerializeToString()
        parts.append(_encode_varint(len(payload)))
        parts.append(payload)
    return b"".join(parts)


def write_trace(path: str, nodes: Iterable[pb.Node], version: str = "0.0.4") -> None:
    metadata = pb.GlobalMetadata(version=version)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(encode_frames((metadata, *nodes)))


def trace_ranks(prefix: str) -> list[int]:
    """Every rank ``n`` with a ``<prefix>.<n>.et`` file, consecutive or not, in order."""
    ranks = []
    for path in glob.glob(glob.escape(prefix) + ".*.et"):
        middle = path[len(prefix) + 1:-len(".et")]
        if middle.isdigit() and os.path.isfile(path):
            ranks.append(int(middle))
    return sorted(ranks)


def remove_ranks_from(prefix: str, count: int) -> list[int]:
    """Delete ``<prefix>.<n>.et`` for every n >= ``count``: a set of ``count`` traces written
    over a larger one would otherwise leave the old set's last ranks beside it, and a run on
    a network that large would mix the two workloads. Returns the ranks removed."""
    stale = [rank for rank in trace_ranks(prefix) if rank >= count]
    for rank in stale:
        os.remove(trace_path(prefix, rank))
    return stale


def stale_note(prefix: str, removed: list[int]) -> str:
    """The line a trace writer prints when it removed an earlier set's extra ranks."""
    return (f"removed {len(removed)} trace(s) of an earlier, larger set: "
            f"{trace_path(prefix, removed[0])} ... {trace_path(prefix, removed[-1])}")


def count_traces(prefix: str) -> int:
    """How many consecutive ``<prefix>.<n>.et`` files exist, from n = 0."""
    count = 0
    while os.path.isfile(trace_path(prefix, count)):
        count += 1
    return count


# -- attributes -----------------------------------------------------------------------------

def attribute(node: pb.Node, name: str) -> pb.AttributeProto | None:
    for attr in node.attr:
        if attr.name == name:
            return attr
    return None


def int_attribute(node: pb.Node, name: str, path: str, default: int = 0) -> int:
    attr = attribute(node, name)
    if attr is None:
        return default
    kind = attr.WhichOneof("value")
    if kind in INTEGER_KINDS:
        return getattr(attr, kind)
    if kind == "bool_val":
        return int(attr.bool_val)
    raise InputError(f"node {node.id} ({node.name!r}): attribute {name} holds {kind}; expected "
                     "an integer", path)


def bool_attribute(node: pb.Node, name: str, path: str, default: bool = False) -> bool:
    attr = attribute(node, name)
    if attr is None:
        return default
    kind = attr.WhichOneof("value")
    if kind == "bool_val":
        return attr.bool_val
    if kind in INTEGER_KINDS:
        return getattr(attr, kind) != 0
    raise InputError(f"node {node.id} ({node.name!r}): attribute {name} holds {kind}; expected "
                     "a bool", path)


def bool_list_attribute(node: pb.Node, name: str, path: str) -> list[bool] | None:
    attr = attribute(node, name)
    if attr is None:
        return None
    if attr.WhichOneof("value") != "bool_list":
        raise InputError(f"node {node.id} ({node.name!r}): attribute {name} must be a bool_list",
                         path)
    return list(attr.bool_list.values)


def make_attr(name: str, value: bool | int | str | list[bool]) -> pb.AttributeProto:
    """An attribute in the value kind upstream's feeder reads for that name."""
    if isinstance(value, bool):
        return pb.AttributeProto(name=name, bool_val=value)
    if isinstance(value, list):
        return pb.AttributeProto(name=name, bool_list=pb.BoolList(values=value))
    if isinstance(value, str):
        return pb.AttributeProto(name=name, string_val=value)
    if name in ("tensor_size",):
        return pb.AttributeProto(name=name, uint64_val=value)
    if name in ("comm_priority", "comm_src", "comm_dst", "comm_tag"):
        return pb.AttributeProto(name=name, int32_val=value)
    return pb.AttributeProto(name=name, int64_val=value)
