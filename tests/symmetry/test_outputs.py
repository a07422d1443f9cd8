"""A reduced run writes the files the full run writes: cases a differential fuzzer found
(reduced against ``--symmetry off`` on random inputs) where it did not.

* the congestion-aware network on a Ring of 4 under halving-doubling's bit flips: the totals
  agreed, the per-link bytes did not (a bit flip reverses the ring's links);
* 1.0's boost mode: NPUs off NPU 0's axes run no phases, yet their derived trace had NPU 0's;
* 2.x traces whose node names differ per NPU: the trace of NPU 3 showed NPU 0's names;
* the network's message and byte counters were integers in a reduced run and floats in the
  full one, so the two ``summary.json`` texts differed;
* a receive and a release of one chunk in one nanosecond ran in the opposite order to the
  full run's (the mirror's arrival took a new slot instead of the one its receive reserved):
  a direct all-reduce with a window of 2 on a ring of 4 ended 1 ns late.
"""

from __future__ import annotations

import dataclasses
import json

from orchestrator.experiment.model import Experiment, RunOptions
from orchestrator.experiment.runner import simulate
from orchestrator.output.files import write_results
from orchestrator.output.instruments import Instruments
from orchestrator.output.trace_events import trace_events
from orchestrator.symmetry.eligibility import orbit_group
from orchestrator.system.topology import plan_dimensions
from orchestrator.workload import chakra
from orchestrator.workload.microbenchmark import write_collective_traces

SYSTEM_V2 = {"scheduling-policy": "LIFO", "endpoint-delay": 10,
             "active-chunks-per-dimension": 1, "preferred-dataset-splits": 4,
             "all-reduce-implementation": ["halvingDoubling"],
             "all-gather-implementation": ["halvingDoubling"],
             "reduce-scatter-implementation": ["halvingDoubling"],
             "all-to-all-implementation": ["direct"],
             "collective-optimization": "localBWAware", "local-mem-bw": 1600}
RING4 = {"topology": ["Ring"], "npus_count": [4], "bandwidth": [50.0], "latency": [500.0]}


def _both(experiment: Experiment, trace_npus: str = ""):
    """(full, reduced) results with their instruments, traced as asked."""
    runs = []
    for mode in ("off", "auto"):
        instruments = Instruments(trace=bool(trace_npus), trace_npus=trace_npus)
        runs.append((simulate(dataclasses.replace(experiment, symmetry=mode), instruments),
                     instruments))
    return runs


def test_bit_flips_of_a_ring_of_4_are_refused_on_the_congestion_aware_network() -> None:
    plans = {"ALLREDUCE": plan_dimensions([4], ("halvingDoubling",))}
    group, reason = orbit_group("analytical-v2-aware", [("Ring", 4)], [4], plans, {"ALLREDUCE"})
    assert group is None
    assert reason == ("halving-doubling's bit flips reverse the links of Ring dimension 0, on "
                      "which the congestion-aware network routes half-way messages clockwise")
    # delays alone are kept by them: the unaware network still reduces
    group, _ = orbit_group("analytical-v2", [("Ring", 4)], [4], plans, {"ALLREDUCE"})
    assert group is not None and group.describe() == "XOR4"


def test_aware_ring_of_4_halving_doubling_gives_the_full_runs_link_bytes(tmp_path) -> None:
    prefix = str(tmp_path / "ar")
    write_collective_traces(prefix, 4, "all_reduce", 1 << 20)
    experiment = Experiment(name="hd", workload=prefix, system=SYSTEM_V2, network=RING4,
                            network_backend="analytical-aware")
    (full, _), (auto, _) = _both(experiment)
    assert auto.symmetry["reduced"] is False
    assert auto.adapter_stats == full.adapter_stats
    links = {key: value for key, value in full.adapter_stats["network"].items()
             if key.startswith("link_bytes/")}
    assert len(set(links.values())) > 1        # the traffic is not the same on every link


def _v1_inputs(tmp_path, boost: int) -> Experiment:
    workload = tmp_path / "w.txt"
    workload.write_text("DATA\n2\n"
                        "l0 -1 5 NONE 0 5 NONE 0 10 ALLREDUCE 1048576 10\n"
                        "l1 -1 300 NONE 0 2 NONE 0 7 ALLREDUCE 65536 10\n")
    system = tmp_path / "s.txt"
    system.write_text("scheduling-policy: LIFO\nendpoint-delay: 1\n"
                      "active-chunks-per-dimension: 2\npreferred-dataset-splits: 4\n"
                      f"boost-mode: {boost}\nall-reduce-implementation: ring_ring\n"
                      "all-gather-implementation: ring_ring\n"
                      "reduce-scatter-implementation: ring_ring\n"
                      "all-to-all-implementation: direct_direct\n"
                      "collective-optimization: localBWAware\n")
    network = tmp_path / "n.json"
    network.write_text(json.dumps({
        "dimensions-count": 2, "topologies-per-dim": ["Ring", "FullyConnected"],
        "units-count": [4, 2], "links-count": [2, 1], "link-latency": [500, 1],
        "link-bandwidth": [25, 50]}))
    return Experiment(name="boost", workload=str(workload), system=str(system),
                      network=str(network), options=RunOptions(num_passes=2))


def test_boost_mode_trace_of_every_npu_is_the_full_runs(tmp_path) -> None:
    (full, full_in), (auto, auto_in) = _both(_v1_inputs(tmp_path, boost=1), trace_npus="all")
    assert auto.symmetry["reduced"] is True
    assert trace_events(auto, auto_in.recorder) == trace_events(full, full_in.recorder)
    phases_of = {record.npu: {phase.dim for chunk in record.chunks for phase in chunk}
                 for record in full_in.recorder.collectives}
    # NPU 0 runs both dimensions; 1-3 only the ring (dimension 0), 4 only dimension 1,
    # 5-7 none: each phase is labelled with its own dimension
    assert phases_of == {0: {0, 1}, 1: {0}, 2: {0}, 3: {0}, 4: {1}, 5: set(), 6: set(),
                         7: set()}


def test_node_names_that_differ_per_npu_are_traced_as_the_full_run_traces_them(tmp_path
                                                                               ) -> None:
    prefix = str(tmp_path / "named")
    write_collective_traces(prefix, 4, "all_reduce", 65536)
    for npu in range(4):
        nodes = chakra.read_trace(chakra.trace_path(prefix, npu)).nodes
        for node in nodes:
            node.name = f"{node.name}_rank{npu}"
        chakra.write_trace(chakra.trace_path(prefix, npu), nodes)
    experiment = Experiment(name="named", workload=prefix,
                            system=SYSTEM_V2 | {"all-reduce-implementation": ["ring"]},
                            network=RING4)
    (full, full_in), (auto, auto_in) = _both(experiment, trace_npus="0,3")
    assert auto.symmetry["reason"] == ("NPU 1's trace names its nodes differently from NPU "
                                       "0's, and the trace file shows other NPUs than NPU 0")
    assert trace_events(auto, auto_in.recorder) == trace_events(full, full_in.recorder)
    # names change no time: without a trace of other NPUs the run is reduced
    assert simulate(experiment).symmetry["reduced"] is True
    assert simulate(experiment, Instruments(trace=True, trace_npus="0")).symmetry["reduced"]


def test_reduced_summary_is_the_full_runs_text(tmp_path) -> None:
    (full, _), (auto, _) = _both(_v1_inputs(tmp_path, boost=0))
    assert auto.symmetry["reduced"] is True
    texts = []
    for name, result in (("full", full), ("auto", auto)):
        write_results(result, str(tmp_path / name))
        summary = json.loads((tmp_path / name / "summary.json").read_text())
        texts.append(json.dumps(summary["adapter_stats"]))
    assert texts[0] == texts[1]


def test_a_receive_runs_in_the_slot_its_posting_reserved(tmp_path) -> None:
    workload = tmp_path / "w.txt"
    workload.write_text("DATA\n1\nl0 -1 5 NONE 0 0 NONE 0 5 ALLREDUCE 7 0\n")
    system = tmp_path / "s.txt"
    system.write_text("scheduling-policy: LIFO\nendpoint-delay: 1\n"
                      "active-chunks-per-dimension: 4\npreferred-dataset-splits: 1\n"
                      "all-reduce-implementation: direct2\nall-gather-implementation: direct2\n"
                      "reduce-scatter-implementation: direct2\n"
                      "all-to-all-implementation: direct2\ncollective-optimization: baseline\n")
    network = tmp_path / "n.json"
    network.write_text(json.dumps({"dimensions-count": 1, "topologies-per-dim": ["Ring"],
                                   "units-count": [4], "links-count": [2],
                                   "link-latency": [10], "link-bandwidth": [6.25]}))
    experiment = Experiment(name="window", workload=str(workload), system=str(system),
                            network=str(network))
    (full, _), (auto, _) = _both(experiment)
    assert auto.symmetry["reduced"] is True
    assert full.total_ns == 55                 # the window's third packet waits for a receive
    assert auto.total_ns == full.total_ns
    assert auto.layers == full.layers
