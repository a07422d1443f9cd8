"""The adapter side of protos/cosim.proto: ``astra-cosim adapter serve network|compute``.

A ROUTER socket answers one request at a time, and answers every one, to the peer that sent
it: an envelope is decoded and checked before it is dispatched, and anything wrong with it
(bytes that are not an envelope, another protocol version, a request out of order) gets an
error reply while the server goes on serving everyone else. ZeroMQ drops a message larger than
``codec.MAX_MESSAGE_BYTES`` before it is read. (Not REP: bytes that are not ZeroMQ's greeting
are read as a legacy ZMTP 1.0 peer's frames, and they leave a REP socket sending the next reply
to the wrong peer; ROUTER names the peer of every message.)

Every engine has a session of its own: the hello opens one (a random id the adapter returns),
every later request names it, and each session holds its own model, so no engine's requests
ever touch another's state. A request that breaks the protocol ends its session (the peer is
not trusted further), not the server. A server started for one engine (``--one-engine``, as
``--placement process`` starts it) refuses a second one as busy and exits when its engine says
goodbye or breaks the protocol. The server also stops when its parent engine disappears
(``--parent-pid``) or when no request arrives for ``--idle-timeout`` seconds, so no adapter
outlives its run; a session silent that long is closed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import time
from dataclasses import dataclass

from adapters.base import ComputeModel, NetworkModel
from adapters.registry import MODELS_BY_KIND, PURE_NETWORK_MODELS, build
from orchestrator.cosim import codec
from orchestrator.cosim import cosim_pb2 as pb
from orchestrator.errors import AstraCosimError, InputError
from orchestrator.processes import alive as _alive

MAX_SESSIONS = 16
FLUSH_S = 2.0            # longest wait, on the way out, for the last reply to leave
# A served adapter stopped by SIGTERM closes its socket first and exits this long after:
# its engines see the connection close at once and end with an error naming this adapter,
# before an orchestrator that reacts to the container's exit (``docker compose up
# --abort-on-container-exit``) stops them too and their last word is lost.
STOP_GRACE_S = 1.0


@dataclass(slots=True)
class Session:
    """One engine's connection: its model once configured, and when it last spoke."""
    id: bytes
    last_seen: float
    model: NetworkModel | ComputeModel | None = None


def _close_model(session: Session) -> None:
    """Release a session's model once (models may hold a simulator process); a model that
    fails to close is logged, never allowed to take the server down."""
    model, session.model = session.model, None
    close = getattr(model, "close", None)
    if close is not None:
        try:
            close()
        except Exception as exc:      # noqa: BLE001 - the session is over either way
            print(f"astra-cosim: adapter: closing a session's model failed: {exc}",
                  file=sys.stderr, flush=True)


class _Refusal(AstraCosimError):
    """A request answered with an error that does not end its session (e.g. a busy adapter)."""


class AdapterServer:
    """Answers the engines' requests, one model per session (network or compute)."""

    def __init__(self, kind: str, *, one_engine: bool = False, max_sessions: int = MAX_SESSIONS,
                 session_timeout_s: float = 600.0) -> None:
        if kind not in MODELS_BY_KIND:
            raise AstraCosimError(f"no adapter kind {kind!r}; expected one of "
                                  f"{', '.join(MODELS_BY_KIND)}")
        self.kind = kind
        self.one_engine = one_engine
        self.max_sessions = 1 if one_engine else max_sessions
        self.session_timeout_s = session_timeout_s
        self.sessions: dict[bytes, Session] = {}
        self.served = 0               # sessions opened so far
        self.dispatch = {"configure": self.on_configure, "round": self.on_round,
                         "shutdown": self.on_shutdown}
        self.exit_status: int | None = None   # set when a one-engine server is finished

    # -- sessions -------------------------------------------------------------------------------
    def on_hello(self, now: float) -> tuple[Session, tuple[str, object]]:
        self.expire(now)
        if self.one_engine and self.served:
            raise _Refusal("adapter busy with another engine (it was started for one engine)")
        if len(self.sessions) >= self.max_sessions:
            raise _Refusal(f"adapter busy with another engine ({len(self.sessions)} sessions "
                           f"open, at most {self.max_sessions})")
        session = Session(os.urandom(16), now)
        self.sessions[session.id] = session
        self.served += 1
        return session, ("hello", codec.hello(self.kind, tuple(MODELS_BY_KIND[self.kind])))

    def expire(self, now: float) -> None:
        """Close the sessions whose engine has been silent for the session timeout (killed
        engines never say goodbye)."""
        for key in [key for key, session in self.sessions.items()
                    if now - session.last_seen > self.session_timeout_s]:
            _close_model(self.sessions.pop(key))

    def _end(self, session: Session, status: int) -> None:
        self.sessions.pop(session.id, None)
        _close_model(session)
        if self.one_engine:
            self.exit_status = status

    def close_all(self) -> None:
        """The server stops: release every open session's model (a gem5 child)."""
        for session in list(self.sessions.values()):
            _close_model(session)
        self.sessions.clear()

    # -- requests of a session ---------------------------------------------------------------
    def on_configure(self, session: Session, message) -> tuple[str, object]:
        if session.model is not None:
            raise codec.ProtocolError("configure sent twice in one session")
        model = build(self.kind, message.model, json.loads(message.config_json),
                      f"<{message.model} configuration>")
        session.model = model
        if isinstance(model, NetworkModel):
            return "configured", pb.Configured(
                lookahead_ns=model.lookahead_ns,
                decides_at_injection=model.decides_at_injection,
                pure=message.model in PURE_NETWORK_MODELS)
        return "configured", pb.Configured(pure=model.pure)

    def on_round(self, session: Session, message) -> tuple[str, object]:
        model = session.model
        if model is None:
            raise codec.ProtocolError("round before configure")
        if isinstance(model, NetworkModel):
            if message.compute_requests:
                raise codec.ProtocolError("compute requests sent to a network adapter")
            codec.check_round(message, getattr(model, "npus_count", None))
            inject = model.inject
            for op, src, dst, size, time_ns in codec.injections(message):
                inject(op, src, dst, size, time_ns)
            arrivals = model.advance(message.grant_ns)
            return "round_reply", codec.round_reply(arrivals, model.next_event_ns())
        if message.injection_records:
            raise codec.ProtocolError("network injections sent to a compute adapter")
        items = message.compute_requests
        durations = model.durations_ns([codec.compute_request(item) for item in items])
        return "round_reply", codec.compute_reply(
            [(item.op, item.time_ns + duration) for item, duration in zip(items, durations)])

    def on_shutdown(self, session: Session, message) -> tuple[str, object]:
        stats = session.model.stats() if session.model else {}
        self._end(session, 0)
        return "goodbye", codec.goodbye(stats)

    # -- one request ---------------------------------------------------------------------------
    def handle(self, data: bytes | None, now: float | None = None) -> bytes:
        """One request (``None``: a message of several frames) -> its reply. Never raises:
        whatever is wrong is answered with an error, and only the session that sent it ends."""
        now = time.monotonic() if now is None else now
        seq, session_id, session = 0, b"", None
        try:
            if data is None:
                raise codec.ProtocolError("malformed message (several frames; expected one)")
            envelope, body = codec.decode(data)
            seq, session_id = envelope.seq, envelope.session
            if body == "hello":
                if session_id:
                    raise codec.ProtocolError("hello inside a session")
                session, (kind, reply) = self.on_hello(now)
                return codec.encode(seq, kind, reply, session.id)
            handler = self.dispatch.get(body)
            if handler is None:
                raise codec.ProtocolError(f"unexpected {body} request")
            if not session_id:
                raise codec.ProtocolError(f"{body} before hello (no session)")
            session = self.sessions.get(session_id)
            if session is None:
                raise codec.ProtocolError(f"{body} for an unknown session (closed after an "
                                          "error, idle too long, or never opened)")
            session.last_seen = now
            kind, reply = handler(session, getattr(envelope, body))
            return codec.encode(seq, kind, reply, session_id)
        except _Refusal as exc:
            return codec.encode(seq, "error", pb.Error(message=str(exc)), session_id)
        except Exception as exc:      # noqa: BLE001 - a bug or bad input: report, end the session
            message = str(exc) if isinstance(exc, AstraCosimError) else \
                f"{type(exc).__name__}: {exc}"
            if session is not None:
                self._end(session, 1)
            return codec.encode(seq, "error", pb.Error(message=message), session_id)


class _AllowKey:
    """ZAP credentials check: admit a CURVE client only if it holds the stack's key pair."""

    def __init__(self, public: bytes) -> None:
        self.public = public

    def callback(self, domain: str, key: bytes) -> bool:
        import zmq.utils.z85

        allowed = key == zmq.utils.z85.decode(self.public) or key == self.public
        if not allowed:
            print("astra-cosim: adapter refused an engine whose key does not match "
                  "--curve-secret-key", file=sys.stderr, flush=True)
        return allowed


def _orphaned_or_idle(parent_pid: int | None, watch_ppid: bool, last_request: float,
                      idle_timeout_s: float) -> bool:
    """Whether a server with nothing to read should stop: its parent engine is gone (a
    killed engine may linger as a zombie, so being re-parented counts too), or no request
    came for the idle timeout."""
    if parent_pid is not None and (not _alive(parent_pid) or
                                   (watch_ppid and os.getppid() != parent_pid)):
        return True
    return time.monotonic() - last_request > idle_timeout_s


def _split(frames: list[bytes]) -> tuple[list[bytes], bytes | None]:
    """A ROUTER message -> (the frames a reply is routed with, the request, or None when it
    is not one frame). A REQ peer's message is [peer id, empty delimiter, request]."""
    for index in range(1, len(frames)):
        if not frames[index]:
            body = frames[index + 1:]
            return frames[:index + 1], body[0] if len(body) == 1 else None
    return frames[:1], frames[1] if len(frames) == 2 else None


def serve(kind: str, bind: str, parent_pid: int | None, idle_timeout_s: float, *,
          one_engine: bool = False, key_file: str | None = None,
          max_sessions: int = MAX_SESSIONS, scratch: str | None = None,
          ready_fd: int | None = None) -> int:
    """Serve until told to stop; ``ready_fd`` (a pipe the spawning engine waits on) gets one
    byte once the socket is bound, and is closed. ``bind`` ``fd:N`` serves the one engine
    at the other end of the connected stream socket N instead (``transport: pipe``)."""
    if kind not in MODELS_BY_KIND:
        print(f"astra-cosim: error: no adapter kind {kind!r}; expected one of "
              f"{', '.join(MODELS_BY_KIND)}", file=sys.stderr)
        return 2
    # a terminated server still runs its cleanup (its scratch folder)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    if bind.startswith("fd:"):
        return _serve_stream(kind, _stream_fd(bind), parent_pid, idle_timeout_s, scratch)
    import zmq

    context = zmq.Context.instance()
    authenticator = None
    sock = context.socket(zmq.ROUTER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.MAXMSGSIZE, codec.MAX_MESSAGE_BYTES)
    if key_file is not None:
        from zmq.auth.thread import ThreadAuthenticator

        from orchestrator.cosim.keys import load
        public, secret = load(key_file, "--curve-secret-key")
        authenticator = ThreadAuthenticator(context)
        authenticator.start()
        authenticator.configure_curve_callback("*", credentials_provider=_AllowKey(public))
        sock.curve_secretkey = secret
        sock.curve_publickey = public
        sock.curve_server = True
    server = AdapterServer(kind, one_engine=one_engine, max_sessions=max_sessions,
                           session_timeout_s=idle_timeout_s)
    watch_ppid = parent_pid is not None and os.getppid() == parent_pid
    last_request = time.monotonic()
    # one poller for the whole loop: Socket.poll builds a Poller at every call
    poller = zmq.Poller()
    poller.register(sock, zmq.POLLIN)
    try:
        try:
            sock.bind(bind)
        except zmq.ZMQError as exc:
            raise InputError(f"--bind {bind}: {exc}") from None
        if ready_fd is not None:
            try:
                os.write(ready_fd, b"1")
            except BrokenPipeError:      # the engine waiting for it is gone already
                return 1
            finally:
                os.close(ready_fd)
        while True:
            if poller.poll(500):
                route, request = _split(sock.recv_multipart())
                sock.send_multipart([*route, server.handle(request)])
                last_request = time.monotonic()
                if server.exit_status is not None:
                    return server.exit_status
            elif _orphaned_or_idle(parent_pid, watch_ppid, last_request, idle_timeout_s):
                return 1
            else:
                server.expire(time.monotonic())
    except SystemExit:                       # SIGTERM
        sock.close(linger=0)
        if parent_pid is None:               # a spawned child's engine already knows
            time.sleep(STOP_GRACE_S)
        raise
    finally:
        # the last reply (a goodbye) may still be queued: a peer that is gone drops it at
        # once, a live one gets it before the context ends (a forked server exits right after)
        sock.close(linger=int(FLUSH_S * 1000))
        server.close_all()
        if authenticator is not None:
            authenticator.stop()
        context.term()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _stream_fd(bind: str) -> int:
    text = bind[len("fd:"):]
    if not text.isdigit():
        raise InputError(f"--bind {bind}: expected fd:N, N the number of a connected stream "
                         "socket this process inherited")
    return int(text)


def _serve_stream(kind: str, fd: int, parent_pid: int | None, idle_timeout_s: float,
                  scratch: str | None) -> int:
    """One engine over a connected stream socket (frames.py): its requests answered in
    order until its goodbye, its connection closing (the engine ended), its protocol error,
    its parent's exit or the idle timeout. No ZeroMQ: the socket pair is already connected,
    and only the engine that made it holds the other end."""
    import select
    import socket

    from orchestrator.cosim import frames

    try:
        sock = socket.socket(fileno=fd)
    except OSError as exc:
        raise InputError(f"--bind fd:{fd}: {exc.strerror or exc}") from None
    server = AdapterServer(kind, one_engine=True, session_timeout_s=idle_timeout_s)
    watch_ppid = parent_pid is not None and os.getppid() == parent_pid
    last_request = time.monotonic()
    try:
        while True:
            ready, _, _ = select.select([sock], [], [], 0.5)
            if ready:
                try:
                    request = frames.recv_frame(sock)
                except frames.PeerClosed:
                    return 1                     # the engine is gone
                except codec.ProtocolError as exc:
                    # a length no envelope has: nothing after it can be framed again
                    frames.send_frame(sock, codec.encode(0, "error", pb.Error(message=str(exc))))
                    return 1
                try:
                    frames.send_frame(sock, server.handle(request))
                except OSError:
                    return 1                     # the engine went away before the reply
                last_request = time.monotonic()
                if server.exit_status is not None:
                    return server.exit_status
            elif _orphaned_or_idle(parent_pid, watch_ppid, last_request, idle_timeout_s):
                return 1
    finally:
        sock.close()
        server.close_all()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
