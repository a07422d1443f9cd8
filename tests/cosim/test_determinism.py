"""Process placement is deterministic: five runs of one GPT-3 tutorial case, identical results.

``mlsys22_ex3-2_DGX2-GPT3`` (256 NPUs, 1280 rounds, 327 680 messages) is the faster of the two
GPT-3 cases of MLSys'22 exercise 3 (the TPU-like one has 3.75x the rounds and messages); each
run spawns its own adapter process on a fresh loopback port. Wall-clock metrics (wait time,
endpoint) differ between runs; everything simulated, and the round and message counts, must
not. This test is part of the default run (about 40 s on two cores): it is not skipped unless
the shared reference cases are absent.
"""

from __future__ import annotations

import os

import pytest

from tests.conftest import REFERENCE_CASES
from tests.cosim.test_placement_equality import _load_case, run_case, simulated

CASE = "mlsys22_ex3-2_DGX2-GPT3"
RUNS = 5


@pytest.mark.skipif(not os.path.isfile(os.path.join(REFERENCE_CASES, CASE, "case.json")),
                    reason=f"shared reference case {CASE} not found under {REFERENCE_CASES} "
                           "(CI provides ../shared next to the checkout)")
def test_process_placement_repeats_exactly(tmp_path, monkeypatch, capsys) -> None:
    summaries = [run_case(CASE, tmp_path / f"run{index}", "process", monkeypatch, capsys)
                 for index in range(RUNS)]
    first = summaries[0]
    assert first["total_ns"] == _load_case(CASE)["expected"]["total_ns"]
    for index, summary in enumerate(summaries[1:], start=1):
        assert simulated(summary) == simulated(first), f"run {index} differs from run 0"
        for key in ("rounds", "messages", "bytes_sent"):
            assert summary["cosim"]["network"][key] == first["cosim"]["network"][key], \
                f"run {index}: cosim.network.{key} differs from run 0"
    for summary in summaries:          # every run went through its own adapter process
        assert summary["cosim"]["network"]["endpoint"].startswith("tcp://127.0.0.1:")
