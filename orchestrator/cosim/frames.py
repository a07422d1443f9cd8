"""Envelopes over a connected stream socket: the ``pipe`` transport of a spawned adapter.

An engine that starts its adapter itself (``--placement process``) owns both ends of the
connection, so it can hand the child one end of a Unix socket pair instead of a ZeroMQ
endpoint. Each message is a 4-byte little-endian length, then that many bytes of the same
protos/cosim.proto envelope ZeroMQ would carry. There is no I/O thread and no broker between
the two processes: a round is one ``sendall`` and one ``recv`` on each side, which measured
several times cheaper than a ZeroMQ REQ/ROUTER round trip on loopback (benchmarks/results.md).
A closed connection reads as end-of-file, which is how either side learns the other is gone.
"""

from __future__ import annotations

import socket
import struct

from orchestrator.cosim.codec import MAX_MESSAGE_BYTES, ProtocolError

_HEADER = struct.Struct("<I")


class PeerClosed(EOFError):
    """The other end closed the connection (its process ended or closed its socket)."""


def send_frame(sock: socket.socket, payload: bytes) -> None:
    """One message: its length, then its bytes, in a single write."""
    sock.sendall(_HEADER.pack(len(payload)) + payload)


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    """``size`` bytes; PeerClosed if the connection ends first."""
    view = memoryview(bytearray(size))
    received = 0
    while received < size:
        count = sock.recv_into(view[received:], size - received)
        if count == 0:
            raise PeerClosed()
        received += count
    return view.obj


def recv_frame(sock: socket.socket) -> bytes:
    """The next whole message (blocking until it has arrived). A length over the protocol's
    limit is a peer that does not speak it: ProtocolError, and nothing more is read."""
    header = sock.recv(_HEADER.size)
    if not header:
        raise PeerClosed()
    if len(header) < _HEADER.size:
        header += _read_exactly(sock, _HEADER.size - len(header))
    size, = _HEADER.unpack(header)
    if size > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"malformed message (a frame of {size} bytes; at most "
                            f"{MAX_MESSAGE_BYTES})")
    return bytes(_read_exactly(sock, size)) if size else b""


def peer_closed(sock: socket.socket) -> bool:
    """Whether the other end has closed, without consuming anything (a non-blocking peek)."""
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except (BlockingIOError, InterruptedError):
        return False
    except OSError:
        return True
