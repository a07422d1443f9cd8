"""1.0's dimension scheduling on small 2-D cases whose chunk orders are derived by hand.

Inter-dimension (``orchestrator.system.scheduling.dimension_order``): the dimension order and
size of each chunk of one collective. Intra-dimension (``...scheduling.intra``): where a stream
entering a queue is placed among the ones already there. Then the same policies end to end on a
2-D Switch, where a chunk's phase list shows the order it got.
"""

from __future__ import annotations

import pytest

from orchestrator.experiment.model import Experiment, RunOptions
from orchestrator.experiment.runner import simulate
from orchestrator.experiment.system_file import system_from_mapping
from orchestrator.output.instruments import Instruments
from orchestrator.system.algorithms.base import (
    ALL_GATHER, ALL_REDUCE, ALL_TO_ALL, REDUCE_SCATTER, PhaseAlgorithm)
from orchestrator.system.scheduler import QueueSet
from orchestrator.system.scheduling.dimension_order import RoundRobinOrder, ThemisScheduler
from orchestrator.system.scheduling.intra import PolicyQueueSet, queue_set_factory
from orchestrator.system.scheduling.policies import SchedulingAliasWarning
from orchestrator.system.streams import DataSet, Phase, Stream
from orchestrator.system.topology import RingView

MIB = 1 << 20
BOTH = (True, True)


# -- inter-dimension ------------------------------------------------------------------------
def test_round_robin_rotates_per_chunk_and_across_collectives() -> None:
    order = RoundRobinOrder()
    assert [order.next_order(REDUCE_SCATTER, 2) for _ in range(3)] == [[0, 1], [1, 0], [0, 1]]
    # the counter is not reset by a new collective; all-gather starts from the descending order
    assert order.next_order(ALL_GATHER, 2) == [0, 1]
    assert order.next_order(ALL_GATHER, 2) == [1, 0]


def _decisions(themis: ThemisScheduler, total: int, preferred: int, kind: str,
               count: int) -> list[tuple[list[int], int]]:
    out, remaining = [], total
    for chunk in range(count):
        order, size = themis.schedule(chunk, remaining, preferred, BOTH, kind)
        remaining -= size
        out.append((order, size))
    return out


def test_themis_balances_a_slow_second_dimension() -> None:
    """Switch 4x4, dim 1 at half dim 0's bandwidth, 1 MiB chunks of a reduce-scatter. Loads
    are in "MiB at dim-0 speed": a chunk of C MiB adds C*3/4 on dim 0, then (C/4)*3/4 / 0.5 on
    dim 1 (or 3/4*C/0.5 and C/4*3/4 in the other order).
    chunk 0: loads equal -> gap 0 < C/16: ascending; loads (0.75, 0.375)
    chunk 1: dim 1 least loaded, gap 0.375 = 0.25 MiB on dim 1: [1, 0]; (0.9375, 1.875)
    chunk 2: [0, 1] (gap 0.9375); (1.6875, 2.25)   chunk 3: [0, 1]; (2.4375, 2.625)
    chunk 4: [0, 1] (gap 0.1875 = 0.25 MiB on dim 0); (3.1875, 3.0)
    chunk 5: dim 1 lighter by 0.1875 = 0.125 MiB on dim 1 >= C/16: [1, 0]."""
    themis = ThemisScheduler("offlineGreedy", [4, 4], [100.0, 50.0], consumers=1)
    decisions = _decisions(themis, 8 * MIB, MIB, REDUCE_SCATTER, 6)
    assert [order for order, _ in decisions] == [[0, 1], [1, 0], [0, 1], [0, 1], [0, 1], [1, 0]]
    assert {size for _, size in decisions} == {MIB}      # offlineGreedy keeps the chunk size
    assert [load.elapsed for load in sorted(themis.loads, key=lambda l: l.dim)] == [3.375, 4.5]


def test_themis_flex_resizes_a_chunk_to_fill_the_gap() -> None:
    """Switch 4x4, equal bandwidth, 64 KiB preferred chunks (1/16 MiB), reduce-scatter.
    chunk 0: equal loads: ascending, 64 KiB; loads (0.046875, 0.01171875)
    chunk 1: gap 0.03515625 = 48 KiB on dim 1 < 64 KiB: ascending; (0.09375, 0.0234375)
    chunk 2: gap 0.0703125 = 96 KiB >= 64 KiB: a 96 KiB chunk, dim 1 first
    chunk 3: gap 0.017578125 = 24 KiB: ascending, 64 KiB again."""
    themis = ThemisScheduler("offlineGreedyFlex", [4, 4], [100.0, 100.0], consumers=1)
    decisions = _decisions(themis, 4 * MIB, 65536, REDUCE_SCATTER, 4)
    assert decisions == [([0, 1], 65536), ([0, 1], 65536), ([1, 0], 98304), ([0, 1], 65536)]


def test_themis_all_gather_visits_the_most_loaded_dimension_first() -> None:
    """All-gather grows the chunk, so the order is reversed: heaviest first. Equal loads at the
    start: the sorted list [0, 1] reversed is [1, 0], but the gap is 0, so the chunk falls back
    to ascending [0, 1] and loads are charged by position of the reversed list (1.0's
    bookkeeping): position 0 (dim 1's entry) gets dim 0's load C*3, position 1 gets 4C*3."""
    themis = ThemisScheduler("offlineGreedy", [4, 4], [100.0, 100.0], consumers=1)
    order, size = themis.schedule(0, 4 * MIB, MIB, BOTH, ALL_GATHER)
    assert (order, size) == ([0, 1], MIB)
    assert {load.dim: load.elapsed for load in themis.loads} == {1: 3.0, 0: 12.0}
    # next chunk: dim 0 is heaviest -> it goes first
    assert themis.schedule(1, 3 * MIB, MIB, BOTH, ALL_GATHER)[0] == [0, 1]


def test_themis_decision_is_shared_by_chunk_number_and_loads_reset_per_tick() -> None:
    themis = ThemisScheduler("offlineGreedy", [4, 4], [100.0, 50.0], consumers=2)
    first = themis.schedule(0, 2 * MIB, MIB, BOTH, REDUCE_SCATTER)
    loads = [(load.dim, load.elapsed) for load in themis.loads]
    assert themis.schedule(0, 2 * MIB, MIB, BOTH, REDUCE_SCATTER) == first   # second NPU
    assert [(load.dim, load.elapsed) for load in themis.loads] == loads     # not charged twice
    themis.collective_created(0)              # same tick as the last reset: loads kept
    assert themis.loads[0].elapsed == 0.75
    themis.collective_created(7)
    assert [load.elapsed for load in themis.loads] == [0.0, 0.0]


# -- intra-dimension ------------------------------------------------------------------------
RING = RingView(4, 1)


def _stream(number: int, kind: str, size: int, phases_left: int, priority: int = 0,
            running: bool = False) -> Stream:
    dataset = DataSet(0, kind, size, 0)
    phases = [Phase(kind, 0, 0, PhaseAlgorithm, RING, size) for _ in range(phases_left + 1)]
    stream = Stream(number, dataset, priority, phases, phase_index=0, queue=0)
    stream.initialized = running
    return stream


def _queue(policy: str, entries: list[Stream]) -> QueueSet:
    queues = queue_set_factory(policy)(1, 1, lambda stream: None)
    queues.queues[0] = list(entries)
    return queues


def _numbers(queues: QueueSet) -> list[int]:
    return [stream.num for stream in queues.queues[0]]


def test_fifo_keeps_the_default_queue_set() -> None:
    assert queue_set_factory("FIFO") is QueueSet


def test_smallest_first_goes_before_the_first_waiting_chunk_at_least_as_large() -> None:
    queues = _queue("smallestFirst", [_stream(0, REDUCE_SCATTER, 64, 1, running=True),
                                      _stream(1, REDUCE_SCATTER, 16, 1),
                                      _stream(2, REDUCE_SCATTER, 32, 1),
                                      _stream(3, REDUCE_SCATTER, 64, 1)])
    queues.insert(0, _stream(4, REDUCE_SCATTER, 32, 0))
    assert _numbers(queues) == [0, 1, 4, 2, 3]


def test_less_remaining_phase_first_orders_by_phases_left() -> None:
    queues = _queue("lessRemainingPhaseFirst", [_stream(0, ALL_GATHER, 8, 0, running=True),
                                                _stream(1, ALL_GATHER, 8, 0),
                                                _stream(2, ALL_GATHER, 8, 2)])
    queues.insert(0, _stream(3, REDUCE_SCATTER, 8, 1))
    assert _numbers(queues) == [0, 1, 3, 2]


def test_all_reduce_and_all_to_all_phases_are_placed_fifo_under_any_policy() -> None:
    for kind in (ALL_REDUCE, ALL_TO_ALL):
        queues = _queue("smallestFirst", [_stream(0, kind, 64, 0, priority=5),
                                          _stream(1, kind, 64, 0, priority=1)])
        queues.insert(0, _stream(2, kind, 8, 0, priority=3))
        assert _numbers(queues) == [0, 2, 1]            # by priority, not by size


def test_rg_passes_reduce_scatter_all_gather_pairs() -> None:
    """RG: the waiting stream right behind a running one is passed untested; then a stream is
    passed while it has higher priority or the last two passed form an RS/AG pair."""
    queues = _queue("RG", [_stream(0, REDUCE_SCATTER, 8, 1, priority=0, running=True),
                           _stream(1, ALL_GATHER, 8, 0, priority=0),
                           _stream(2, REDUCE_SCATTER, 8, 1, priority=0),
                           _stream(3, REDUCE_SCATTER, 8, 1, priority=0)])
    # 1 is passed behind the running 0; at 2 the last two (2: RS, 1: AG) pair up: passed;
    # at 3 the last two are RS, RS: insert before 3
    queues.insert(0, _stream(4, REDUCE_SCATTER, 8, 1, priority=0))
    assert _numbers(queues) == [0, 1, 2, 4, 3]
    queues = _queue("RG", [_stream(0, REDUCE_SCATTER, 8, 1, priority=9),
                           _stream(1, REDUCE_SCATTER, 8, 1, priority=2)])
    queues.insert(0, _stream(2, ALL_GATHER, 8, 0, priority=2))   # equal priority: not passed
    assert _numbers(queues) == [0, 2, 1]
    assert isinstance(queues, PolicyQueueSet)


# -- system keys ----------------------------------------------------------------------------
SYSTEM = {"scheduling-policy": "FIFO", "collective-optimization": "baseline",
          "all-reduce-implementation": "halvingDoubling_halvingDoubling",
          "all-gather-implementation": "halvingDoubling_halvingDoubling",
          "reduce-scatter-implementation": "halvingDoubling_halvingDoubling",
          "all-to-all-implementation": "direct_direct", "preferred-dataset-splits": "4",
          "boost-mode": "0"}


@pytest.mark.parametrize("alias, key, name", [
    ("baseline", "inter-dimension-scheduling", "ascending"),
    ("themis", "inter-dimension-scheduling", "offlineGreedy"),
    ("themisFlex", "inter-dimension-scheduling", "offlineGreedyFlex"),
    ("SCF", "intra-dimension-scheduling", "smallestFirst")])
def test_asplos23_aliases_are_mapped_with_a_note(alias: str, key: str, name: str) -> None:
    with pytest.warns(SchedulingAliasWarning, match=f"'{alias}' is the ASPLOS'23 alias of "
                                                   f"'{name}'"):
        config = system_from_mapping({**SYSTEM, key: alias}, "sys.yaml")
    assert getattr(config, key.replace("-", "_")) == name


def test_unknown_policy_names_the_key() -> None:
    from orchestrator.errors import InputError
    with pytest.raises(InputError, match="inter-dimension-scheduling: found 'greedy'; "
                                         "expected one of"):
        system_from_mapping({**SYSTEM, "inter-dimension-scheduling": "greedy"}, "sys.yaml")


# -- end to end on a 2-D Switch 4x4 ---------------------------------------------------------
def _run(tmp_path, inter: str, intra: str = "FIFO", kind: str = "REDUCESCATTER",
         boost: int = 0, bandwidth=(100, 50)) -> tuple[int, list[tuple[list[int], int]]]:
    """A 4 MiB collective in 4 chunks of 1 MiB on Switch 4x4; the total time and NPU 0's
    chunks as (dimension order, first-phase bytes), sorted."""
    workload = tmp_path / "w.txt"
    workload.write_text(f"MICRO\n1\nl -1 1 NONE 0 1 NONE 0 1 {kind} 4194304 1\n")
    system = {**SYSTEM, "inter-dimension-scheduling": inter,
              "intra-dimension-scheduling": intra, "boost-mode": str(boost)}
    network = {"topologies-per-dim": ["Switch", "Switch"], "units-count": [4, 4],
               "links-count": [1, 1], "link-latency": [10, 10],
               "link-bandwidth": list(bandwidth)}
    instruments = Instruments()
    result = simulate(Experiment("t", str(workload), system, network, options=RunOptions()),
                      instruments)
    (record,) = [r for r in instruments.recorder.collectives if r.npu == 0]
    chunks = sorted(([phase.dim for phase in phases], phases[0].size_bytes)
                    for phases in record.chunks)
    return result.total_ns, chunks


def test_ascending_sends_every_chunk_through_dim_0_first(tmp_path) -> None:
    assert _run(tmp_path, "ascending")[1] == [([0, 1], MIB)] * 4
    assert _run(tmp_path, "ascending", kind="ALLGATHER")[1] == [([1, 0], MIB)] * 4


def test_round_robin_alternates_the_chunks_of_a_2d_collective(tmp_path) -> None:
    # chunk orders [0,1], [1,0], [0,1], [1,0]; all-gather starts from [1,0]
    assert _run(tmp_path, "roundRobin")[1] == [([0, 1], MIB)] * 2 + [([1, 0], MIB)] * 2
    assert _run(tmp_path, "roundRobin", kind="ALLGATHER")[1] == \
        [([0, 1], MIB)] * 2 + [([1, 0], MIB)] * 2


def test_themis_orders_the_chunks_as_derived_by_hand(tmp_path) -> None:
    # the first four decisions of test_themis_balances_a_slow_second_dimension
    time_ns, chunks = _run(tmp_path, "offlineGreedy")
    assert chunks == [([0, 1], MIB)] * 3 + [([1, 0], MIB)]
    # boost mode changes which NPUs do the work, not the time of this run
    assert _run(tmp_path, "offlineGreedy", boost=1)[0] == time_ns


def test_themis_keeps_all_to_all_in_ascending_order(tmp_path) -> None:
    assert _run(tmp_path, "offlineGreedy", kind="ALLTOALL")[1] == [([0, 1], MIB)] * 4


def test_themis_splits_a_local_bw_aware_all_reduce_into_reduce_scatter_and_all_gather(
        tmp_path) -> None:
    system = {**SYSTEM, "collective-optimization": "localBWAware"}
    workload = tmp_path / "w.txt"
    workload.write_text("MICRO\n1\nl -1 1 NONE 0 1 NONE 0 1 ALLREDUCE 4194304 1\n")
    network = {"topologies-per-dim": ["Switch", "Switch"], "units-count": [4, 4],
               "links-count": [1, 1], "link-latency": [10, 10], "link-bandwidth": [100, 50]}
    kinds = {}
    for inter in ("ascending", "offlineGreedy"):
        instruments = Instruments()
        simulate(Experiment("t", str(workload), {**system, "inter-dimension-scheduling": inter},
                            network), instruments)
        record = [r for r in instruments.recorder.collectives if r.npu == 0][0]
        kinds[inter] = sorted([(phase.kind, phase.dim) for phase in phases]
                              for phases in record.chunks)[0]
    assert kinds["ascending"] == [(REDUCE_SCATTER, 0), (ALL_REDUCE, 1), (ALL_GATHER, 0)]
    assert kinds["offlineGreedy"] == [(REDUCE_SCATTER, 0), (REDUCE_SCATTER, 1),
                                      (ALL_GATHER, 1), (ALL_GATHER, 0)]


# -- --num-queues-per-dim (1.0) -------------------------------------------------------------
def test_queue_levels_hand_out_a_dimensions_queues_in_turn() -> None:
    from orchestrator.system.scheduling.queue_levels import QueueLevels, chunks_per_queue
    levels = QueueLevels(2, 2)
    phases = [Phase(REDUCE_SCATTER, dim, dim, PhaseAlgorithm, RING, 8) for dim in (0, 1, 0, 0)]
    levels.assign(phases)
    # dim 0 owns queues 0, 1 and dim 1 queues 2, 3; the second half runs anticlockwise
    assert [(phase.queue, phase.direction) for phase in phases] == [(0, 1), (2, 1), (1, -1),
                                                                    (0, 1)]
    assert [chunks_per_queue(active, 2) for active in (1, 2, 3)] == [1, 1, 2]


def _ring_all_reduce(tmp_path, queues: int, active: int) -> int:
    workload = tmp_path / "w.txt"
    workload.write_text("MICRO\n1\nl -1 1 NONE 0 1 NONE 0 1 ALLREDUCE 1048576 1\n")
    system = {**SYSTEM, "all-reduce-implementation": "ring", "all-gather-implementation": "ring",
              "reduce-scatter-implementation": "ring", "all-to-all-implementation": "direct",
              "active-chunks-per-dimension": str(active)}
    network = {"topologies-per-dim": ["Ring"], "units-count": [8], "links-count": [2],
               "link-latency": [500], "link-bandwidth": [50]}
    return simulate(Experiment("q", str(workload), system, network,
                               options=RunOptions(num_queues_per_dim=queues))).total_ns


def test_two_queues_of_one_chunk_run_like_one_queue_of_two(tmp_path) -> None:
    """Ring 8, 4 chunks: with 2 queues and active-chunks 1 each queue runs ceil(1/2) = 1 chunk,
    so two run at once, one each way round the ring; the analytical ring is symmetric, so this
    takes exactly as long as one queue running two chunks clockwise (and half of one chunk at a
    time)."""
    one = _ring_all_reduce(tmp_path, 1, 1)
    assert _ring_all_reduce(tmp_path, 2, 1) == _ring_all_reduce(tmp_path, 1, 2) < one
    assert _ring_all_reduce(tmp_path, 4, 1) < _ring_all_reduce(tmp_path, 2, 1)


def test_num_queues_per_dim_is_refused_for_2x_inputs(tmp_path) -> None:
    from orchestrator.errors import InputError
    from orchestrator.experiment.run_v2 import simulate_v2
    experiment = Experiment("q", "et/none", {}, {}, options=RunOptions(num_queues_per_dim=2))
    with pytest.raises(InputError, match="--num-queues-per-dim 2: .* 1.0 inputs only"):
        simulate_v2(experiment)


def test_removing_a_stream_removes_that_stream_not_an_equal_looking_one() -> None:
    """Streams and collectives are identities: two chunks with the same fields are still two
    chunks, and leaving a queue takes out the one that left."""
    twin_a, twin_b = _stream(3, "ALLREDUCE", 64, 1), _stream(3, "ALLREDUCE", 64, 1)
    twin_a.dataset = twin_b.dataset
    assert twin_a != twin_b and twin_a.dataset == twin_b.dataset
    queues = _queue("FIFO", [twin_a, twin_b])
    queues.remove(0, twin_b)
    assert queues.queues[0] == [twin_a] and queues.queues[0][0] is twin_a
    assert DataSet(1, "ALLREDUCE", 64, 0) != DataSet(1, "ALLREDUCE", 64, 0)
