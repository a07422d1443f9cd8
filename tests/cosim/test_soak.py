"""Soak, CI size: one served adapter answers 20 back-to-back runs from two alternating engine
processes, every total right and the server's memory flat (benchmarks/adapter_soak.py; its
1,000-run figure is in benchmarks/results.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("zmq")

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def test_twenty_alternating_runs_on_one_served_adapter() -> None:
    done = subprocess.run([sys.executable, os.path.join(REPO, "benchmarks", "adapter_soak.py"),
                           "--runs", "20", "--warmup", "4", "--no-write", "--json"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    result = json.loads(done.stdout)
    assert result["wrong"] == [] and result["server_alive"], result
    assert result["runs"] == 20 and result["warm_rss_kib"] > 0
    assert result["growth"] <= 0.05, result
    assert done.returncode == 0, done.stderr
