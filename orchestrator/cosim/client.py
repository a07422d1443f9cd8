"""Round clients: how the engine reaches an adapter.

``InProcessClient`` calls the model directly (the embedded default: no sockets, no copies).
``ZmqClient`` speaks protos/cosim.proto over a ZeroMQ REQ socket to an adapter server, which
the engine may have started itself (``--placement process``) or which runs elsewhere
(``--adapter network=tcp://HOST:PORT``, e.g. in a container). ``PipeClient`` speaks the same
envelopes over a socket pair to a child the engine started (``transport: pipe``, frames.py).
All deliver the same rounds, so results do not depend on placement or transport.
"""

from __future__ import annotations

import select
import shutil
import socket
import struct
import subprocess
import time

from adapters.base import ComputeRequest
from orchestrator.cosim import codec, frames, keys
from orchestrator.cosim.spawn import START_UP_S, ForkedAdapter, forget_channel
# the in-process clients live apart so that an in-process run never imports ZeroMQ or protobuf
from orchestrator.cosim.inprocess import (AdapterError, InProcessClient,  # noqa: F401
                                          InProcessComputeClient)
from orchestrator.errors import AstraCosimError, InputError


CHECK_EVERY_S = 0.1      # how often a run with no rounds looks whether its adapter lives


class AdapterClient:
    """The engine's end of one adapter connection, one request in flight: the protocol
    (handshake, rounds, shutdown) over a transport its subclasses provide (``_send``,
    ``_await_reply``, ``_peer_gone``, ``_close_transport``)."""

    # errors of the transport itself, reported by close() rather than raised during cleanup
    _transport_errors: tuple[type[BaseException], ...] = (OSError,)

    def __init__(self, endpoint: str, name: str, timeout_s: float,
                 process: subprocess.Popen | ForkedAdapter | None = None,
                 clock_now=lambda: 0) -> None:
        self.name = name
        self.endpoint = endpoint
        self.timeout_s = timeout_s
        self.process = process
        self.wait_s = 0.0
        self.bytes_moved = 0
        self.final_stats: dict[str, float] = {}
        self._seq = 0
        self._session: bytes | None = None    # named by the adapter's hello reply
        self._clock_now = clock_now
        self._usable = True      # False once a request went unanswered or the peer erred
        # why a run that went well to the end still failed: the adapter was lost before its
        # goodbye (its counters are missing); set by close(), raised by the run
        self.failure: str | None = None
        self._next_check = 0.0

    def _send(self, payload: bytes) -> None:
        raise NotImplementedError

    def _await_reply(self) -> bytes:
        raise NotImplementedError

    def _peer_gone(self) -> bool:
        """Between rounds, without waiting: whether the connection has been closed."""
        raise NotImplementedError

    def _close_transport(self) -> None:
        raise NotImplementedError

    # -- transport --------------------------------------------------------------------------
    def _request(self, body: str, message) -> object:
        self._seq += 1
        payload = codec.encode(self._seq, body, message, self._session or b"")
        if len(payload) > codec.MAX_MESSAGE_BYTES:    # the adapter would drop the connection
            self._usable = False
            raise AdapterError(f"{self.name} adapter at {self.endpoint}: a {body} request of "
                               f"{len(payload)} bytes exceeds the protocol's limit of "
                               f"{codec.MAX_MESSAGE_BYTES} (simulated time "
                               f"{self._clock_now()} ns)")
        started = time.perf_counter()
        self._usable = False
        self._send(payload)
        reply = self._await_reply()
        self.wait_s += time.perf_counter() - started
        self.bytes_moved += len(payload) + len(reply)
        try:
            kind, content, session = codec.decode_reply(reply, self._seq, self.name,
                                                        self.endpoint, self._session)
        except codec.ProtocolError as exc:
            raise codec.ProtocolError(f"{exc} (simulated time {self._clock_now()} ns)") from None
        if self._session is None:
            self._session = session
        self._usable = True
        return kind, content

    def check(self) -> None:
        """Between rounds: raise if the adapter is gone (a pure network may go the rest of a
        run without a round, so its death would otherwise wait for the goodbye). Looks at
        most every CHECK_EVERY_S: the engine calls it at every horizon it passes."""
        now = time.monotonic()
        if now < self._next_check:
            return
        self._next_check = now + CHECK_EVERY_S
        if self.process is not None and self.process.poll() is not None:
            self._usable = False
            raise AdapterError(self._died(f"exited with status {self.process.returncode}"))
        if self._peer_gone():
            self._usable = False
            raise AdapterError(self._died("closed the connection"))

    def _died(self, what: str) -> str:
        return (f"{self.name} adapter at {self.endpoint} {what} (simulated time "
                f"{self._clock_now()} ns, request {self._seq})")

    # -- protocol -----------------------------------------------------------------------------
    def handshake(self, model: str, config_json: str):
        """Hello, then configure; returns the adapter's Configured message. A child this
        engine started may take its time loading a backend before it answers the hello: its
        death is noticed at once, so the wait is bounded by START_UP_S, not by the timeout."""
        timeout_s = self.timeout_s
        if self.process is not None:
            self.timeout_s = max(timeout_s, START_UP_S)
        try:
            kind, hello = self._request("hello", codec.hello("engine"))
        finally:
            self.timeout_s = timeout_s
        if kind != "hello":
            raise AdapterError(f"{self.name} adapter at {self.endpoint} answered the handshake "
                               f"with {kind}")
        if model not in hello.capabilities:
            raise AdapterError(f"{self.name} adapter at {self.endpoint} cannot run {model}; "
                               f"it offers {', '.join(hello.capabilities)}")
        kind, configured = self._request("configure", codec.configure(model, config_json))
        if kind != "configured":
            raise AdapterError(f"{self.name} adapter at {self.endpoint}: unexpected {kind}")
        return configured

    def round(self, grant_ns: int, injections: list[tuple[int, int, int, int, int]]
              ) -> tuple[list[tuple[int, int]], int]:
        kind, reply = self._request("round", codec.round_request(grant_ns, injections))
        if kind != "round_reply":
            raise AdapterError(f"{self.name} adapter at {self.endpoint}: expected a round "
                               f"reply, got {kind}")
        try:
            arrivals = codec.arrivals(reply)
        except codec.ProtocolError as exc:
            self._usable = False
            raise codec.ProtocolError(f"{self.name} adapter at {self.endpoint}: {exc} "
                                      f"(simulated time {self._clock_now()} ns)") from None
        return arrivals, reply.next_event_ns

    def compute_round(self, grant_ns: int, requests: list[tuple[int, int, ComputeRequest]]
                      ) -> list[tuple[int, int]]:
        kind, reply = self._request("round", codec.compute_round(grant_ns, requests))
        if kind != "round_reply":
            raise AdapterError(f"{self.name} adapter at {self.endpoint}: expected a round "
                               f"reply, got {kind}")
        completions = [(c.op, c.time_ns) for c in reply.completions]
        if sorted(op for op, _ in completions) != sorted(op for op, _, _ in requests):
            raise codec.ProtocolError(
                f"{self.name} adapter at {self.endpoint} answered {len(completions)} of "
                f"{len(requests)} compute requests, or other ones (simulated time "
                f"{self._clock_now()} ns)")
        for op, time_ns in completions:
            if time_ns < grant_ns:
                raise codec.ProtocolError(
                    f"{self.name} adapter at {self.endpoint} stamped operation {op}'s "
                    f"completion {time_ns} ns, before the granted {grant_ns} ns")
        return completions

    def close(self) -> None:
        """Ask the adapter to stop (briefly, and only if it is still in step), then escalate;
        an adapter that was not asked (a request in flight, e.g. an interrupted run) is
        terminated at once. An adapter in step that is gone or does not say goodbye leaves
        ``failure`` set (close runs in cleanup, where raising would hide the run's own
        error)."""
        asked = False
        try:
            if self._usable and self.process is not None and self.process.poll() is not None:
                # dead between rounds (a pure network may need none after the first)
                self.failure = self._died(f"exited with status {self.process.returncode} "
                                          "before its goodbye")
            elif self._usable:
                self.timeout_s = min(self.timeout_s, 2.0)
                asked = True
                kind, goodbye = self._request("shutdown", codec.shutdown())
                if kind == "goodbye":
                    self.final_stats = dict(sorted(goodbye.stats.items()))
                else:
                    self.failure = f"{self.name} adapter at {self.endpoint} answered the " \
                                   f"shutdown with {kind}"
        except (AstraCosimError, *self._transport_errors) as exc:
            self.failure = str(exc)
        finally:
            self._close_transport()
            if self.process is not None:
                stop_process(self.process, asked)


class ZmqClient(AdapterClient):
    """Over a ZeroMQ REQ socket: to a served adapter anywhere (a container, another host,
    CURVE keys when given) or a spawned child on loopback TCP or a Unix socket."""

    def __init__(self, endpoint: str, name: str, timeout_s: float,
                 process: subprocess.Popen | ForkedAdapter | None = None, clock_now=lambda: 0,
                 key_file: str | None = None, key_origin: str = "--adapter-key") -> None:
        import zmq

        super().__init__(endpoint, name, timeout_s, process, clock_now)
        self._transport_errors = (OSError, zmq.ZMQError)
        self._context = zmq.Context.instance()
        self._socket = self._context.socket(zmq.REQ)
        self._socket.setsockopt(zmq.LINGER, 0)
        self._socket.setsockopt(zmq.MAXMSGSIZE, codec.MAX_MESSAGE_BYTES)
        # a spawned adapter binds only once its interpreter is up: retry the connection every
        # 10 ms rather than ZeroMQ's default 100 ms, which a process run pays as start-up
        self._socket.setsockopt(zmq.RECONNECT_IVL, 10)
        if key_file is not None:
            public, secret = keys.load(key_file, key_origin)
            # the client proves it holds the stack's pair by using it as its own key
            self._socket.curve_serverkey = public
            self._socket.curve_publickey = public
            self._socket.curve_secretkey = secret
        # a REQ socket never says its peer went away, nor that it refused our key; the
        # monitor does
        self._handshake_failed = (zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                                  zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL |
                                  zmq.EVENT_HANDSHAKE_FAILED_AUTH)
        self._monitor = self._socket.get_monitor_socket(zmq.EVENT_DISCONNECTED |
                                                        self._handshake_failed)
        try:
            self._socket.connect(endpoint)
        except zmq.ZMQError as exc:     # ZeroMQ refuses the address itself (a bad port, ...)
            self._monitor.close(linger=0)
            self._socket.close(linger=0)
            raise InputError(f"{name} endpoint {endpoint}: {exc.strerror}; expected e.g. "
                             "tcp://host:5555 or ipc:///path/socket") from None
        self._poller = zmq.Poller()
        self._poller.register(self._socket, zmq.POLLIN)
        self._poller.register(self._monitor, zmq.POLLIN)
        self._zmq = zmq

    def _send(self, payload: bytes) -> None:
        self._socket.send(payload)

    def _await_reply(self) -> bytes:
        poller = self._poller
        deadline = time.monotonic() + self.timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            ready = dict(poller.poll(min(remaining, 0.2) * 1000))
            if self._socket in ready:
                return self._socket.recv()
            if self.process is not None and self.process.poll() is not None:
                raise AdapterError(self._died(f"exited with status {self.process.returncode}"))
            if self._monitor in ready:
                event = self._monitor_event()
                if event & self._handshake_failed:
                    raise AdapterError(
                        f"{self.name} adapter at {self.endpoint} refused the connection: the "
                        "security handshake failed (a missing or wrong key: the adapter's "
                        "--curve-secret-key and the engine's --adapter-key must be the same "
                        "file)")
                raise AdapterError(self._died("closed the connection"))
        raise AdapterError(self._died(f"did not answer within {self.timeout_s:g} s"))

    def _peer_gone(self) -> bool:
        return bool(self._monitor.poll(0)) and \
            bool(self._monitor_event() & self._zmq.EVENT_DISCONNECTED)

    def _monitor_event(self) -> int:
        """The event number of the monitor's next message (libzmq's event frame: a 16-bit
        event then a 32-bit value). Decoded here because ``zmq.utils.monitor`` imports asyncio,
        which costs a process run more start-up than its whole first round."""
        frames = self._monitor.recv_multipart()
        return struct.unpack("=hi", frames[0])[0] & 0xFFFF

    def _close_transport(self) -> None:
        self._socket.disable_monitor()
        self._monitor.close(linger=0)
        self._socket.close(linger=0)


class PipeClient(AdapterClient):
    """Over one end of a socket pair whose other end a spawned child serves
    (``transport: pipe``): no ZeroMQ, no I/O thread; the child's exit closes the connection."""

    def __init__(self, channel: socket.socket, name: str, timeout_s: float,
                 process: subprocess.Popen | ForkedAdapter, clock_now=lambda: 0) -> None:
        super().__init__(f"pipe:{process.pid}", name, timeout_s, process, clock_now)
        self._channel = channel

    def _send(self, payload: bytes) -> None:
        try:
            frames.send_frame(self._channel, payload)
        except OSError:          # the child is gone; its exit status says more
            raise AdapterError(self._died(self._gone_how())) from None

    def _await_reply(self) -> bytes:
        deadline = time.monotonic() + self.timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AdapterError(self._died(f"did not answer within {self.timeout_s:g} s"))
            ready, _, _ = select.select([self._channel], [], [], min(remaining, 0.2))
            if ready:
                try:
                    return frames.recv_frame(self._channel)
                except (frames.PeerClosed, OSError):
                    raise AdapterError(self._died(self._gone_how())) from None
            if self.process.poll() is not None:
                raise AdapterError(self._died(f"exited with status {self.process.returncode}"))

    def _gone_how(self) -> str:
        """A closed connection, told by the child's exit status when it has one already."""
        try:
            self.process.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            return "closed the connection"
        return f"exited with status {self.process.returncode}"

    def _peer_gone(self) -> bool:
        return frames.peer_closed(self._channel)

    def _close_transport(self) -> None:
        forget_channel(self._channel)
        self._channel.close()


def ping(endpoint: str, timeout_s: float, key_file: str | None = None,
         key_origin: str = "--key") -> tuple[str, list[str]]:
    """The hello handshake alone: the adapter's kind and models, or AdapterError. The session
    the hello opened is closed again; the server keeps serving (a healthcheck must not use
    up the adapter)."""
    client = ZmqClient(endpoint, "astra-cosim", timeout_s, key_file=key_file,
                       key_origin=key_origin)
    try:
        try:
            kind, hello = client._request("hello", codec.hello("engine"))
        except AdapterError as exc:
            if "refused" in str(exc):
                raise
            raise AdapterError(f"no adapter answered at {endpoint} within {timeout_s:g} s"
                               ) from None
        if kind != "hello":
            raise AdapterError(f"adapter at {endpoint} answered hello with {kind}")
        return hello.role, list(hello.capabilities)
    finally:
        client.close()


def stop_process(process: subprocess.Popen | ForkedAdapter, asked: bool = True) -> None:
    """Shutdown escalation: wait for an adapter that was asked to stop, terminate, then kill.
    Its scratch working directory goes with it."""
    try:
        if not asked:
            raise subprocess.TimeoutExpired(process.args, 0)
        process.wait(timeout=2)
    except subprocess.TimeoutExpired:
        process.terminate()
        try:
            process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    workdir = getattr(process, "workdir", None)
    if workdir:
        shutil.rmtree(workdir, ignore_errors=True)
