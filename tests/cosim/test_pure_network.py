"""Protocol 3.0's packed rounds, and a pure network's delays reused (docs/cosim.md).

The packed records must carry every value a round can hold and refuse bytes that are not whole
records; a 2.x peer is refused with one line. A pure network asked once per message shape must
give the very arrivals, in the very order, that asking every time gives, in fewer rounds; a
model that claims purity and then does not answer is an error, not a hang.
"""

from __future__ import annotations

import json

import pytest

from adapters.base import NEVER
from adapters.registry import build_network
from orchestrator.cosim import codec
from orchestrator.cosim import cosim_pb2 as pb
from orchestrator.cosim.inprocess import InProcessClient
from orchestrator.cosim.port import NetworkPort
from orchestrator.cosim.server import AdapterServer
from orchestrator.engine.clock import EventQueue
from orchestrator.errors import AstraCosimError

RING8 = {"topology": ["Ring"], "npus_count": [8], "bandwidth": [50.0], "latency": [500.0]}


def test_packed_records_carry_every_field_exactly() -> None:
    injections = [(0, 0, 1, 1 << 20, 0), ((1 << 64) - 1, 7, 3, 5, NEVER), (42, 255, 0, 0, 123)]
    arrivals = [(0, 21_471), (42, NEVER), ((1 << 64) - 1, 1)]
    envelope, body = codec.decode(codec.encode(9, "round", codec.round_request(77, injections)))
    assert (body, envelope.round.grant_ns) == ("round", 77)
    assert codec.injections(envelope.round) == injections
    assert len(envelope.round.injection_records) == 40 * len(injections)
    envelope, body = codec.decode(codec.encode(9, "round_reply", codec.round_reply(arrivals, 5)))
    assert codec.arrivals(envelope.round_reply) == arrivals
    assert envelope.round_reply.next_event_ns == 5
    assert codec.injections(pb.Round()) == [] and codec.arrivals(pb.RoundReply()) == []


def _open_session(server: AdapterServer) -> bytes:
    envelope, _ = codec.decode(server.handle(codec.encode(1, "hello", codec.hello("engine"))))
    session = envelope.session
    envelope, kind = codec.decode(server.handle(codec.encode(
        2, "configure", codec.configure("analytical-v2", json.dumps(RING8)), session)))
    assert kind == "configured" and envelope.configured.pure
    return session


def test_records_that_are_not_whole_are_refused_and_end_the_session() -> None:
    server = AdapterServer("network")
    session = _open_session(server)
    torn = pb.Round(grant_ns=10, injection_records=b"\0" * 39)
    envelope, kind = codec.decode(server.handle(codec.encode(3, "round", torn, session)))
    assert kind == "error"
    assert "39 bytes is not a whole number of 40-byte records" in envelope.error.message
    assert server.sessions == {}


def test_a_2x_peer_is_refused_with_one_line() -> None:
    old = pb.Envelope(major=2, minor=0, seq=1)
    old.hello.CopyFrom(codec.hello("engine"))
    envelope, kind = codec.decode(AdapterServer("network").handle(old.SerializeToString()))
    assert kind == "error"
    assert envelope.error.message == ("protocol version mismatch: peer speaks 2.0, this side "
                                      f"{codec.PROTOCOL_MAJOR}.{codec.PROTOCOL_MINOR}")
    assert codec.PROTOCOL_MAJOR == 3


class _CountingClient(InProcessClient):
    """The in-process client, counting the injections it is handed."""

    def __init__(self, model) -> None:
        super().__init__(model)
        self.handed = 0

    def round(self, grant_ns, injections):
        self.handed += len(injections)
        return super().round(grant_ns, injections)


def _ring_steps(reuse: bool, semantics: str, steps: int = 6):
    """Every NPU of a ring of 8 sends to its neighbour; each arrival triggers the next step,
    with sizes that repeat (1 MiB, 64 KiB, ...). Returns the log of handler calls, the port's
    rounds and counters, and the injections the model was handed."""
    clock = EventQueue()
    model = build_network("analytical-v2", RING8, "<test>")
    client = _CountingClient(model)
    port = NetworkPort(clock, client, model.lookahead_ns, 8, semantics,
                       model.decides_at_injection)
    if reuse:
        port.reuse_delays()
    log: list[tuple[int, str, int, int]] = []

    def size(step: int) -> int:
        return (1 << 20) if step % 2 == 0 else (1 << 16)

    def sent(arg) -> None:
        log.append((clock.now_ns, "sent", *arg))

    def received(arg) -> None:
        npu, step = arg
        log.append((clock.now_ns, "received", npu, step))
        if step + 1 < steps:
            step_off(npu, step + 1)

    def step_off(npu: int, step: int) -> None:
        source = (npu - 1) % 8
        port.recv(source, npu, size(step), step, received, (npu, step))
        port.send(npu, (npu + 1) % 8, size(step), step, sent, (npu, step))

    def start(_) -> None:
        for npu in range(8):
            step_off(npu, 0)

    clock.schedule(0, start)
    clock.run()
    assert port.unmatched() == 0
    return log, port, client.handed


@pytest.mark.parametrize("semantics", ["v1", "v2"])
def test_reused_delays_give_the_same_run_in_fewer_rounds(semantics) -> None:
    asked_log, asked, handed_all = _ring_steps(False, semantics)
    reused_log, reused, handed = _ring_steps(True, semantics)
    assert reused_log == asked_log
    # 1 MiB over one hop of 50 GiB/s: 500 + 19,531 ns; 64 KiB: 500 + 1,220 ns; three of each
    assert len(asked_log) == 2 * 8 * 6 and asked_log[-1][0] == 3 * 20_031 + 3 * 1_720
    assert asked.rounds == 6 and handed_all == 48
    # two shapes per sender (1 MiB and 64 KiB), both met in the first two steps
    assert reused.rounds == 2 and handed == 16
    assert (reused.asked_messages, reused.reused_messages) == (16, 32)
    assert reused.reused_bytes == 16 * (1 << 20) + 16 * (1 << 16)


class _SilentClient:
    """A 'pure' adapter that decides nothing."""

    name = "network"

    def round(self, grant_ns, injections):
        return [], NEVER

    def check(self) -> None: ...

    def close(self) -> None: ...


def test_a_pure_adapter_that_does_not_answer_an_injection_is_an_error() -> None:
    clock = EventQueue()
    port = NetworkPort(clock, _SilentClient(), 500, 8, "v2", True)
    port.reuse_delays()
    clock.schedule(0, lambda _: port.send(0, 1, 64, 0, None, None))
    with pytest.raises(AstraCosimError, match="declared its network pure but did not decide "
                                              r"message 0 \(0 -> 1, 64 bytes\)"):
        clock.run()
