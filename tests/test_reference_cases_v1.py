"""Every ASTRA-sim 1.0 reference case (suites v1-1d, mlsys22-tutorial, v1-workload) through
the CLI contract, asserting exact integer equality with the times 1.0 produced."""

from __future__ import annotations

import json
import os

import pytest

from orchestrator.cli.main import main
from tests.conftest import REFERENCE_CASES

_FLAGS = {"num_passes": "--num-passes", "comm_scale": "--comm-scale",
          "compute_scale": "--compute-scale", "injection_scale": "--injection-scale"}


def _v1_cases() -> list[str]:
    if not os.path.isdir(REFERENCE_CASES):
        return []
    found = []
    for name in sorted(os.listdir(REFERENCE_CASES)):
        path = os.path.join(REFERENCE_CASES, name, "case.json")
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as handle:
                if json.load(handle)["format"] == "v1":
                    found.append(name)
    return found


CASES = _v1_cases()


@pytest.mark.skipif(not CASES, reason=f"shared reference cases not found at {REFERENCE_CASES}")
@pytest.mark.parametrize("case_id", CASES)
def test_v1_case_exact(case_id: str, tmp_path, monkeypatch) -> None:
    case_dir = os.path.join(REFERENCE_CASES, case_id)
    with open(os.path.join(case_dir, "case.json"), encoding="utf-8") as handle:
        case = json.load(handle)
    monkeypatch.chdir(case_dir)
    argv = ["run", "--workload", case["workload"], "--system", case["system"],
            "--network", case["network"], "--network-backend", case["network_backend"],
            "--out", str(tmp_path)]
    for key, value in case["args"].items():
        argv += [_FLAGS[key], str(value)]
    assert main(argv) == 0
    with open(tmp_path / "summary.json", encoding="utf-8") as handle:
        summary = json.load(handle)
    expected = case["expected"]
    assert summary["total_ns"] == expected["total_ns"]
    if "compute_ns" in expected:
        assert summary["compute_ns"] == expected["compute_ns"]
    if "exposed_comm_ns" in expected:
        assert summary["exposed_comm_ns"] == expected["exposed_comm_ns"]
