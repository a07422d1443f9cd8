"""Statistics against hand-computed values: the closed forms of SEMANTICS §4.5 as written
independently in tests/system/closed_forms.py, on one-collective MICRO runs."""

from __future__ import annotations

import csv
import os

import pytest

from orchestrator.experiment.runner import simulate
from orchestrator.output.instruments import Instruments
from orchestrator.output.statistics import (
    BINS, bus_factor, busy_intervals, collectives_of, utilisation_bins, write_statistics)
from tests.system.closed_forms import ALLGATHER, ALLREDUCE, Dim, ring_time
from tests.system.runs import MicroRunner

MIB = 1 << 20
E = 10                     # endpoint delay of MicroRunner's system
RING8 = Dim("Ring", 8, 2, 500, 50)


@pytest.fixture(scope="module")
def micro(tmp_path_factory) -> MicroRunner:
    return MicroRunner(str(tmp_path_factory.mktemp("micro")))


def _run(micro: MicroRunner, kind: str, size: int, **kwargs):
    instruments = Instruments()
    result = simulate(micro.experiment(kind, size, **kwargs), instruments)
    return result, instruments.recorder


def _csv(path: str) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_ring_all_reduce_phases_follow_the_closed_form(micro, tmp_path):
    """8-NPU ring all-reduce of 1 MiB in 4 chunks, active-chunks 1: chunk k queues from the
    issue at t = 0 until k·T and is active for T = E + 2(N-1)(d(C/N) + E) + (N-1)R(C/N)."""
    chunk = MIB // 4
    t_chunk = ring_time(ALLREDUCE, chunk, RING8, E)
    result, recorder = _run(micro, "ALLREDUCE", MIB, topology="Ring", npus=8, links=2,
                            algorithm="ring", splits=4)
    (row,) = collectives_of(recorder)
    record = row.record
    assert (record.kind, record.size_bytes, record.participants) == ("ALLREDUCE", MIB, 8)
    assert record.start_ns == 0 and record.end_ns == 4 * t_chunk
    phases = [phase for chunk_phases in record.chunks for phase in chunk_phases]
    assert [(p.queued_ns, p.start_ns, p.end_ns) for p in phases] == \
        [(0, k * t_chunk, (k + 1) * t_chunk) for k in range(4)]
    assert {(p.kind, p.dim, p.algorithm, p.size_bytes) for p in phases} == \
        {("ALLREDUCE", 0, "ring", chunk)}
    # nccl-tests: algbw = S / t (bytes per ns = GB/s), busbw = algbw * 2(n-1)/n
    assert row.algbw_gb_per_s == pytest.approx(MIB / (4 * t_chunk))
    assert row.busbw_gb_per_s == pytest.approx(MIB / (4 * t_chunk) * 14 / 8)

    write_statistics(result, recorder, str(tmp_path))
    (wg,) = [r for r in _csv(os.path.join(tmp_path, "layers.csv")) if r["phase"] == "wg"]
    assert int(wg["queued_ns_dim0"]) == (0 + 1 + 2 + 3) * t_chunk
    assert int(wg["active_ns_dim0"]) == 4 * t_chunk
    assert int(wg["chunk_phases_dim0"]) == 4
    assert int(wg["collectives"]) == 1
    # the update delay (1 cycle in MicroRunner) is part of total communication, as in 1.0
    assert int(wg["total_comm_ns"]) == 4 * t_chunk + 1
    (written,) = _csv(os.path.join(tmp_path, "collectives.csv"))
    assert int(written["duration_ns"]) == 4 * t_chunk
    assert float(written["busbw_GBps"]) == pytest.approx(MIB / (4 * t_chunk) * 14 / 8, rel=1e-6)
    bins = _csv(os.path.join(tmp_path, "dimension_utilisation.csv"))
    assert len(bins) == BINS
    # active from 0 to 4T; the run ends at 4T + 1 (update delay), so only the last bin dips
    assert all(float(b["dim0"]) == 1.0 for b in bins[:-1])
    last = bins[-1]
    width = int(last["end_ns"]) - int(last["start_ns"])
    assert float(last["dim0"]) == pytest.approx((width - 1) / width, abs=1e-4)


def test_ring_all_gather_bus_bandwidth_counts_the_gathered_output(micro):
    """All-gather: nccl-tests sizes it by the gathered output (n x the per-NPU input)."""
    chunk = MIB // 4
    t_chunk = ring_time(ALLGATHER, chunk, RING8, E)
    _result, recorder = _run(micro, "ALLGATHER", MIB, topology="Ring", npus=8, links=2,
                             algorithm="ring", splits=4)
    (row,) = collectives_of(recorder)
    assert row.duration_ns == 4 * t_chunk
    assert row.algbw_gb_per_s == pytest.approx(8 * MIB / (4 * t_chunk))
    assert row.busbw_gb_per_s == pytest.approx(8 * MIB / (4 * t_chunk) * 7 / 8)


def test_two_dimensions_report_a_phase_per_dimension(micro):
    """Ring 4 x Ring 2, baseline all-reduce: each chunk runs dim 0 then dim 1, and the
    collective spans 4 x 2 = 8 NPUs."""
    dims = (Dim("Ring", 4, 2, 500, 50), Dim("Ring", 2, 2, 500, 50))
    _result, recorder = _run(micro, "ALLREDUCE", MIB, topology=["Ring", "Ring"], npus=[4, 2],
                             links=2, algorithm="ring_ring", splits=1)
    (row,) = collectives_of(recorder)
    assert row.record.participants == 8
    assert row.record.algorithms == "ring@dim0/ring@dim1"
    (phases,) = row.record.chunks
    first = ring_time(ALLREDUCE, MIB, dims[0], E)
    second = ring_time(ALLREDUCE, MIB, dims[1], E)
    assert [(p.dim, p.start_ns, p.end_ns) for p in phases] == \
        [(0, 0, first), (1, first, first + second)]
    assert busy_intervals(recorder, 1) == [(first, first + second)]


def test_bus_factors_are_the_nccl_tests_ones():
    assert bus_factor("ALLREDUCE", 8) == 14 / 8
    assert bus_factor("REDUCESCATTER", 8) == bus_factor("ALLGATHER", 8) == 7 / 8
    assert bus_factor("ALLTOALL", 4) == 3 / 4
    assert bus_factor("ALLREDUCE", 1) == 0.0


def test_utilisation_bins_cover_partial_slices():
    assert utilisation_bins([(0, 5), (15, 20)], 20, bins=4) == [1.0, 0.0, 0.0, 1.0]
    assert utilisation_bins([(2, 7)], 20, bins=4) == [0.6, 0.4, 0.0, 0.0]


REFERENCE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "reference",
                         "cases", "v2-1d_aware_Ring8_ring_reduce_scatter_65536")


@pytest.mark.skipif(not os.path.isdir(REFERENCE),
                    reason="the shared reference cases (../shared/reference) are not here")
@pytest.mark.parametrize("placement", ["inprocess", "process"])
def test_congestion_aware_links_carry_the_ring_messages(tmp_path, placement):
    """2.x congestion-aware Ring 8, reduce-scatter of 64 KiB in 4 chunks: each NPU sends
    N-1 = 7 messages of C/N = 2 KiB per chunk to its neighbour, so every one of the 8
    clockwise links carries 4 x 7 x 2048 bytes; utilisation = bytes / (50 GB/s x total)."""
    from orchestrator.cosim.placement import AdapterPlacement
    from orchestrator.experiment.model import Experiment

    experiment = Experiment(
        name="rs", workload=os.path.join(REFERENCE, "et", "reduce_scatter"),
        system=os.path.join(REFERENCE, "sys_ring_a2a-ring_s4_a1_e10_m1600_localBWAware_LIFO.json"),
        network=os.path.join(REFERENCE, "net_Ring8_bw50_lat500.yml"),
        network_backend="analytical-aware", placement=AdapterPlacement(placement))
    instruments = Instruments()
    result = simulate(experiment, instruments)
    links = instruments.recorder.links
    assert links == {f"dim0[0]:{a}->{(a + 1) % 8}": 4 * 7 * 2048 for a in range(8)}
    write_statistics(result, instruments.recorder, str(tmp_path))
    rows = _csv(os.path.join(tmp_path, "links.csv"))
    expected = 4 * 7 * 2048 / (50 * (1 << 30) / 1e9 * result.total_ns)
    assert {float(row["utilisation"]) for row in rows} == {round(expected, 4)}
