"""Envelopes of protos/cosim.proto: building, framing and checking them. The only module that
touches the generated protobuf classes."""

from __future__ import annotations

import os
import sys
from array import array
from itertools import chain

from adapters.base import NEVER, ComputeRequest
from orchestrator.cosim import cosim_pb2 as pb
from orchestrator.errors import AstraCosimError

PROTOCOL_MAJOR = 3
PROTOCOL_MINOR = 0
# Largest message either side accepts (ZeroMQ drops a bigger one before it is read): a round of
# about a million injections. A peer that sends more is disconnected, not obeyed.
MAX_MESSAGE_BYTES = 32 << 20
INT64_MAX = (1 << 63) - 1


class ProtocolError(AstraCosimError):
    """A peer sent something that is not a valid envelope of this protocol."""


def hello(role: str, capabilities: tuple[str, ...] = ()) -> pb.Hello:
    return pb.Hello(role=role, capabilities=list(capabilities), pid=os.getpid())


def configure(model: str, config_json: str) -> pb.Configure:
    return pb.Configure(model=model, config_json=config_json)


# Injections and arrivals travel as packed records of little-endian uint64 (protocol 3.0): the
# array module turns a round's tuples into bytes and back in C, with no Python loop and no
# protobuf submessage per message, which was most of a round's encoding cost.
INJECTION_FIELDS = 5      # op, src, dst, bytes, time_ns
ARRIVAL_FIELDS = 2        # op, time_ns
_SWAP = sys.byteorder != "little"
assert array("Q").itemsize == 8, "the array module's 'Q' must be 64 bits"


def _pack(records) -> bytes:
    column = array("Q", chain.from_iterable(records))
    if _SWAP:
        column.byteswap()
    return column.tobytes()


def _columns(data: bytes, fields: int, what: str) -> list[array]:
    """Packed records -> one array per field (C-level slices, no Python loop)."""
    if len(data) % (8 * fields):
        raise ProtocolError(f"malformed {what}: {len(data)} bytes is not a whole number of "
                            f"{8 * fields}-byte records")
    column = array("Q")
    column.frombytes(data)
    if _SWAP:
        column.byteswap()
    return [column[index::fields] for index in range(fields)]


def _unpack(data: bytes, fields: int, what: str) -> list[tuple[int, ...]]:
    return list(zip(*_columns(data, fields, what)))


def round_request(grant_ns: int, injections: list[tuple[int, int, int, int, int]]) -> pb.Round:
    return pb.Round(grant_ns=grant_ns,
                    injection_records=_pack(injections))


def injections(message: pb.Round) -> list[tuple[int, int, int, int, int]]:
    """A round's injections (op, src, dst, bytes, time_ns), in the order they were sent."""
    return _unpack(message.injection_records, INJECTION_FIELDS, "round (injections)")


def check_round(message: pb.Round, npus_count: int | None) -> None:
    """A network round the engine could have sent: a grant of at most ``NEVER``, and
    injections between NPUs of the model, of 0 bytes to int64, stamped before ``NEVER``. A
    peer that breaks this would get arrivals computed from nonsense, so it gets an error.
    (0 bytes is a real message: a chunk of a collective smaller than its peers gets none.)"""
    if message.grant_ns > NEVER:
        raise ProtocolError(f"round grants {message.grant_ns} ns; expected at most {NEVER}")
    if not message.injection_records:
        return
    _, src, dst, size, time_ns = _columns(message.injection_records, INJECTION_FIELDS,
                                          "round (injections)")
    highest = max(max(src), max(dst))
    if npus_count is not None and highest >= npus_count:
        raise ProtocolError(f"round injects between NPUs up to {highest}; the model has "
                            f"{npus_count} NPUs (0 to {npus_count - 1})")
    if max(size) > INT64_MAX:
        raise ProtocolError(f"round injects a message of {max(size)} bytes; expected 0 to "
                            f"{INT64_MAX}")
    if max(time_ns) >= NEVER:
        raise ProtocolError(f"round injects at {max(time_ns)} ns; expected a time before "
                            f"{NEVER}")


def round_reply(arrivals: list[tuple[int, int]], next_event_ns: int) -> pb.RoundReply:
    return pb.RoundReply(next_event_ns=next_event_ns,
                         arrival_records=_pack(arrivals))


def arrivals(message: pb.RoundReply) -> list[tuple[int, int]]:
    """A round reply's arrivals (op, time_ns)."""
    return _unpack(message.arrival_records, ARRIVAL_FIELDS, "round reply (arrivals)")


_CONV_FIELDS = ("ifmap_h", "ifmap_w", "filter_h", "filter_w", "channels", "filters", "stride")


def compute_round(grant_ns: int, requests: list[tuple[int, int, ComputeRequest]]
                  ) -> pb.Round:
    """A compute round: requests (op, npu, request), all issued at ``grant_ns``."""
    message = pb.Round(grant_ns=grant_ns)
    add = message.compute_requests.add
    for op, npu, request in requests:
        item = add(op=op, npu=npu, time_ns=grant_ns)
        if request.kind == "ops":
            item.ops.num_ops = request.num_ops
            item.ops.tensor_bytes = request.tensor_bytes
        elif request.kind == "gemm":
            item.gemm.m, item.gemm.n, item.gemm.k = request.m, request.n, request.k
        elif request.kind == "conv":
            for name in _CONV_FIELDS:
                setattr(item.conv, name, getattr(request, name))
        else:
            raise ValueError(f"unknown compute request kind {request.kind!r}")
    return message


def compute_request(item: pb.ComputeRequest) -> ComputeRequest:
    """The request carried by one ComputeRequest message."""
    shape = item.WhichOneof("shape")
    if shape == "ops":
        return ComputeRequest.ops(item.ops.num_ops, item.ops.tensor_bytes)
    if shape == "gemm":
        return ComputeRequest.gemm(item.gemm.m, item.gemm.n, item.gemm.k)
    if shape == "conv":
        return ComputeRequest("conv", **{name: getattr(item.conv, name)
                                         for name in _CONV_FIELDS})
    raise ProtocolError(f"compute request {item.op} carries no shape")


def compute_reply(completions: list[tuple[int, int]]) -> pb.RoundReply:
    message = pb.RoundReply(next_event_ns=1 << 62)
    add = message.completions.add
    for op, time_ns in completions:
        add(op=op, time_ns=time_ns)
    return message


def goodbye(stats: dict[str, float]) -> pb.Goodbye:
    return pb.Goodbye(messages=int(stats.get("messages", 0)), bytes=int(stats.get("bytes", 0)),
                      stats={key: float(value) for key, value in stats.items()})


def shutdown() -> pb.Shutdown:
    return pb.Shutdown()


def encode(seq: int, body: str, message, session: bytes = b"") -> bytes:
    envelope = pb.Envelope(major=PROTOCOL_MAJOR, minor=PROTOCOL_MINOR, seq=seq, session=session)
    getattr(envelope, body).CopyFrom(message)
    return envelope.SerializeToString()


def decode(data: bytes) -> tuple[pb.Envelope, str]:
    """Parse and check an envelope; returns it and the name of its body."""
    envelope = pb.Envelope()
    try:
        envelope.ParseFromString(data)
    except Exception as exc:  # DecodeError
        raise ProtocolError(f"malformed message ({exc})") from None
    if envelope.major != PROTOCOL_MAJOR:
        raise ProtocolError(f"protocol version mismatch: peer speaks {envelope.major}."
                            f"{envelope.minor}, this side {PROTOCOL_MAJOR}.{PROTOCOL_MINOR}")
    body = envelope.WhichOneof("body")
    if body is None:
        raise ProtocolError("message without a body")
    return envelope, body


def decode_reply(data: bytes, seq: int, name: str, endpoint: str,
                 session: bytes | None = None) -> tuple[str, object, bytes]:
    """Check a reply against the request it answers (its seq and, once the adapter has named
    one, its session); returns the body's name, the body and the reply's session."""
    try:
        envelope, body = decode(data)
    except ProtocolError as exc:
        raise ProtocolError(f"{name} adapter at {endpoint}: {exc}") from None
    if body != "error" and session is not None and envelope.session != session:
        raise ProtocolError(f"{name} adapter at {endpoint}: reply for another session")
    if envelope.seq != seq:
        raise ProtocolError(f"{name} adapter at {endpoint}: reply to request {envelope.seq} "
                            f"arrived while request {seq} was waiting (out of order)")
    if body == "error":
        raise ProtocolError(f"{name} adapter at {endpoint} reported: {envelope.error.message}")
    return body, getattr(envelope, body), envelope.session
