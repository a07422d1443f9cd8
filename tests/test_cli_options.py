"""Command-line scalings behave as in ASTRA-sim 1.0 (SEMANTICS §3.1, §4.1)."""

from __future__ import annotations

import json
import os

import pytest

from orchestrator.cli.main import main

TUTORIAL = os.path.join(os.path.dirname(__file__), "..", "experiments", "tutorial")
INPUTS = os.path.join(TUTORIAL, "inputs")


def _total(tmp_path, system: str, *extra: str) -> int:
    out = tmp_path / "out"
    argv = ["run", "--workload", os.path.join(INPUTS, "allreduce_1MiB.txt"), "--system", system,
            "--network", os.path.join(INPUTS, "ring8.json"), "--out", str(out), "--quiet",
            *extra]
    assert main(argv) == 0
    return json.loads((out / "summary.json").read_text())["total_ns"]


def _ring_all_reduce_ns(endpoint_delay: int, link_delay: int = 805) -> int:
    """4 chunks of E + 14 (d + E), plus the update delay of 1 (SEMANTICS §4.5)."""
    return 4 * (endpoint_delay + 14 * (link_delay + endpoint_delay)) + 1


@pytest.mark.parametrize("scale, delay", [(1.0, 10), (2.0, 20), (0.55, 5), (3.7, 37)])
def test_injection_scale_multiplies_a_given_endpoint_delay(tmp_path, scale, delay) -> None:
    system = os.path.join(INPUTS, "sys_ring.txt")
    assert _total(tmp_path, system, "--injection-scale", str(scale)) == _ring_all_reduce_ns(delay)


def test_injection_scale_leaves_the_default_endpoint_delay(tmp_path) -> None:
    """1.0 applies --injection-scale only when the system file sets endpoint-delay."""
    with open(os.path.join(INPUTS, "sys_ring.txt"), encoding="utf-8") as handle:
        lines = [line for line in handle if not line.startswith("endpoint-delay")]
    system = tmp_path / "sys.txt"
    system.write_text("".join(lines))
    assert _total(tmp_path, str(system), "--injection-scale", "3") == _ring_all_reduce_ns(10)


def test_comm_scale_is_applied_in_float32(tmp_path) -> None:
    """1 MiB x 1.1 in single precision is 1153433 bytes (double would give 1153433.6 -> same
    integer), split into 4 chunks of 288358 bytes and a last one of 1 byte."""
    total = _total(tmp_path, os.path.join(INPUTS, "sys_ring.txt"), "--comm-scale", "1.1")
    # chunk 288358 -> messages of 36044 B: d = int(500 + 36044 / 107.3741824) = 835
    full_chunk = 10 + 14 * (835 + 10)
    # the 1-byte chunk: messages of 0 B, d = 500
    last_chunk = 10 + 14 * (500 + 10)
    assert total == 4 * full_chunk + last_chunk + 1
