"""Pipeline schedules run through the engine: the 1F1B bubble, interleaving, extrapolation."""

from __future__ import annotations

import pytest

from orchestrator.platforms.gpu import load_platform
from orchestrator.predict.predict import Predictor
from orchestrator.predict.runs import run_nodes
from orchestrator.workload.generate.llm.model import load_llm
from orchestrator.workload.generate.llm.ops import Op
from orchestrator.workload.generate.llm.parallel import ParallelConfig
from orchestrator.workload.generate.llm.schedule import schedule
from orchestrator.workload.generate.llm.trace import RankTrace, pipeline_rank

FWD_NS, BWD_NS = 1_000_000, 2_000_000


def uniform_pipeline(p: int, m: int, v: int, backend: str) -> list[int]:
    """p ranks, every block (chunk of a stage) the same time, 1-byte activations on a fast
    switch: a contention-free network whose transfers are ~ns against ms of compute."""
    per_rank = []
    for stage in range(p):
        trace = RankTrace()

        def blocks(kind: str, mb: int, chunk: int) -> list[Op]:
            return [Op(f"{kind}{mb}.{chunk}", ns=(FWD_NS if kind == "F" else BWD_NS) // v)]
        pipeline_rank(trace, stage, p, m, v, blocks, 1, lambda s: s)
        per_rank.append(trace.nodes)
    network = {"topology": ["Switch"], "npus_count": [p], "bandwidth": [1000.0],
               "latency": [1.0]}
    return list(run_nodes(per_rank, network, backend, 2000.0).finish_ns)


@pytest.mark.parametrize("backend", ["analytical", "analytical-aware"])
@pytest.mark.parametrize("p,m", [(4, 8), (8, 8), (4, 1), (2, 16)])
def test_1f1b_bubble_fraction(p: int, m: int, backend: str) -> None:
    total = max(uniform_pipeline(p, m, 1, backend))
    busy = m * (FWD_NS + BWD_NS)
    bubble = (total - busy) / total
    assert bubble == pytest.approx((p - 1) / (m + p - 1), abs=2e-5)


def test_interleaving_shrinks_the_bubble_by_the_chunk_count() -> None:
    p, m, v = 4, 8, 2
    total = max(uniform_pipeline(p, m, v, "analytical"))
    busy = m * (FWD_NS + BWD_NS)
    # Narayanan et al. SC'21 §2.2.2: bubble time (p - 1) x (tf + tb) / v
    assert total - busy == pytest.approx((p - 1) * (FWD_NS + BWD_NS) / v, rel=1e-4)


def test_every_rank_runs_each_block_once() -> None:
    for rank in range(4):
        steps = schedule(rank, 8, 4, 2)
        assert sorted(steps) == sorted((k, mb, c) for k in "FB" for mb in range(8)
                                       for c in range(2))


@pytest.mark.parametrize("model,pp,v,m", [("megatron-gpt-39.1b", 4, 1, 40),
                                          ("megatron-gpt-39.1b", 4, 1, 37),
                                          ("megatron-gpt-39.1b", 4, 2, 40),
                                          ("megatron-gpt-39.1b", 4, 3, 28),
                                          ("llama3-8b", 8, 1, 40),
                                          ("llama3-8b", 2, 2, 12)])
def test_extrapolated_pipeline_equals_the_full_simulation(model, pp, v, m) -> None:
    """First and last stages are heavier (embedding, head), sends block: the steady state
    is still periodic, and extrapolating it equals simulating every micro-batch."""
    par = ParallelConfig(tp=8, pp=pp, dp=1, micro_batch=1, global_batch=m, seq=2048,
                         virtual_stages=v, recompute="full")
    predictor = Predictor(load_llm(model), load_platform("dgx-a100"), par)
    blocks = predictor.block_costs()
    assert predictor.pipeline(blocks) == predictor.simulate_pipeline(blocks, m)[0]


def test_uneven_layers_leave_the_end_stages_lighter() -> None:
    from orchestrator.workload.generate.llm.parallel import stage_layers
    counts = [len(stage_layers(126, 16, s)) for s in range(16)]
    assert counts == [7] + [8] * 14 + [7]
    assert [len(stage_layers(61, 4, s)) for s in range(4)] == [15, 16, 15, 15]
    assert [len(stage_layers(7, 4, s)) for s in range(4)] == [2, 2, 2, 1]
    assert list(stage_layers(8, 4, 3)) == [6, 7]


def test_blocking_sends_cost_time_that_overlapped_ones_hide() -> None:
    """A rank that waits for its sends stalls where one that overlaps them computes on."""
    def finish(blocking: bool) -> int:
        per_rank = []
        for stage in range(2):
            trace = RankTrace()
            pipeline_rank(trace, stage, 2, 4, 1,
                          lambda kind, mb, chunk: [Op(f"{kind}{mb}", ns=FWD_NS)],
                          50_000_000, lambda s: s, blocking_sends=blocking)
            per_rank.append(trace.nodes)
        network = {"topology": ["Switch"], "npus_count": [2], "bandwidth": [50.0],
                   "latency": [0.0]}
        return max(run_nodes(per_rank, network, "analytical", 2000.0).finish_ns)
    transfer = 50_000_000 / (50 * 2**30 / 1e9)      # ns: 50 MB at 50 GiB/s
    assert finish(True) - finish(False) >= 0.99 * transfer
