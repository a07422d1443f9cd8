"""The ns3 backend through the engine: MLSys'22 exercises 1 and 2-2 and single collectives on
8 and 16 NPUs of Ring, Switch and FullyConnected land within 15% of the analytical networks
when nothing contends; an all-to-all through one switch shows real contention; the process
placement gives the same result as in-process.

Why 15% holds, and what the remaining gap is: each 8 920-byte segment carries 80 bytes of
IP/TCP/PPP headers (0.9%); the first message of every NPU pair waits one round trip for the
TCP handshake and starts in slow start (10 segments, doubling per round trip of about 2 us);
ACKs share the reverse links. The analytical reference of a Switch is the congestion-unaware
network: the aware one stores and forwards whole messages at the switch, which counts the
serialisation twice, while ns-3 forwards packet by packet (cut through at message scale), so
ns-3 lands at about 55% of it; for the same reason ns-3 is compared with the aware network on
Ring and FullyConnected, where every message crosses one link. Sizes are kept to about 14 MiB sent
per NPU so that the file runs in a few minutes; benchmarks/ns3_backend.py runs the 16 MiB and
1 GiB versions.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from orchestrator.experiment.load import load_experiment
from orchestrator.experiment.runner import simulate
from tests.adapters.ns3.conftest import requires_ns3
from tests.adapters.backend_checks import both_placements, exercise_totals
from tests.workload.traces import CT, network, run, system, write_micro

pytestmark = requires_ns3
PROJECT = Path(__file__).resolve().parents[3]
TOLERANCE = 0.15
MIB = 1 << 20
# per collective: bytes such that every NPU sends about 14 MiB (all-gather sends N - 1 times
# its size, all-reduce twice (N - 1) / N), so that the per-connection costs (handshake, slow
# start) are a few per cent; at 2 MiB they reach 16% on the Switch (benchmarks/results.md)
SIZES = {("all_reduce", 8): 8 * MIB, ("all_gather", 8): 2 * MIB, ("all_to_all", 8): 8 * MIB,
         ("all_reduce", 16): 8 * MIB, ("all_gather", 16): MIB, ("all_to_all", 16): 8 * MIB}
COMM = {"all_reduce": CT.ALL_REDUCE, "all_gather": CT.ALL_GATHER, "all_to_all": CT.ALL_TO_ALL}
ALGORITHM = {"Ring": ("ring", "ring"), "Switch": ("halvingDoubling", "direct"),
             "FullyConnected": ("direct", "direct")}


def _micro(tmp_path, topology, npus, collective):
    prefix = write_micro(tmp_path, npus, COMM[collective], SIZES[(collective, npus)])
    algorithm, a2a = ALGORITHM[topology]
    return prefix, system(algorithm, a2a), network(topology, npus)


UNCONTENDED = [(collective, topology, npus)
               for collective in ("all_reduce", "all_gather", "all_to_all")
               for topology in ("Ring", "Switch", "FullyConnected") for npus in (8, 16)
               if (collective, topology) != ("all_to_all", "Switch")]   # contends: see below


@pytest.mark.parametrize("collective, topology, npus", UNCONTENDED)
def test_uncontended_collectives_match_the_analytical_network(tmp_path, collective, topology,
                                                              npus):
    prefix, sys_doc, net = _micro(tmp_path, topology, npus, collective)
    reference = run(prefix, sys_doc, net,
                    "analytical" if topology == "Switch" else "analytical-aware").total_ns
    ns3 = run(prefix, sys_doc, net, "ns3")
    assert abs(ns3.total_ns / reference - 1) <= TOLERANCE, (ns3.total_ns, reference)
    stats = ns3.adapter_stats["network"]
    assert stats["drops"] == 0 and stats["retransmissions"] == 0
    assert stats["flows"] == ns3.cosim["network"]["messages"]


def test_two_dimensions(tmp_path):
    """A 4 x 4 Ring x Switch (50 and 25 GB/s, 500 and 700 ns): routes cross both dimensions
    (global routing over the per-group rings and switches) without contention."""
    prefix = write_micro(tmp_path, 16, CT.ALL_REDUCE, 8 * MIB)
    net = network(["Ring", "Switch"], [4, 4], [50.0, 25.0], [500.0, 700.0])
    sys_doc = system(["ring", "halvingDoubling"])
    unaware = run(prefix, sys_doc, net, "analytical").total_ns
    ns3 = run(prefix, sys_doc, net, "ns3")
    assert abs(ns3.total_ns / unaware - 1) <= TOLERANCE, (ns3.total_ns, unaware)
    assert ns3.adapter_stats["network"]["links_used"] == 64    # 16 ring + 16 switch links, x2


def test_all_to_all_contends(tmp_path):
    """16 NPUs each send 15 messages at once through one switch: every NPU's uplink carries
    all of its messages one after another, which the unaware network ignores. Both the aware
    network and ns-3 serialise them; they differ by the aware model's store-and-forward at the
    switch and ns-3's TCP ramp-up per connection, each a few per cent of 15 serialisations
    (measured: 0.96 of the aware time at 16 MiB), hence 25%."""
    prefix, sys_doc, net = _micro(tmp_path, "Switch", 16, "all_to_all")
    unaware = run(prefix, sys_doc, net, "analytical").total_ns
    aware = run(prefix, sys_doc, net, "analytical-aware").total_ns
    ns3 = run(prefix, sys_doc, net, "ns3").total_ns
    assert ns3 > 5 * unaware
    assert abs(ns3 / aware - 1) <= 0.25, (ns3, aware, unaware)


@pytest.mark.parametrize("name, comm_scale", [
    ("ex1", None), ("ex2_2_ring", 1 / 64), ("ex2_2_switch", 1 / 64),
    ("ex2_2_fully_connected", 1 / 64)])
def test_mlsys22_exercises(name, comm_scale):
    """Exercise 1 as given; 2-2 at 16 MiB (1/64 of its 1 GiB; the benchmark runs 1 GiB)."""
    ns3, reference = exercise_totals(name, comm_scale, "ns3")
    assert abs(ns3 / reference - 1) <= TOLERANCE, (ns3, reference)


def test_process_placement_gives_the_in_process_result(tmp_path):
    process, inprocess = both_placements(tmp_path, "ns3")
    assert process["adapter_stats"]["network"]["flows"] == \
        inprocess.adapter_stats["network"]["flows"] == 448


def test_vgg16_end_to_end():
    """experiments/ns3/vgg16_switch8.yaml: compute is the workload's, so it is equal; the
    total stays within 10% of the analytical network (README, "ns-3 backend"), and exposed
    communication within 25%: at comm-scale 0.05 most of VGG16's 16 all-reduces are small
    (from 179 bytes), where the handshake of each new NPU pair and slow start weigh most."""
    experiment = load_experiment(str(PROJECT / "experiments" / "ns3" / "vgg16_switch8.yaml"))
    ns3 = simulate(experiment)
    analytical = simulate(dataclasses.replace(experiment, network_backend="analytical"))
    assert ns3.compute_ns == analytical.compute_ns > 0
    assert abs(ns3.total_ns / analytical.total_ns - 1) <= 0.10
    assert abs(ns3.exposed_comm_ns / analytical.exposed_comm_ns - 1) <= 0.25
    assert ns3.adapter_stats["network"]["flows"] == ns3.cosim["network"]["messages"]
