"""Single-collective MICRO runs against the closed forms of ASTRA-sim 1.0.

Every expected number is computed in ``tests/system/closed_forms.py`` from the behaviour notes
(collectives_v1.md, network_v1.md, sys_v1.md; SEMANTICS §4.3-4.5), never from the engine:
d(m) = int(int(hops*lat) + m / (bw * 2**30/1e9 * links_factor)), R(m) = 3 * (m // 500000),
chunks back to back with no gap, and the run ends at the last chunk's end + the update delay.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from orchestrator.experiment.model import RunOptions
from tests.system.closed_forms import (
    ALLGATHER, ALLREDUCE, ALLTOALL, REDUCESCATTER, Dim, baseline_2d, chunk_sizes, float32,
    direct_far_time, direct_time, direct_window, double_binary_tree_time, halving_doubling_time,
    local_bw_aware_2d, one_queue_makespan, phase_payload, reduction, ring_time, workload_size)

KINDS = (ALLREDUCE, REDUCESCATTER, ALLGATHER, ALLTOALL)
MIB = 1 << 20
GIB = 1 << 30

# Deterministic and quick by default; ASTRA_TEST_EXAMPLES=2000 for a longer local search.
FAST = settings(derandomize=True, deadline=None,
                max_examples=int(os.environ.get("ASTRA_TEST_EXAMPLES", "40")),
                suppress_health_check=[HealthCheck.too_slow])


def links_for(topology: str, npus: int) -> int:
    """The smallest link count 1.0 accepts: Ring 2 (one per direction), Switch 1, FC N-1."""
    return {"Ring": 2, "Switch": 1, "FullyConnected": npus - 1}[topology]


def dim_of(topology: str, npus: int, links: int | None = None, latency: float = 500,
           bandwidth: float = 50) -> Dim:
    return Dim(topology, npus, links_for(topology, npus) if links is None else links, latency,
               bandwidth)


def expected_total(per_chunk, size: int, splits: int, update: int = 1,
                   active_chunks: int = 1) -> int:
    """Chunks of one queue back to back (``active_chunks`` at a time), plus the update delay."""
    times = [per_chunk(i, c) for i, c in enumerate(chunk_sizes(workload_size(size), splits))]
    return one_queue_makespan(times, active_chunks) + update


def payload_1d(algorithm: str, kind: str, n: int, size: int, splits: int) -> int:
    return sum(phase_payload(algorithm, kind, n, c)
               for c in chunk_sizes(workload_size(size), splits))


def run_1d(micro, kind, size, dim: Dim, algorithm, *, splits=1, endpoint_delay=10, update=1,
           active_chunks=1, options=None):
    return micro.run(kind, size, topology=dim.topology, npus=dim.npus, links=dim.links,
                     latency=dim.latency, bandwidth=dim.bandwidth, algorithm=algorithm,
                     splits=splits, endpoint_delay=endpoint_delay, update=update,
                     active_chunks=active_chunks, options=options)


# -- anchors: the closed forms reproduce upstream 1.0's own numbers (network_v1.md §6) -------

UPSTREAM_1D = [
    # (name, kind, size, topology, npus, algorithm, upstream 1.0 total_ns)
    ("mlsys22_ex1 Ring8 ring AR 1 MiB", ALLREDUCE, MIB, "Ring", 8, "ring", 45681),
    ("ex2-1 Ring8 ring AR 1 GiB (R = 201)", ALLREDUCE, GIB, "Ring", 8, "ring", 17534229),
    ("ex2-2 FC8 direct AR 1 GiB", ALLREDUCE, GIB, "FullyConnected", 8, "direct", 5004925),
    ("ex2-2 Switch8 HD AR 1 GiB", ALLREDUCE, GIB, "Switch", 8, "halvingDoubling", 35026693),
    ("v1 Switch8 ring AR 1 MiB", ALLREDUCE, MIB, "Switch", 8, "ring", 90761),
    ("v1 Ring8 direct A2A 1 MiB (farthest peer)", ALLTOALL, MIB, "Ring", 8, "direct", 9301),
    ("v1 Ring8 direct A2A 16 MiB", ALLTOALL, 16 * MIB, "Ring", 8, "direct", 27609),
    ("v1 FC8 direct A2A 1 MiB", ALLTOALL, MIB, "FullyConnected", 8, "direct", 4521),
    ("v1 Switch8 DBT AR 1 MiB", ALLREDUCE, MIB, "Switch", 8, "doubleBinaryTree", 141449),
]


def closed_form_1d(kind: str, c: int, dim: Dim, algorithm: str, e: int, chunk_index: int,
                   window: int = -1) -> int:
    if algorithm == "ring":
        return ring_time(kind, c, dim, e)
    if algorithm == "direct":
        if dim.topology == "Ring" and dim.npus > 3:
            return direct_far_time(kind, c, dim, e)
        return direct_time(kind, c, dim, e, window)
    if algorithm == "halvingDoubling":
        return halving_doubling_time(kind, c, dim, e)
    assert algorithm == "doubleBinaryTree"
    return double_binary_tree_time(c, dim, e, chunk_index)


@pytest.mark.parametrize("name,kind,size,topology,npus,algorithm,upstream", UPSTREAM_1D,
                         ids=[case[0] for case in UPSTREAM_1D])
def test_upstream_numbers(micro, name, kind, size, topology, npus, algorithm, upstream):
    dim = dim_of(topology, npus)
    formula = expected_total(
        lambda i, c: closed_form_1d(kind, c, dim, algorithm, 10, i), size, splits=4)
    assert formula == upstream, "the closed forms themselves disagree with upstream 1.0"
    assert run_1d(micro, kind, size, dim, algorithm, splits=4).total_ns == upstream


# -- ring on Ring (links 2), Switch (links 1) and FullyConnected (links N-1) -------------------

@pytest.mark.parametrize("topology", ["Ring", "Switch", "FullyConnected"])
@pytest.mark.parametrize("npus", range(2, 17))
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("size,splits", [(MIB, 4), (1000003, 3)])
def test_ring(micro, topology, npus, kind, size, splits):
    dim = dim_of(topology, npus)
    expected = expected_total(lambda i, c: ring_time(kind, c, dim, 10), size, splits)
    result = run_1d(micro, kind, size, dim, "ring", splits=splits)
    assert result.total_ns == expected
    assert result.payload_bytes == payload_1d("ring", kind, npus, size, splits)


def test_ring_worked_example_by_hand(micro):
    """SEMANTICS §4.5 spelled out: Ring 8, links 2, 50 GB/s, 500 ns; 1 MiB in 4 chunks.
    C = 262144, message 32768, d = int(500 + 32768/107.3741824) = 805, R = 0,
    T = 10 + 14*(805+10) = 11420 per chunk, 4 chunks + 1 = 45681."""
    dim = dim_of("Ring", 8)
    assert dim.delay(32768) == 805
    assert ring_time(ALLREDUCE, 262144, dim, 10) == 11420
    assert run_1d(micro, ALLREDUCE, MIB, dim, "ring", splits=4).total_ns == 45681


def test_reduction_cost_shows_on_big_messages(micro):
    """R(m) = 3*(m // 500000): 8 MiB on Ring 4 in one chunk reduces 2 MiB messages, R = 12
    on each of the 3 reducing steps; the total is exactly 36 ns more than without R."""
    dim = dim_of("Ring", 4)
    m = 8 * MIB // 4
    assert reduction(m) == 12
    without_r = 10 + 6 * (dim.delay(m) + 10)
    got = run_1d(micro, ALLREDUCE, 8 * MIB, dim, "ring").total_ns
    assert got == without_r + 3 * 12 + 1


TOPOLOGY_DIMS = st.sampled_from(["Ring", "Switch", "FullyConnected"])
LATENCIES = st.one_of(st.integers(0, 2000), st.floats(0, 2000, allow_nan=False).map(
    lambda x: round(x, 3)))
BANDWIDTHS = st.one_of(st.sampled_from([12.5, 25, 50, 100, 150, 200]),
                       st.floats(1, 400).map(lambda x: round(x, 2)))


@st.composite
def network_dims(draw, topologies=TOPOLOGY_DIMS, npus=st.integers(2, 16)):
    topology = draw(topologies)
    n = draw(npus)
    base = links_for(topology, n)
    if topology == "Ring":
        links = draw(st.sampled_from([2, 4, 6]))
    elif topology == "Switch":
        links = draw(st.integers(1, 4))
    else:
        links = draw(st.integers(base, 3 * base + 1))     # factor links // (N-1), truncated
    return Dim(topology, n, links, draw(LATENCIES), draw(BANDWIDTHS))


@st.composite
def sizes_and_splits(draw, max_size=1 << 24):
    splits = draw(st.integers(1, 8))
    size = draw(st.integers(splits, max_size))
    return size, splits


@FAST
@given(dim=network_dims(), kind=st.sampled_from(KINDS), sizing=sizes_and_splits(),
       endpoint_delay=st.integers(1, 300), update=st.integers(1, 50))
def test_ring_random(micro, dim, kind, sizing, endpoint_delay, update):
    size, splits = sizing
    expected = expected_total(lambda i, c: ring_time(kind, c, dim, endpoint_delay), size, splits,
                              update)
    got = run_1d(micro, kind, size, dim, "ring", splits=splits, endpoint_delay=endpoint_delay,
                 update=update).total_ns
    assert got == expected


# -- direct on FullyConnected (links N-1), with and without a window --------------------------

@pytest.mark.parametrize("npus", range(2, 17))
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("algorithm", ["direct", "direct1", "direct2", "direct3"])
def test_direct_fully_connected(micro, npus, kind, algorithm):
    dim = dim_of("FullyConnected", npus)
    window = int(algorithm[6:]) if algorithm != "direct" else -1
    size, splits = MIB, 4          # C/N <= 131072 and C = 262144: no reduction cost
    expected = expected_total(lambda i, c: direct_time(kind, c, dim, 10, window), size, splits)
    result = run_1d(micro, kind, size, dim, algorithm, splits=splits)
    assert result.total_ns == expected
    assert result.payload_bytes == payload_1d("direct", kind, npus, size, splits)


@pytest.mark.parametrize("npus", [2, 3, 5, 8, 13, 16])
@pytest.mark.parametrize("kind", [ALLREDUCE, REDUCESCATTER])
def test_direct_fully_connected_with_reduction(micro, npus, kind):
    """16 MiB in 2 chunks: C/N >= 524288, so R(C/N) >= 3 is charged once (3E + 2d + R)."""
    dim = dim_of("FullyConnected", npus)
    assert reduction(8 * MIB // npus) >= 3
    expected = expected_total(lambda i, c: direct_time(kind, c, dim, 10), 16 * MIB, 2)
    assert run_1d(micro, kind, 16 * MIB, dim, "direct", splits=2).total_ns == expected


def test_direct_window_by_hand(micro):
    """FC 8, direct3, all-reduce of 1 MiB in one chunk: window 3 over 7 peers gives
    ceil(7/3) = 3 rounds per wave, T = E + 2*3*(d+E); d = int(500 + 131072/53.687) = 2941."""
    dim = dim_of("FullyConnected", 8)
    assert dim.delay(MIB // 8) == 2941
    got = run_1d(micro, ALLREDUCE, MIB, dim, "direct3").total_ns
    assert got == 10 + 6 * (2941 + 10) + 1


@FAST
@given(npus=st.integers(2, 16), kind=st.sampled_from(KINDS), window=st.integers(-1, 16),
       sizing=sizes_and_splits(), latency=LATENCIES, bandwidth=BANDWIDTHS,
       extra_links=st.integers(0, 2), endpoint_delay=st.integers(1, 300),
       update=st.integers(1, 50))
def test_direct_fully_connected_random(micro, npus, kind, window, sizing, latency, bandwidth,
                                       extra_links, endpoint_delay, update):
    size, splits = sizing
    window = -1 if window == 0 else window
    chunk = size // splits
    if direct_window(npus, window) < npus - 1 and kind in (ALLREDUCE, REDUCESCATTER):
        assume(reduction(chunk // npus) == 0)
    dim = Dim("FullyConnected", npus, (npus - 1) * (1 + extra_links), latency, bandwidth)
    algorithm = "direct" if window < 0 else f"direct{window}"
    expected = expected_total(lambda i, c: direct_time(kind, c, dim, endpoint_delay, window),
                              size, splits, update)
    got = run_1d(micro, kind, size, dim, algorithm, splits=splits,
                 endpoint_delay=endpoint_delay, update=update).total_ns
    assert got == expected


@pytest.mark.parametrize("npus", range(2, 17))
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("size,splits", [(MIB, 4), (16 * MIB, 2)])
def test_direct_on_ring_waits_for_farthest_peer(micro, npus, kind, size, splits):
    """Direct on a physical Ring is asymmetric; with 500 ns per hop > E + R the second wave
    leaves after the farthest peer's (floor(N/2) hops) message."""
    dim = dim_of("Ring", npus)
    per_chunk = (direct_far_time if npus > 3 else direct_time)
    expected = expected_total(lambda i, c: per_chunk(kind, c, dim, 10), size, splits)
    assert run_1d(micro, kind, size, dim, "direct", splits=splits).total_ns == expected


# -- halving-doubling (power-of-two N) ----------------------------------------------------------

@pytest.mark.parametrize("topology", ["Switch", "Ring", "FullyConnected"])
@pytest.mark.parametrize("npus", [2, 4, 8, 16])
@pytest.mark.parametrize("kind", [ALLREDUCE, REDUCESCATTER, ALLGATHER])
@pytest.mark.parametrize("size,splits", [(MIB, 4), (1000003, 3), (16777215, 1), (MIB + 30, 1)])
def test_halving_doubling(micro, topology, npus, kind, size, splits):
    """Switch: every partner 2 hops. Ring: partner at ring distance 1, 2, 4... is that many
    hops (shorter way). Odd sizes exercise the truncating halving and the all-reduce turn
    (2^20 + 30: C/2, C/4, C/8, C/16 are all odd, so the turn message is one byte short)."""
    dim = dim_of(topology, npus)
    expected = expected_total(lambda i, c: halving_doubling_time(kind, c, dim, 10), size, splits)
    result = run_1d(micro, kind, size, dim, "halvingDoubling", splits=splits)
    assert result.total_ns == expected
    assert result.payload_bytes == payload_1d("halvingDoubling", kind, npus, size, splits)


def test_halving_doubling_by_hand(micro):
    """Switch 8, all-reduce of 1 GiB in 4 chunks (ex2-2): C = 2^28; messages C/2, C/4, C/8,
    C/8, C/4, C/2 with d = int(2*500 + m/53.6870912) = 2501000, 1251000, 626000 (each twice);
    R on the 2nd and 3rd messages: 3*134 + 3*67 = 603. T = 7E + 2*(sum d) + 603."""
    dim = dim_of("Switch", 8)
    c = GIB // 4
    ds = [dim.delay(c >> k) for k in (1, 2, 3)]
    assert ds == [2501000, 1251000, 626000]
    per_chunk = 7 * 10 + 2 * sum(ds) + reduction(c >> 2) + reduction(c >> 3)
    assert reduction(c >> 2) + reduction(c >> 3) == 603
    assert run_1d(micro, ALLREDUCE, GIB, dim, "halvingDoubling", splits=4).total_ns == \
        4 * per_chunk + 1


@FAST
@given(dim=network_dims(npus=st.sampled_from([2, 4, 8, 16])),
       kind=st.sampled_from([ALLREDUCE, REDUCESCATTER, ALLGATHER]), sizing=sizes_and_splits(),
       endpoint_delay=st.integers(1, 300), update=st.integers(1, 50))
def test_halving_doubling_random(micro, dim, kind, sizing, endpoint_delay, update):
    size, splits = sizing
    expected = expected_total(lambda i, c: halving_doubling_time(kind, c, dim, endpoint_delay),
                              size, splits, update)
    got = run_1d(micro, kind, size, dim, "halvingDoubling", splits=splits,
                 endpoint_delay=endpoint_delay, update=update).total_ns
    assert got == expected


# -- double binary tree (power-of-two N, all-reduce, 1.0 phase barrier) ----------------------

@pytest.mark.parametrize("topology", ["Switch", "Ring", "FullyConnected"])
@pytest.mark.parametrize("npus", [2, 4, 8, 16])
@pytest.mark.parametrize("size,splits", [(MIB, 4), (1000003, 3), (16 * MIB, 2), (16777215, 1)])
def test_double_binary_tree(micro, topology, npus, size, splits):
    """Switch / FC: T = (2D+1)E + 2D d(C) + (2D-1)R(C). Ring: the tree edges span different hop
    counts; the barrier makes every NPU wait for the latest leaf, i.e. twice the longest
    root-to-leaf delay sum (the trees alternate, highest root first, mirror images)."""
    dim = dim_of(topology, npus)
    expected = expected_total(lambda i, c: double_binary_tree_time(c, dim, 10, i), size, splits)
    result = run_1d(micro, ALLREDUCE, size, dim, "doubleBinaryTree", splits=splits)
    assert result.total_ns == expected
    assert result.finish_ns == [expected] * npus
    assert result.payload_bytes == size            # C per chunk, see phase_payload


def test_double_binary_tree_by_hand(micro):
    """Switch 8, 1 MiB, 4 chunks: D = 3, d(262144) = int(1000 + 4882.8125) = 5882, R = 0:
    T = 7*10 + 6*5882 = 35362 per chunk; 4*35362 + 1 = 141449 (the 1.0 reference value)."""
    dim = dim_of("Switch", 8)
    assert dim.delay(262144) == 5882
    assert run_1d(micro, ALLREDUCE, MIB, dim, "doubleBinaryTree", splits=4).total_ns == 141449


@FAST
@given(dim=network_dims(npus=st.sampled_from([2, 4, 8, 16])), sizing=sizes_and_splits(),
       endpoint_delay=st.integers(1, 300), update=st.integers(1, 50))
def test_double_binary_tree_random(micro, dim, sizing, endpoint_delay, update):
    size, splits = sizing
    expected = expected_total(lambda i, c: double_binary_tree_time(c, dim, endpoint_delay, i),
                              size, splits, update)
    got = run_1d(micro, ALLREDUCE, size, dim, "doubleBinaryTree", splits=splits,
                 endpoint_delay=endpoint_delay, update=update)
    assert got.total_ns == expected
    assert set(got.finish_ns) == {expected}


# -- active-chunks-per-dimension ------------------------------------------------------------------

@pytest.mark.parametrize("algorithm,topology", [("ring", "Ring"), ("direct", "FullyConnected"),
                                                ("halvingDoubling", "Switch"),
                                                ("doubleBinaryTree", "Switch")])
@pytest.mark.parametrize("splits,active", [(4, 1), (4, 2), (4, 4), (8, 2), (8, 4), (6, 3),
                                           (16, 8)])
def test_active_chunks_divide_the_time(micro, algorithm, topology, splits, active):
    """k chunks run at once in the queue. The congestion-unaware network has no contention and
    every chunk has its own tag, so k concurrent chunks take as long as one: with splits a
    multiple of k the total is (splits / k) * T + update (SEMANTICS §4.5). Chunks of 128 KiB."""
    dim = dim_of(topology, 8)
    chunk = 1 << 17
    t = closed_form_1d(ALLREDUCE, chunk, dim, algorithm, 10, 0)
    got = run_1d(micro, ALLREDUCE, splits * chunk, dim, algorithm, splits=splits,
                 active_chunks=active).total_ns
    assert got == (splits // active) * t + 1


@FAST
@given(algorithm=st.sampled_from(["ring", "direct", "halvingDoubling", "doubleBinaryTree"]),
       npus=st.sampled_from([2, 4, 8]), kind=st.sampled_from(KINDS), sizing=sizes_and_splits(),
       active=st.integers(1, 9), endpoint_delay=st.integers(1, 100))
def test_active_chunks_random(micro, algorithm, npus, kind, sizing, active, endpoint_delay):
    """Also with a smaller last chunk and splits not a multiple of k: chunks start in order
    whenever one of the k slots frees."""
    topology = {"ring": "Ring", "direct": "FullyConnected"}.get(algorithm, "Switch")
    if algorithm == "doubleBinaryTree":
        kind = ALLREDUCE
    if algorithm == "halvingDoubling" and kind == ALLTOALL:
        kind = ALLGATHER
    size, splits = sizing
    dim = dim_of(topology, npus)
    expected = expected_total(
        lambda i, c: closed_form_1d(kind, c, dim, algorithm, endpoint_delay, i), size, splits,
        active_chunks=active)
    got = run_1d(micro, kind, size, dim, algorithm, splits=splits, active_chunks=active,
                 endpoint_delay=endpoint_delay).total_ns
    assert got == expected


def test_workload_size_goes_through_float32(micro):
    """1.0 scales the size in float32 even at comm-scale 1: 2^25 + 1 bytes become 2^25, which
    shows in the payload (one double-binary-tree send of C per chunk from NPU 0)."""
    assert workload_size(33554433) == 33554432
    dim = dim_of("Switch", 8)
    result = run_1d(micro, ALLREDUCE, 33554433, dim, "doubleBinaryTree", splits=3)
    assert result.payload_bytes == 33554432
    expected = expected_total(lambda i, c: double_binary_tree_time(c, dim, 10, i), 33554433, 3)
    assert chunk_sizes(33554432, 3) == [11184810] * 3 + [2]
    assert result.total_ns == expected


@pytest.mark.parametrize("comm_scale", [0.5, 1.7, 3.3, 1024.0])
def test_comm_scale(micro, comm_scale):
    """--comm-scale multiplies the size in float32 before chunking (ex2-1 uses 1..1024)."""
    dim = dim_of("Ring", 8)
    size = workload_size(1000003, comm_scale)
    expected = sum(ring_time(ALLREDUCE, c, dim, 10) for c in chunk_sizes(size, 4)) + 1
    result = run_1d(micro, ALLREDUCE, 1000003, dim, "ring", splits=4,
                    options=RunOptions(comm_scale=comm_scale))
    assert result.total_ns == expected
    assert result.payload_bytes == sum(14 * (c // 8) for c in chunk_sizes(size, 4))


# -- smaller last chunk --------------------------------------------------------------------------

def test_last_chunk_has_its_own_time(micro):
    """10 bytes in 4 splits: chunk 2, five chunks of 2 bytes. 11 bytes: six chunks, the last of
    1 byte. On Ring 2 the messages are C/2 = 1 byte, and 0 bytes for the last chunk (a
    latency-only message, d = 500)."""
    dim = dim_of("Ring", 2)
    assert chunk_sizes(10, 4) == [2] * 5
    assert chunk_sizes(11, 4) == [2] * 5 + [1]
    full = ring_time(ALLREDUCE, 2, dim, 10)
    last = ring_time(ALLREDUCE, 1, dim, 10)
    assert run_1d(micro, ALLREDUCE, 10, dim, "ring", splits=4).total_ns == 5 * full + 1
    assert run_1d(micro, ALLREDUCE, 11, dim, "ring", splits=4).total_ns == 5 * full + last + 1


def test_last_chunk_smaller_large_sizes(micro):
    """1 MiB + 1002 bytes in 4 splits on Ring 8: four chunks of 262394 and a fifth of 2."""
    dim = dim_of("Ring", 8)
    size = MIB + 1002
    assert chunk_sizes(size, 4) == [262394] * 4 + [2]
    expected = 4 * ring_time(ALLREDUCE, 262394, dim, 10) + ring_time(ALLREDUCE, 2, dim, 10) + 1
    assert run_1d(micro, ALLREDUCE, size, dim, "ring", splits=4).total_ns == expected


# -- network delay options -----------------------------------------------------------------------

@FAST
@given(topology=TOPOLOGY_DIMS, npus=st.integers(2, 8), nic=st.integers(0, 300),
       router=st.integers(0, 300), latency=LATENCIES, kind=st.sampled_from(KINDS))
def test_nic_and_router_latency(micro, topology, npus, nic, router, latency, kind):
    """d gains 2*nic (every topology) and router once (Switch), each truncated in turn."""
    dim = Dim(topology, npus, links_for(topology, npus), latency, 50, nic, router)
    expected = expected_total(lambda i, c: ring_time(kind, c, dim, 10), MIB, 2)
    got = micro.run(kind, MIB, topology=topology, npus=npus, links=dim.links, latency=latency,
                    bandwidth=50, algorithm="ring", splits=2, nic_latency=nic,
                    router_latency=router).total_ns
    assert got == expected


# -- one* implementations: one ring over all NPUs of a 2-D network ------------------------------

@pytest.mark.parametrize("algorithm,npus_2d", [
    ("oneRing", [2, 4]), ("oneRing", [3, 3]), ("oneDirect", [4, 2]),
    ("oneDirect3", [2, 4]),
    ("oneHalvingDoubling", [2, 4]), ("oneHalvingDoubling", [4, 4])])
@pytest.mark.parametrize("kind", KINDS)
def test_one_star_on_uniform_switches(micro, algorithm, npus_2d, kind):
    """On Switch x Switch with equal latency / bandwidth every pair of NPUs is 2 hops at the
    same bandwidth, so a one* algorithm over all NPUs behaves like the 1-D algorithm on a
    Switch of N0*N1 NPUs."""
    if algorithm == "oneHalvingDoubling" and kind == ALLTOALL:
        pytest.skip("halvingDoubling has no all-to-all")
    n = npus_2d[0] * npus_2d[1]
    flat = dim_of("Switch", n)
    base = algorithm[3].lower() + algorithm[4:]
    window = -1
    if base.startswith("direct") and base != "direct":
        window = int(base[6:])
        base = "direct"
    if base == "direct":
        per_chunk = lambda i, c: direct_time(kind, c, flat, 10, window)  # noqa: E731
    else:
        per_chunk = lambda i, c: closed_form_1d(kind, c, flat, base, 10, i)  # noqa: E731
    expected = expected_total(per_chunk, MIB, 4)
    got = micro.run(kind, MIB, topology=["Switch", "Switch"], npus=npus_2d, links=[1, 1],
                    algorithm=algorithm, splits=4).total_ns
    assert got == expected


# -- 2-D: Ring 4x4, localBWAware vs baseline ----------------------------------------------------

def run_2d(micro, kind, size, dims: tuple[Dim, Dim], *, splits, optimization="baseline",
           endpoint_delay=10, update=1):
    return micro.run(kind, size, topology=[d.topology for d in dims],
                     npus=[d.npus for d in dims], links=[d.links for d in dims],
                     latency=[d.latency for d in dims], bandwidth=[d.bandwidth for d in dims],
                     algorithm="ring_ring", splits=splits, optimization=optimization,
                     endpoint_delay=endpoint_delay, update=update)


RING_4X4_CASES = [
    (MIB, 1, 50, 50), (MIB, 4, 50, 50), (MIB, 4, 50, 12.5), (MIB, 4, 12.5, 50),
    (1000003, 3, 50, 50), (16 * MIB, 8, 50, 12.5), (MIB, 16, 50, 50), (64 * MIB, 4, 100, 25),
]


@pytest.mark.parametrize("size,splits,bw0,bw1", RING_4X4_CASES)
def test_ring_4x4_local_bw_aware(micro, size, splits, bw0, bw1):
    """Per chunk C: RS on dim 0 (messages C/4), AR on dim 1 on C/4 (messages C/16), AG on dim 0
    on C/4. Queue 0 runs every reduce-scatter first (all chunks are queued at t = 0 with one
    priority), then the all-gathers in the order their all-reduces end; queue 1 runs the
    all-reduces as the reduce-scatters release them (closed_forms.local_bw_aware_2d)."""
    dims = (Dim("Ring", 4, 2, 500, bw0), Dim("Ring", 4, 2, 500, bw1))
    expected = local_bw_aware_2d(size, splits, *dims, 10) + 1
    got = run_2d(micro, ALLREDUCE, size, dims, splits=splits, optimization="localBWAware")
    assert got.total_ns == expected
    assert set(got.finish_ns) == {expected}


def test_ring_4x4_local_bw_aware_by_hand(micro):
    """1 MiB in 4 chunks, 50 GB/s everywhere: C = 262144.
    RS dim 0: msgs 65536, d = int(500 + 610.35) = 1110, A = 10 + 3*(1110+10) = 3370.
    AR dim 1 on 65536: msgs 16384, d = int(500 + 152.59) = 652, B = 10 + 6*(652+10) = 3982.
    AG dim 0 on 65536: msgs 65536, G = 10 + 3*(1110+10) = 3370.
    Queue 0: RS at 0..13480. AR_i: ends 7352, 11334, 15316, 19298 (each waits for the previous,
    since B > A). AG_0 starts at 13480 (after the RS), AG_i then at max(AR_i end, AG_{i-1}
    end): 16850, 20220, 23590, 26960 -> total 26961."""
    dims = (dim_of("Ring", 4), dim_of("Ring", 4))
    assert local_bw_aware_2d(MIB, 4, *dims, 10) == 26960
    got = run_2d(micro, ALLREDUCE, MIB, dims, splits=4, optimization="localBWAware")
    assert got.total_ns == 26961


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("size,splits,bw0,bw1", RING_4X4_CASES)
def test_ring_4x4_baseline(micro, kind, size, splits, bw0, bw1):
    """Baseline: the collective on dim 0 then on dim 1 (all-gather: dim 1 then dim 0), each phase
    on the previous output; chunk i enters a dimension's queue when it leaves the previous one
    and that queue is free."""
    dims = (Dim("Ring", 4, 2, 500, bw0), Dim("Ring", 4, 2, 500, bw1))
    expected = baseline_2d(kind, size, splits, *dims, 10) + 1
    assert run_2d(micro, kind, size, dims, splits=splits).total_ns == expected


@pytest.mark.parametrize("kind", [REDUCESCATTER, ALLGATHER, ALLTOALL])
def test_local_bw_aware_only_changes_all_reduce(micro, kind):
    dims = (dim_of("Ring", 4), Dim("Ring", 4, 2, 500, 12.5))
    base = run_2d(micro, kind, MIB, dims, splits=4).total_ns
    assert run_2d(micro, kind, MIB, dims, splits=4, optimization="localBWAware").total_ns == base


@FAST
@given(n0=st.integers(2, 5), n1=st.integers(2, 5),
       topologies=st.tuples(st.sampled_from(["Ring", "Switch"]),
                            st.sampled_from(["Ring", "Switch"])),
       bandwidths=st.tuples(BANDWIDTHS, BANDWIDTHS), latencies=st.tuples(LATENCIES, LATENCIES),
       sizing=sizes_and_splits(max_size=1 << 23), endpoint_delay=st.integers(1, 100),
       kind=st.sampled_from(KINDS))
def test_2d_pipelines_random(micro, n0, n1, topologies, bandwidths, latencies, sizing,
                             endpoint_delay, kind):
    """The same derivations on random 2-D ring/switch networks, baseline and localBWAware."""
    size, splits = sizing
    dims = tuple(Dim(t, n, links_for(t, n), lat, bw)
                 for t, n, lat, bw in zip(topologies, (n0, n1), latencies, bandwidths))
    expected = baseline_2d(kind, size, splits, *dims, endpoint_delay) + 1
    assert run_2d(micro, kind, size, dims, splits=splits,
                  endpoint_delay=endpoint_delay).total_ns == expected
    if kind == ALLREDUCE:
        expected = local_bw_aware_2d(size, splits, *dims, endpoint_delay) + 1
        assert run_2d(micro, kind, size, dims, splits=splits, optimization="localBWAware",
                      endpoint_delay=endpoint_delay).total_ns == expected


@pytest.mark.parametrize("splits", [1, 2, 4, 8])
@pytest.mark.parametrize("bw1", [50, 25, 12.5])
def test_ring_4x4_local_bw_aware_invariants(micro, splits, bw1):
    """Invariants, independent of the derivation: with E = 10 and chunks >= 128 KiB,
    localBWAware is never slower than baseline (dim 1 carries a quarter of the data; dim 0 pays
    one extra E per chunk), and both totals grow with the size (sizes multiples of splits)."""
    dims = (dim_of("Ring", 4), Dim("Ring", 4, 2, 500, bw1))
    previous = {"baseline": 0, "localBWAware": 0}
    for size in (MIB, 2 * MIB, 4 * MIB, 16 * MIB):
        totals = {opt: run_2d(micro, ALLREDUCE, size, dims, splits=splits,
                              optimization=opt).total_ns for opt in previous}
        assert totals["localBWAware"] <= totals["baseline"]
        for opt, total in totals.items():
            assert total > previous[opt]
            previous[opt] = total


# -- endpoint delay x injection scale ------------------------------------------------------------

@pytest.mark.parametrize("endpoint_delay,scale,effective", [(10, 2.0, 20), (15, 0.5, 7),
                                                            (10, 1.5, 15), (7, 3.0, 21)])
def test_injection_scale_scales_endpoint_delay(micro, endpoint_delay, scale, effective):
    """endpoint-delay x --injection-scale, truncated (exact products: no rounding question)."""
    dim = dim_of("Ring", 8)
    expected = expected_total(lambda i, c: ring_time(ALLREDUCE, c, dim, effective), MIB, 4)
    got = run_1d(micro, ALLREDUCE, MIB, dim, "ring", splits=4, endpoint_delay=endpoint_delay,
                 options=RunOptions(injection_scale=scale)).total_ns
    assert got == expected


@pytest.mark.parametrize("endpoint_delay,scale", [(15, 4.2), (15, 8.2)])
def test_injection_scale_in_float32(micro, endpoint_delay, scale):
    effective = int(float32(float32(endpoint_delay) * float32(scale)))
    assert effective != int(endpoint_delay * scale)
    dim = dim_of("Ring", 8)
    expected = expected_total(lambda i, c: ring_time(ALLREDUCE, c, dim, effective), MIB, 4)
    got = run_1d(micro, ALLREDUCE, MIB, dim, "ring", splits=4, endpoint_delay=endpoint_delay,
                 options=RunOptions(injection_scale=scale)).total_ns
    assert got == expected
