"""Every shared reference case (ASTRA-sim 1.0 and 2.x suites alike) through the CLI contract,
from the case folder, asserting exact integer equality with the reference's numbers.

Per case.json (see ../shared/reference/README.md): ``total_ns`` always; ``min(finish_ns)``
where ``expected.min_finish_ns`` is given (2.x cases); NPU 0's ``compute_ns`` and
``exposed_comm_ns`` where given. The cases are read from ``../shared`` next to the checkout
and never copied into the project; without them every test here is skipped with the reason.
"""

from __future__ import annotations

import json
import os

import pytest

from orchestrator.cli.main import main
from tests.conftest import REFERENCE_CASES

# case.json ``args`` key -> CLI flag (README "Running a case")
_FLAGS = {"num_passes": "--num-passes", "comm_scale": "--comm-scale",
          "compute_scale": "--compute-scale", "injection_scale": "--injection-scale",
          "comm_group": "--comm-group"}


def _cases() -> list[str]:
    if not os.path.isdir(REFERENCE_CASES):
        return []
    return sorted(name for name in os.listdir(REFERENCE_CASES)
                  if os.path.isfile(os.path.join(REFERENCE_CASES, name, "case.json")))


CASES = _cases()
_MISSING = f"shared reference cases not found at {REFERENCE_CASES} " \
           "(CI provides ../shared next to the checkout)"


def _argv(case: dict, out_dir: str) -> list[str]:
    argv = ["run", "--workload", case["workload"], "--system", case["system"],
            "--network", case["network"], "--network-backend", case["network_backend"],
            "--out", out_dir, "--quiet"]
    for key, value in case["args"].items():
        argv += [_FLAGS[key], str(value)]
    return argv


@pytest.mark.skipif(not CASES, reason=_MISSING)
def test_every_case_folder_is_complete() -> None:
    """Guards the parametrisation below: every case names its format, backend and total."""
    for case_id in CASES:
        with open(os.path.join(REFERENCE_CASES, case_id, "case.json"), encoding="utf-8") as fh:
            case = json.load(fh)
        assert case["id"] == case_id
        assert case["format"] in ("v1", "v2"), case_id
        assert case["network_backend"] in ("analytical", "analytical-aware"), case_id
        assert set(case["args"]) <= set(_FLAGS), (case_id, case["args"])
        assert isinstance(case["expected"]["total_ns"], int), case_id


@pytest.mark.skipif(not CASES, reason=_MISSING)
@pytest.mark.parametrize("symmetry", ["auto", "off"])
@pytest.mark.parametrize("case_id", CASES)
def test_case_exact(case_id: str, symmetry: str, tmp_path, monkeypatch, capsys) -> None:
    """Each case with the symmetry reduction (the default) and with every NPU simulated."""
    case_dir = os.path.join(REFERENCE_CASES, case_id)
    with open(os.path.join(case_dir, "case.json"), encoding="utf-8") as handle:
        case = json.load(handle)
    monkeypatch.chdir(case_dir)
    code = main(_argv(case, str(tmp_path)) + ["--symmetry", symmetry])
    assert code == 0, f"{case_id}: CLI exited {code}: {capsys.readouterr().err.strip()}"
    with open(tmp_path / "summary.json", encoding="utf-8") as handle:
        summary = json.load(handle)
    expected = case["expected"]
    assert summary["total_ns"] == expected["total_ns"]
    if "min_finish_ns" in expected:
        assert min(summary["finish_ns"]) == expected["min_finish_ns"]
    if case["format"] == "v2":
        # 2.x total = the latest NPU; one finish time per NPU (= per trace file)
        assert summary["total_ns"] == max(summary["finish_ns"])
    if "compute_ns" in expected:
        assert summary["compute_ns"] == expected["compute_ns"]
    if "exposed_comm_ns" in expected:
        assert summary["exposed_comm_ns"] == expected["exposed_comm_ns"]
    assert summary["symmetry"]["npus_simulated"] == \
        (1 if summary["symmetry"]["reduced"] else len(summary["finish_ns"]))
    if symmetry == "off":
        assert summary["symmetry"]["reduced"] is False
