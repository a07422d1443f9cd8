"""The grant contract of adapters/base.py on the congestion-aware model: a round stops at the
earliest arrival it decides, because that arrival's handler may inject at its time."""

from __future__ import annotations

import pytest

from adapters.analytical.config_v2 import parse_v2_network
from adapters.analytical.models import AwareV2
from orchestrator.errors import AstraCosimError

# Ring of 8, 1 ns latency, 1 GB/s (= 1.073741824 bytes/ns): a 1000-byte hop takes
# 1 + 1000 / 1.073741824 = 932.32 -> 932 ns; its link is free again after 931.32 -> 931 ns
RING = {"topology": ["Ring"], "npus_count": [8], "bandwidth": [1.0], "latency": [1.0]}
HOP_NS = 932


def _model() -> AwareV2:
    return AwareV2(parse_v2_network(RING, "<test>"))


def test_a_round_stops_at_the_earliest_arrival_it_decides() -> None:
    model = _model()
    model.inject(0, 0, 1, 1000, 0)          # one hop: arrives at 932, decided at once
    model.inject(1, 3, 6, 1000, 0)          # three hops: 3->4->5->6
    arrivals = model.advance(10_000)
    assert arrivals == [(0, HOP_NS)]
    # message 1's second hop starts at 932: not processed yet, so an injection at 932 (the
    # arrival's handler replying at once) is still in the model's future
    assert model.clock.now_ns < HOP_NS
    assert model.next_event_ns() == HOP_NS       # (link 3->4 freed at 931: processed)
    model.inject(2, 1, 0, 1000, HOP_NS)
    arrivals = model.advance(10_000)
    assert (2, 2 * HOP_NS) in arrivals


def test_all_three_hops_come_out_when_nothing_arrives_earlier() -> None:
    model = _model()
    model.inject(1, 3, 6, 1000, 0)
    decided = []
    for _ in range(10):                       # rounds until the last hop is decided
        decided += model.advance(10_000)
        if decided:
            break
    assert decided == [(1, 3 * HOP_NS)]


def test_an_injection_in_the_models_past_is_refused() -> None:
    model = _model()
    model.inject(1, 3, 6, 1000, 0)
    model.advance(2 * HOP_NS)   # hop 2 starts at 932, its link frees at 932 + 931 = 1863
    with pytest.raises(AstraCosimError, match=r"injected at 10 ns, but the network has "
                                              r"already processed 1863 ns"):
        model.inject(2, 0, 1, 64, 10)
