"""The adapter side of protos/cosim.proto: ``astra-cosim adapter serve network|compute``.

A REP socket answers one request at a time. Each envelope is decoded and checked before it is
dispatched through a table built once; an unknown or out-of-order request gets an error
reply and the server stops (a peer that breaks the protocol is not trusted further). The
server also stops when its parent engine disappears (``--parent-pid``) or when no request
arrives for ``--idle-timeout`` seconds, so no adapter outlives its run.
"""

from __future__ import annotations

import json
import os
import sys
import time

from adapters.base import ComputeModel, NetworkModel
from adapters.registry import MODELS_BY_KIND, build
from orchestrator.cosim import codec
from orchestrator.cosim import cosim_pb2 as pb
from orchestrator.errors import AstraCosimError


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs; a zombie (killed, not yet reaped) counts as gone. Re-parenting
    gives a killed engine away too, but only if the server started before the engine died."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True                   # no procfs: kill(pid, 0) is all there is


class AdapterServer:
    """Holds one model (network or compute) and answers the engine's requests."""

    def __init__(self, kind: str) -> None:
        if kind not in MODELS_BY_KIND:
            raise AstraCosimError(f"no adapter kind {kind!r}; expected one of "
                                  f"{', '.join(MODELS_BY_KIND)}")
        self.kind = kind
        self.model: NetworkModel | ComputeModel | None = None
        self.said_hello = False
        self.dispatch = {"hello": self.on_hello, "configure": self.on_configure,
                         "round": self.on_round, "shutdown": self.on_shutdown}
        self.done = False

    def on_hello(self, message) -> tuple[str, object]:
        self.said_hello = True
        return "hello", codec.hello(self.kind, tuple(MODELS_BY_KIND[self.kind]))

    def on_configure(self, message) -> tuple[str, object]:
        if not self.said_hello:
            raise codec.ProtocolError("configure before hello")
        model = build(self.kind, message.model, json.loads(message.config_json),
                      f"<{message.model} configuration>")
        self.model = model
        if isinstance(model, NetworkModel):
            return "configured", pb.Configured(
                lookahead_ns=model.lookahead_ns,
                decides_at_injection=model.decides_at_injection)
        return "configured", pb.Configured(pure=model.pure)

    def on_round(self, message) -> tuple[str, object]:
        model = self.model
        if model is None:
            raise codec.ProtocolError("round before configure")
        if isinstance(model, NetworkModel):
            if message.compute_requests:
                raise codec.ProtocolError("compute requests sent to a network adapter")
            for injection in message.injections:
                model.inject(injection.op, injection.src, injection.dst, injection.bytes,
                             injection.time_ns)
            arrivals = model.advance(message.grant_ns)
            return "round_reply", codec.round_reply(arrivals, model.next_event_ns())
        if message.injections:
            raise codec.ProtocolError("network injections sent to a compute adapter")
        items = message.compute_requests
        durations = model.durations_ns([codec.compute_request(item) for item in items])
        return "round_reply", codec.compute_reply(
            [(item.op, item.time_ns + duration) for item, duration in zip(items, durations)])

    def on_shutdown(self, message) -> tuple[str, object]:
        self.done = True
        return "goodbye", codec.goodbye(self.model.stats() if self.model else {})

    def handle(self, data: bytes) -> tuple[bytes, bool]:
        """One request -> (reply bytes, keep serving)."""
        seq = 0
        try:
            envelope, body = codec.decode(data)
            seq = envelope.seq
            handler = self.dispatch.get(body)
            if handler is None:
                raise codec.ProtocolError(f"unexpected {body} request")
            kind, reply = handler(getattr(envelope, body))
            return codec.encode(seq, kind, reply), not self.done
        except AstraCosimError as exc:
            return codec.encode(seq, "error", pb.Error(message=str(exc))), False
        except Exception as exc:  # a bug or bad input in the model: report, then stop
            return codec.encode(seq, "error", pb.Error(
                message=f"{type(exc).__name__}: {exc}")), False


def serve(kind: str, bind: str, parent_pid: int | None, idle_timeout_s: float) -> int:
    import zmq

    if kind not in MODELS_BY_KIND:
        print(f"astra-cosim: error: no adapter kind {kind!r}; expected one of "
              f"{', '.join(MODELS_BY_KIND)}", file=sys.stderr)
        return 2
    context = zmq.Context.instance()
    sock = context.socket(zmq.REP)
    sock.setsockopt(zmq.LINGER, 0)
    sock.bind(bind)
    server = AdapterServer(kind)
    # a killed engine may linger as a zombie (kill(pid, 0) still works); being re-parented
    # gives it away
    watch_ppid = parent_pid is not None and os.getppid() == parent_pid
    last_request = time.monotonic()
    try:
        while True:
            if sock.poll(500):
                reply, keep = server.handle(sock.recv())
                sock.send(reply)
                last_request = time.monotonic()
                if not keep:
                    return 0 if server.done else 1
            elif parent_pid is not None and (not _alive(parent_pid) or
                                             (watch_ppid and os.getppid() != parent_pid)):
                return 1
            elif time.monotonic() - last_request > idle_timeout_s:
                return 1
    finally:
        sock.close(linger=0)
