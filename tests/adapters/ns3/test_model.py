"""The ns-3 network model through the adapter spec (inject / advance / next_event_ns): arrival
times obey the link physics, decisions come at least a lookahead early, runs are
deterministic, and a message that cannot be delivered is reported, never waited on forever."""

from __future__ import annotations

import pytest

from adapters.base import NEVER
from orchestrator.errors import AstraCosimError, InputError, SimulationError
from tests.adapters.ns3.conftest import requires_ns3

pytestmark = requires_ns3
MIB = 1 << 20
BYTES_PER_NS_50 = 50 * (1 << 30) / 1e9


def network(topology="Switch", npus=4, latency=500.0, **options):
    from adapters.ns3.model import build_ns3

    return build_ns3({"format": "v2", "network": {
        "topology": [topology], "npus_count": [npus], "bandwidth": [50.0],
        "latency": [latency]}, "options": options}, "<test network>")


def drive(model, injections):
    """The engine's rounds, reduced: grant = next event + lookahead until idle; every
    arrival must be reported before the grant passes it."""
    for op, src, dst, size, at in injections:
        model.inject(op, src, dst, size, at)
    arrivals = {}
    grant = 0
    while model.next_event_ns() < NEVER:
        grant = model.next_event_ns() + model.lookahead_ns
        for op, time_ns in model.advance(grant):
            assert time_ns >= grant - model.lookahead_ns, "an arrival reported too late"
            arrivals[op] = time_ns
    return arrivals


def test_one_message_takes_latency_plus_serialisation_plus_protocol_costs():
    model = network("Switch", 2)
    arrivals = drive(model, [(7, 0, 1, MIB, 1000)])
    wire = MIB / BYTES_PER_NS_50                      # 19 531 ns of payload
    ideal = 1000 + 2 * 500 + wire                     # two hops, cut through
    # above the ideal by headers (80 of 8920 bytes), the handshake (one round trip of 2 us)
    # and slow start (10 segments, then doubling per round trip of about 2 us)
    assert ideal < arrivals[7] < ideal + 0.01 * wire + 4 * 2_000
    assert model.stats()["connections"] == 1 and model.stats()["retransmissions"] == 0


def test_messages_to_one_npu_share_its_link():
    alone = drive(network("Switch", 4), [(1, 0, 1, MIB, 0)])[1]
    shared = drive(network("Switch", 4), [(1, 0, 1, MIB, 0), (2, 2, 1, MIB, 0)])
    wire = MIB / BYTES_PER_NS_50
    assert max(shared.values()) > alone + 0.9 * wire      # the second MiB waits for the first


def test_incast_into_a_small_buffer_drops_retransmits_and_still_delivers():
    """Seven NPUs send 1 MiB each to NPU 0 through a switch whose ports hold 8 packets."""
    model = network("Switch", 8, switch_queue_packets=8)
    arrivals = drive(model, [(src, src, 0, MIB, 0) for src in range(1, 8)])
    assert sorted(arrivals) == list(range(1, 8))
    stats = model.stats()
    assert stats["drops"] > 0 and stats["retransmissions"] >= stats["drops"]
    # the switch's port to NPU 0 stays busy: all 7 MiB arrive within 10% of their wire time
    assert max(arrivals.values()) < 1.1 * 7 * MIB / BYTES_PER_NS_50
    assert stats["link_utilisation/sw0->npu0"] > 0.9


def test_later_messages_reuse_the_connection_and_skip_the_handshake():
    model = network("Switch", 2)
    first = drive(model, [(1, 0, 1, 64 << 10, 0)])[1]
    second = drive(model, [(2, 0, 1, 64 << 10, 100_000)])[2] - 100_000
    assert second < first - 1500 and model.stats()["connections"] == 1


def test_runs_are_deterministic_and_a_new_network_retires_the_old_one():
    injections = [(op, op % 8, (op * 3 + 1) % 8, 100_000 + op, 50 * op)
                  for op in range(40) if op % 8 != (op * 3 + 1) % 8]
    first_model = network("Ring", 8)
    first = drive(first_model, injections)
    second = drive(network("Ring", 8), injections)
    assert first == second and len(first) == len(injections)
    with pytest.raises(AstraCosimError, match="retired"):
        first_model.next_event_ns()


def test_unbounded_grant_stops_at_the_earliest_arrival():
    model = network("Switch", 4)
    model.inject(1, 0, 1, MIB, 0)
    model.inject(2, 2, 3, 8 << 10, 0)
    arrivals = model.advance(NEVER)
    # the small message arrives first; the engine may inject again at that time
    assert [op for op, _ in arrivals] == [2]
    model.inject(3, 3, 0, 8 << 10, arrivals[0][1])
    rest = dict(model.advance(NEVER) + model.advance(NEVER))
    assert set(rest) == {1, 3} and model.next_event_ns() == NEVER


def test_zero_latency_has_no_lookahead():
    with pytest.raises(InputError, match="no lookahead"):
        network("Ring", 4, latency=0.0)


def test_undeliverable_message_is_reported_when_ns3_runs_dry(tmp_path):
    from adapters.ns3.model import build_ns3

    # two islands: NPUs 0-1 and NPUs 2-3
    topology = tmp_path / "islands.txt"
    topology.write_text("4 0 2\n\n0 1 10Gbps 1us 0\n2 3 10Gbps 1us 0\n", encoding="utf-8")
    model = build_ns3({"format": "v2", "network": {
        "topology": ["Ring"], "npus_count": [4], "bandwidth": [50.0], "latency": [500.0]},
        "options": {"topology_file": str(topology)}}, "<test>")
    model.inject(5, 0, 2, 4096, 0)
    with pytest.raises(SimulationError, match=r"op 5 NPU 0 -> 2 \(4096 bytes, injected at 0"):
        model.advance(NEVER)


def test_watchdog_reports_a_message_that_takes_too_long():
    model = network("Switch", 2, flow_timeout_ns=5_000)
    model.inject(9, 1, 0, MIB, 0)
    with pytest.raises(SimulationError, match=r"undelivered after 5000 ns .*op 9 NPU 1 -> 0 "
                                              r"\(1048576 bytes"):
        model.advance(NEVER)


def test_topology_file_must_match_the_network_config(tmp_path):
    from adapters.ns3.model import build_ns3

    topology = tmp_path / "pair.txt"
    topology.write_text("2 0 1\n\n0 1 10Gbps 1us 0\n", encoding="utf-8")
    with pytest.raises(InputError, match="topology file has 2 NPUs but the network config has 4"):
        build_ns3({"format": "v2", "network": {
            "topology": ["Ring"], "npus_count": [4], "bandwidth": [50.0], "latency": [500.0]},
            "options": {"topology_file": str(topology)}}, "<test>")


def test_a_grant_beyond_an_arrival_stops_at_the_arrival():
    """The engine acts on an arrival at its time and may inject then, before the grant it
    gave; ns-3 must not have run past it."""
    model = network("Switch", 4)
    model.inject(1, 0, 1, 8 << 10, 0)
    model.inject(2, 2, 3, MIB, 0)
    arrivals = model.advance(10**9)
    assert [op for op, _ in arrivals] == [1]
    first = arrivals[0][1]
    assert first <= model.next_event_ns() < 10**9
    model.inject(3, 1, 2, 8 << 10, first)
    rest = dict(model.advance(10**9) + model.advance(10**9) + model.advance(10**9))
    assert set(rest) == {2, 3} and min(rest.values()) > first


def test_an_empty_message_travels_as_one_byte():
    model = network("Switch", 2)
    arrival = drive(model, [(4, 0, 1, 0, 0)])[4]
    assert 2 * 500 < arrival < 4 * 2_000 and model.stats()["bytes"] == 0


def test_a_clos_fabric_from_a_topology_file(tmp_path):
    """Two leaves, two spines (tests/adapters/ns3/test_config.py's file): messages between
    leaves cross a spine, four hops, and arrive after at least four link delays."""
    from adapters.ns3.model import build_ns3
    from tests.adapters.ns3.test_config import CLOS

    topology = tmp_path / "clos.txt"
    topology.write_text(CLOS, encoding="utf-8")
    model = build_ns3({"format": "v2", "network": {
        "topology": ["Switch"], "npus_count": [4], "bandwidth": [50.0], "latency": [500.0]},
        "options": {"topology_file": str(topology)}}, "<test>")
    assert model.lookahead_ns == 500
    arrivals = drive(model, [(1, 0, 2, 64 << 10, 0), (2, 3, 1, 64 << 10, 0),
                             (3, 0, 1, 64 << 10, 0)])
    assert min(arrivals[1], arrivals[2]) > 2 * 500 + 2 * 1000     # leaf, spine, leaf
    assert arrivals[3] < arrivals[1]                               # same leaf: two hops
    stats = model.stats()
    assert any(f"link_bytes/sw{spine}->sw" in key for key in stats for spine in (2, 3))
