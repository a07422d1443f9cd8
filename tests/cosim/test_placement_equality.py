"""Placement changes how the bytes travel, never what is simulated (docs/cosim.md).

Each selected reference case runs twice through the CLI contract from its case folder: with the
network adapter in-process (the default) and with ``--placement process`` (the engine spawns
``astra-cosim adapter serve network`` and speaks protos/cosim.proto to it over loopback
ZeroMQ). Every simulated field of summary.json must be identical — every key except
``"cosim"`` — and so must the deterministic part of ``cosim.network``: the number of rounds,
messages and bytes the NPUs sent. Endpoint, protocol bytes and wait time legitimately differ.

The selection spans every suite (MLSys'22 tutorial, v1-1d, v1-workload, v2-1d aware and
unaware, v2-multidim, v2-sysparam, v2-workload) and both handler semantics; it holds one heavy
case (``mlsys22_ex3-1_DGX2-VGG16``, 256 NPUs) and otherwise keeps to cases that run in well
under a second, since each process-placement run spawns one adapter (~0.3 s). The cases are
read from ``../shared`` next to the checkout; without them every test here is skipped.
"""

from __future__ import annotations

import json
import os

import pytest

from orchestrator.cli.main import main
from tests.conftest import REFERENCE_CASES

# case.json ``args`` key -> CLI flag (shared/reference/README.md "Running a case")
_FLAGS = {"num_passes": "--num-passes", "comm_scale": "--comm-scale",
          "compute_scale": "--compute-scale", "injection_scale": "--injection-scale",
          "comm_group": "--comm-group"}

# cosim.network counters that follow from the simulation alone (not from the transport)
_DETERMINISTIC_COSIM = ("rounds", "messages", "bytes_sent")

CASES = [
    # mlsys22-tutorial: exercises 1, 2-1, 2-2 (all three topologies), 3 (one case), 4
    "mlsys22_ex1",
    "mlsys22_ex2-1_comm-scale-1024",
    "mlsys22_ex2-2_Ring",
    "mlsys22_ex2-2_Switch",
    "mlsys22_ex2-2_FullyConnected",
    "mlsys22_ex3-1_DGX2-VGG16",                      # the one heavy case (256 NPUs)
    "mlsys22_ex4_reorder",                           # DATA_REORDER loop, 64 NPUs
    # v1-1d: doubleBinaryTree (NPUs finish apart), direct, ring, halvingDoubling; boost 0 and 1
    "v1-1d_Switch8_doubleBinaryTree_all_reduce_1048576_boost0",
    "v1-1d_Switch8_doubleBinaryTree_all_reduce_65536_boost1",
    "v1-1d_FullyConnected8_direct_all_to_all_1048576_boost1",
    "v1-1d_FullyConnected8_direct_all_reduce_16777216_boost1",
    "v1-1d_Ring8_direct_all_to_all_65536_boost1",
    "v1-1d_Ring8_ring_all_gather_1048576_boost0",
    "v1-1d_Switch8_halvingDoubling_reduce_scatter_65536_boost1",
    "v1-1d_Switch8_direct-sysring_all_to_all_1048576_boost1",
    # v1-workload: DLRM and Transformer loops (split model-parallel groups), and others
    "v1-workload_HYBRID_DLRM_Ring16_base",
    "v1-workload_HYBRID_DLRM_ENHANCED_Ring16_base",
    "v1-workload_HYBRID_TRANSFORMER_Ring16_base",
    "v1-workload_HYBRID_TRANSFORMER_FWD_IN_BCKWD_Ring16_base",
    "v1-workload_HYBRID_CUSTOMIZED_Ring16_base",
    "v1-workload_DISTRIBUTED_INFERENCE_Ring16_base",
    # v2-1d, congestion-aware
    "v2-1d_aware_Ring8_ring_all_reduce_1048576",
    "v2-1d_aware_Switch8_doubleBinaryTree_all_reduce_16777216",
    "v2-1d_aware_FullyConnected8_direct_all_to_all_1048576",
    "v2-1d_aware_Switch16_halvingDoubling_all_gather_65536",
    "v2-1d_aware_Ring4_ring_reduce_scatter_65536",
    "v2-1d_aware_FullyConnected16_ring_all_to_all_65536",
    # v2-1d, congestion-unaware
    "v2-1d_unaware_Ring8_ring_all_reduce_16777216",
    "v2-1d_unaware_Switch8_doubleBinaryTree_all_reduce_1048576",
    "v2-1d_unaware_FullyConnected8_direct_reduce_scatter_65536",
    "v2-1d_unaware_Switch16_direct_all_to_all_65536",
    "v2-1d_unaware_Ring16_ring_all_gather_65536",
    # v2-multidim
    "v2-multidim_Ring4xRing4_ring_ring_all_reduce_1048576_baseline",
    "v2-multidim_Ring4xRing4_ring_ring_all_reduce_67108864_localBWAware",
    "v2-multidim_Switch8xSwitch4_halvingDoubling_halvingDoubling_all_reduce_1048576_localBWAware",
    "v2-multidim_Switch8xSwitch4_direct_direct_all_to_all_67108864_localBWAware",
    # v2-sysparam: splits, active chunks, endpoint delay, local memory bandwidth
    "v2-sysparam_unaware_Ring8_ring_all_reduce_1048576_s64_a1_e10_m1600",
    "v2-sysparam_unaware_Ring8_ring_all_reduce_1048576_s4_a4_e10_m1600",
    "v2-sysparam_unaware_Ring8_ring_all_reduce_1048576_s4_a1_e100_m1600",
    "v2-sysparam_unaware_Ring8_ring_all_reduce_1048576_s1_a1_e10_m50",
    # v2-workload: both dependency graphs
    "v2-workload_aware_hoti24_3nodes_AR1MB_AG2MB_comp50us",
    "v2-workload_unaware_Resnet50_DP8_Ring8",
]

_SUITES = {"mlsys22-tutorial", "v1-1d", "v1-workload", "v2-1d", "v2-multidim", "v2-sysparam",
           "v2-workload"}

_MISSING = f"shared reference cases not found at {REFERENCE_CASES} " \
           "(CI provides ../shared next to the checkout)"
needs_cases = pytest.mark.skipif(not os.path.isdir(REFERENCE_CASES), reason=_MISSING)


def _load_case(case_id: str) -> dict:
    with open(os.path.join(REFERENCE_CASES, case_id, "case.json"), encoding="utf-8") as handle:
        return json.load(handle)


def _argv(case: dict, out_dir: str, placement: str | None) -> list[str]:
    argv = ["run", "--workload", case["workload"], "--system", case["system"],
            "--network", case["network"], "--network-backend", case["network_backend"],
            "--out", out_dir, "--quiet"]
    for key, value in case["args"].items():
        argv += [_FLAGS[key], str(value)]
    if placement is not None:
        argv += ["--placement", placement]
    return argv


def run_case(case_id: str, out_dir, placement: str | None, monkeypatch, capsys) -> dict:
    """Run one reference case from its folder through ``main(argv)``; its summary.json."""
    case = _load_case(case_id)
    monkeypatch.chdir(os.path.join(REFERENCE_CASES, case_id))
    out_dir.mkdir(parents=True, exist_ok=True)
    code = main(_argv(case, str(out_dir), placement))
    assert code == 0, (f"{case_id} (placement {placement or 'inprocess'}): CLI exited {code}: "
                       f"{capsys.readouterr().err.strip()}")
    with open(out_dir / "summary.json", encoding="utf-8") as handle:
        return json.load(handle)


def simulated(summary: dict) -> dict:
    """summary.json without the transport metrics: everything the simulation decides."""
    return {key: value for key, value in summary.items() if key != "cosim"}


@needs_cases
def test_selection_spans_every_suite() -> None:
    """Guards the selection: at least 30 distinct cases, all present, covering every suite,
    both formats and both network backends."""
    assert len(set(CASES)) == len(CASES) >= 30
    missing = [case_id for case_id in CASES
               if not os.path.isfile(os.path.join(REFERENCE_CASES, case_id, "case.json"))]
    assert not missing, f"selected cases not in {REFERENCE_CASES}: {missing}"
    cases = [_load_case(case_id) for case_id in CASES]
    assert {case["suite"] for case in cases} == _SUITES
    assert {case["format"] for case in cases} == {"v1", "v2"}
    assert {case["network_backend"] for case in cases} == {"analytical", "analytical-aware"}


@needs_cases
@pytest.mark.parametrize("case_id", CASES)
def test_process_placement_equals_inprocess(case_id: str, tmp_path, monkeypatch,
                                            capsys) -> None:
    inproc = run_case(case_id, tmp_path / "inprocess", None, monkeypatch, capsys)
    process = run_case(case_id, tmp_path / "process", "process", monkeypatch, capsys)

    # the two runs really took the two paths (a silent fallback would make this test vacuous)
    assert inproc["cosim"]["network"]["endpoint"] == "in-process"
    assert process["cosim"]["network"]["endpoint"].startswith("tcp://127.0.0.1:")
    assert process["cosim"]["network"]["protocol_bytes"] > 0

    assert simulated(process) == simulated(inproc), \
        f"{case_id}: simulated results differ between placements"
    assert set(simulated(inproc)) >= {"total_ns", "finish_ns", "compute_ns", "exposed_comm_ns",
                                      "payload_bytes", "events_processed"}
    for key in _DETERMINISTIC_COSIM:
        assert process["cosim"]["network"][key] == inproc["cosim"]["network"][key], \
            f"{case_id}: cosim.network.{key} differs between placements"
    assert inproc["cosim"]["network"]["rounds"] > 0

    # and both are the reference's answer
    assert inproc["total_ns"] == _load_case(case_id)["expected"]["total_ns"]


def test_zero_byte_messages_travel_in_every_placement(tmp_path) -> None:
    """A 1-byte all-reduce in 16 splits sends messages of 0 bytes (a chunk's share rounds
    down to nothing). In-process they always ran; the protocol refused them as malformed, so
    the same run failed with ``--placement process``."""
    from orchestrator.experiment.model import Experiment
    from orchestrator.experiment.runner import simulate
    from orchestrator.cosim.placement import AdapterPlacement
    from orchestrator.workload.microbenchmark import write_collective_traces

    prefix = str(tmp_path / "ar")
    write_collective_traces(prefix, 8, "all_reduce", 1)
    hd = ["halvingDoubling"]
    system = {"scheduling-policy": "FIFO", "endpoint-delay": 1,
              "active-chunks-per-dimension": 4, "preferred-dataset-splits": 16,
              "collective-optimization": "baseline", "local-mem-bw": 1600,
              "all-reduce-implementation": hd, "all-gather-implementation": hd,
              "reduce-scatter-implementation": hd, "all-to-all-implementation": ["direct"]}
    network = {"topology": ["Switch"], "npus_count": [8], "bandwidth": [50.0],
               "latency": [500.0]}
    results = [simulate(Experiment(name="zero", workload=prefix, system=system,
                                   network=network, placement=AdapterPlacement(where)))
               for where in ("inprocess", "process")]
    assert results[0].total_ns == results[1].total_ns == 24_028
    assert results[0].payload_bytes == results[1].payload_bytes
