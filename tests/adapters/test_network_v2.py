"""The 2.x analytical networks against each other and against figures worked by hand.

Link model of the congestion-aware backend (notes/system_network_v2.md §B3), used in every
derivation below: a message crosses its route link by link, store-and-forward; a hop takes
``trunc(latency + bytes/bw)`` and keeps the (unidirectional, FIFO) link busy for
``trunc(bytes/bw)``; a Switch dimension routes up to that dimension's switch and down (2 hops),
a Ring the shorter way, FullyConnected directly. The unaware backend charges
``trunc(hops*latency + bytes/bw)`` once per message and never queues.

Constants: bw = GB/s * 2^30 / 1e9 B/ns, so 50 GB/s = 53.6870912 B/ns, 200 GB/s = 214.7483648,
25 GB/s = 26.8435456. System: endpoint delay E = 10, splits 4, active chunks 1, LIFO,
local-mem-bw 1600, so a processed bundle of m bytes costs R(m) = 3*floor(m/1600).
Per-NPU size 1 MiB -> 4 chunks of C = 262144 B.

Multi-dimensional aware routing is astra-cosim's extension (upstream's aware backend is 1-D).
"""

from __future__ import annotations

import pytest

from tests.workload.traces import CT, network, npus_of, run, system, write_micro

MIB = 1 << 20


def both(tmp_path, net: dict, sys_doc: dict, comm_type: int, size: int):
    prefix = write_micro(tmp_path, npus_of(net), comm_type, size)
    unaware = run(prefix, sys_doc, net, "analytical")
    aware = run(prefix, sys_doc, net, "analytical-aware")
    return unaware, aware


# --- (a) 2-D without contention: aware == unaware ----------------------------------------------

def test_ring4xring4_ring_all_reduce_aware_equals_unaware_by_hand(tmp_path) -> None:
    """Ring 4 x Ring 4, ring all-reduce localBWAware, 1 MiB (the v2-multidim reference case's
    setting; its unaware reference total is 43040).

    Why the aware network sees no contention: every ring message goes one hop to a ring
    neighbour inside one dimension, on that dimension's own unidirectional link; the RS/AR
    phases go clockwise and localBWAware's AG phases anticlockwise (other links); with
    active-chunks 1 one stream at a time runs per dimension queue, and an NPU sends its next
    message only after a receive (>= d + E later), longer than a link's busy time trunc(m/bw).
    So no message ever waits for a link, and a 1-hop aware delay trunc(lat + m/bw) is exactly
    the unaware trunc(1*lat + m/bw): same truncation, same serialisation count.

    By hand (per chunk, C = 262144):
      RS on dim 0 (N=4): m = C/4 = 65536, d = trunc(500 + 1220.70) = 1720, R = 3*40 = 120
          E + 3(d+E) + 3R = 10 + 5190 + 360 = 5560
      AR on dim 1 (input C/4 = 65536): m = 16384, d = trunc(500 + 305.18) = 805, R = 3*10 = 30
          E + 2*3(d+E) + 3R = 10 + 4890 + 90 = 4990
      AG on dim 0 (input shard 65536, message 65536, no reduction): E + 3(1720+10) = 5200
    Queue 0 holds every dim-0 phase; all four RS phases were queued at t=0 and an AG phase
    (equal priority) queues behind them: RS1..RS4 end at 5560k, so RS4 ends 22240; AR k runs
    [5560k, 5560k + 4990], done before RS k+1 ends; AG1..AG4 run back to back from 22240:
    22240 + 4*5200 = 43040.
    """
    net = network(["Ring", "Ring"], [4, 4])
    unaware, aware = both(tmp_path, net, system(["ring", "ring"]), CT.ALL_REDUCE, MIB)
    assert unaware.total_ns == 43040
    assert aware.total_ns == unaware.total_ns == 43040
    assert aware.finish_ns == unaware.finish_ns


@pytest.mark.parametrize("comm_type, algorithms, topologies, changes", [
    # same argument as above: ring neighbours, one hop, one stream per queue
    (CT.ALL_REDUCE, ["ring", "ring"], ["Ring", "Ring"], {"collective_optimization": "baseline"}),
    (CT.ALL_GATHER, ["ring", "ring"], ["Ring", "Ring"], {}),
    (CT.REDUCE_SCATTER, ["ring", "ring"], ["Ring", "Ring"], {}),
    # direct on FullyConnected: each of the N-1 concurrent messages has its own link (one per
    # ordered pair), one hop; ring on dim 1 as above
    (CT.ALL_REDUCE, ["direct", "ring"], ["FullyConnected", "Ring"], {}),
], ids=["ring-AR-baseline", "ring-AG", "ring-RS", "FCxRing-direct-AR"])
def test_2d_without_contention_aware_equals_unaware(tmp_path, comm_type, algorithms, topologies,
                                                     changes) -> None:
    net = network(topologies, [4, 4])
    unaware, aware = both(tmp_path, net, system(algorithms, **changes), comm_type, MIB)
    assert aware.finish_ns == unaware.finish_ns
    assert aware.total_ns == unaware.total_ns > 0


def test_2d_ring_dims_with_different_links_aware_equals_unaware(tmp_path) -> None:
    """Ring 4 x Ring 4 with 200/25 GB/s and 500/1000 ns, 64 MiB: still one hop per message and
    no sharing, so the two backends agree to the ns."""
    net = network(["Ring", "Ring"], [4, 4], [200, 25], [500, 1000])
    unaware, aware = both(tmp_path, net, system(["ring", "ring"]), CT.ALL_REDUCE, 64 * MIB)
    assert aware.total_ns == unaware.total_ns


def test_switch_x_switch_ring_reduce_scatter_documented_difference(tmp_path) -> None:
    """Switch 4 x Switch 4, ring reduce-scatter, 1 MiB: no contention either (NPU i's uplink
    carries only i's messages, one at a time; the downlink to i+1 only messages to i+1), but a
    Switch message is 2 store-and-forward hops: aware 2*trunc(lat + m/bw) against unaware
    trunc(2*lat + m/bw) - the serialisation is paid twice.

    RS phases: dim 0 then dim 1 (one RS phase per dimension), chunk C = 262144:
      dim 0: m = 65536, R = 120; unaware d = trunc(1000 + 1220.70) = 2220, aware 2*1720 = 3440
      dim 1: m = 16384, R = 30;  unaware d = trunc(1000 + 305.18) = 1305, aware 2*805 = 1610
      phase = E + 3(d+E) + 3R
        unaware: T0 = 10 + 6690 + 360 = 7060, T1 = 10 + 3945 + 90 = 4045
        aware:   T0 = 10 + 10350 + 360 = 10720, T1 = 10 + 4860 + 90 = 4960
    dim 0 is the slower stage, so total = 4*T0 + T1:
        unaware 28240 + 4045 = 32285; aware 42880 + 4960 = 47840
    i.e. the difference 15555 = 12*(3440-2220) + 3*(1610-1305): per critical-path message.
    """
    net = network(["Switch", "Switch"], [4, 4])
    unaware, aware = both(tmp_path, net, system(["ring", "ring"]), CT.REDUCE_SCATTER, MIB)
    assert unaware.total_ns == 32285
    assert aware.total_ns == 47840
    assert aware.total_ns - unaware.total_ns == 12 * (3440 - 2220) + 3 * (1610 - 1305)


# --- (b) 2-D Switch x Switch direct all-to-all: contention -------------------------------------

def test_switch8xswitch4_direct_all_to_all_contention_by_hand(tmp_path) -> None:
    """Switch 8 x Switch 4, 200/25 GB/s, 500/1000 ns, direct all-to-all 1 MiB (the fabric of
    the v2-multidim reference case, whose unaware total is 19016).

    An all-to-all gets one phase per dimension (0 then 1), each moving the whole chunk
    C = 262144 (final size C); a direct phase on N NPUs sends N-1 messages of C/N at once
    (window N-1) to i+1, i+2, ... (relative order), and nothing is reduced (R = 0).

    Unaware, per phase: 2E + trunc(2*lat + m/bw)
      dim 0: m = 32768, 32768/214.748 = 152.59 -> 20 + trunc(1152.59) = 1172
      dim 1: m = 65536, 65536/26.8435 = 2441.41 -> 20 + trunc(4441.41) = 4461
    Aware, per phase: the N-1 messages queue on the NPU's single uplink (busy s = trunc(m/bw)
    each), message k leaves at E + k*s, reaches the switch after h = trunc(lat + m/bw), and
    goes down at once: in slot k every NPU sends to its (k+1)-th neighbour, a permutation, so
    each downlink gets exactly one message per slot and is free again just as the next one
    arrives (freed at E + (k-1)s + h + s = E + ks + h). Last arrival E + (N-2)s + 2h, plus the
    receiving bundle's E:  phase = 2E + (N-2)s + 2h
      dim 0: s = 152, h = trunc(652.59) = 652  -> 20 + 6*152 + 2*652 = 2236
      dim 1: s = 2441, h = trunc(3441.41) = 3441 -> 20 + 2*2441 + 2*3441 = 11784
    Dimension phases use disjoint links, so chunks pipeline: chunk k+1's dim-0 phase runs
    while chunk k is in dim 1; dim 1 is the slow stage, so total = T0 + 4*T1:
      unaware 1172 + 4*4461 = 19016;  aware 2236 + 4*11784 = 49372.
    """
    net = network(["Switch", "Switch"], [8, 4], [200, 25], [500, 1000])
    sys_doc = system(["halvingDoubling", "halvingDoubling"], ["direct", "direct"])
    unaware, aware = both(tmp_path, net, sys_doc, CT.ALL_TO_ALL, MIB)
    assert unaware.total_ns == 19016
    assert aware.total_ns == 49372
    assert aware.total_ns > unaware.total_ns
    assert min(aware.finish_ns) == max(aware.finish_ns)     # symmetric: every NPU alike


def test_switch4xswitch4_direct_all_to_all_contention_by_hand(tmp_path) -> None:
    """Switch 4 x Switch 4, 50 GB/s, 500 ns, direct all-to-all 1 MiB: both phases alike,
    m = C/4 = 65536, m/bw = 1220.70.
      unaware phase 2E + trunc(1000 + 1220.70) = 2240;  total 5*2240 = 11200
      aware   phase 2E + 2s + 2h = 20 + 2*1220 + 2*1720 = 5900;  total 5*5900 = 29500
    (equal stages: T0 + 4*T1 = 5T)."""
    net = network(["Switch", "Switch"], [4, 4])
    sys_doc = system(["direct", "direct"], ["direct", "direct"])
    unaware, aware = both(tmp_path, net, sys_doc, CT.ALL_TO_ALL, MIB)
    assert unaware.total_ns == 11200
    assert aware.total_ns == 29500


# --- (c) 1-D Switch direct all-to-all ----------------------------------------------------------

def test_switch8_direct_all_to_all_aware_23600_vs_unaware_6520(tmp_path) -> None:
    """8 NPUs, 1 MiB, 50 GB/s, 500 ns, splits 4, E = 10 (notes/system_network_v2.md §C2;
    the v2-1d reference cases' numbers). Chunk C = 262144, P = 7 messages of m = 32768,
    m/bw = 610.35.
    Unaware: all 7 leave together and arrive after trunc(2*500 + 610.35) = 1610;
        per chunk 2E + 1610 = 1630; the 4 chunks run back to back: 4*1630 = 6520.
    Aware: the 7 queue on NPU i's uplink (s = 610 each); message k (to i+k+1) starts at
        E + 610k, reaches the switch at +1110 (trunc(500 + 610.35)) and goes down at once
        (slot k is a permutation: each downlink one message per slot); the last arrives
        6*610 + 2*1110 = 5880 after the sends leave; with the leading and the final E:
        5900 per chunk; 4*5900 = 23600.
    """
    net = network("Switch", 8)
    sys_doc = system("ring", "direct")
    unaware, aware = both(tmp_path, net, sys_doc, CT.ALL_TO_ALL, MIB)
    assert unaware.total_ns == 4 * (2 * 10 + 1610) == 6520
    assert aware.total_ns == 4 * (2 * 10 + 6 * 610 + 2 * 1110) == 23600
