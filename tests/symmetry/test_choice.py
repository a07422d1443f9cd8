"""When a run is reduced, what it says about it, and what it derives for the other NPUs."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

import pytest

from orchestrator.errors import InputError
from orchestrator.experiment.load import experiment_from_mapping
from orchestrator.experiment.model import Experiment
from orchestrator.experiment.runner import simulate
from orchestrator.output.instruments import Instruments
from orchestrator.symmetry.eligibility import orbit_group
from orchestrator.symmetry.traces import why_traces_differ
from orchestrator.system.topology import plan_dimensions
from orchestrator.units import parse_size
from orchestrator.workload import chakra
from orchestrator.workload.microbenchmark import write_collective_traces

SYSTEM_V2 = {"scheduling-policy": "LIFO", "endpoint-delay": 10,
             "active-chunks-per-dimension": 1, "preferred-dataset-splits": 4,
             "all-reduce-implementation": ["ring", "ring"],
             "all-gather-implementation": ["ring", "ring"],
             "reduce-scatter-implementation": ["ring", "ring"],
             "all-to-all-implementation": ["direct", "direct"],
             "collective-optimization": "localBWAware", "local-mem-bw": 1600}
NETWORK_V2 = {"topology": ["Ring", "Switch"], "npus_count": [4, 4],
              "bandwidth": [50.0, 25.0], "latency": [500.0, 700.0]}


def _experiment(prefix: str, **changes) -> Experiment:
    base = dict(name="sym", workload=prefix, system=dict(SYSTEM_V2), network=dict(NETWORK_V2))
    base.update(changes)
    return Experiment(**base)


@pytest.fixture(scope="module")
def all_reduce(tmp_path_factory) -> str:
    prefix = str(tmp_path_factory.mktemp("et") / "ar")
    write_collective_traces(prefix, 16, "all_reduce", parse_size("1MiB"))
    return prefix


def test_reduced_run_says_so_and_equals_the_full_run(all_reduce) -> None:
    reduced = simulate(_experiment(all_reduce))
    full = simulate(_experiment(all_reduce, symmetry="off"))
    assert reduced.symmetry == {"reduced": True, "npus_simulated": 1, "orbits": 1,
                                "group": "Z4 x Z4"}
    assert full.symmetry == {"reduced": False, "npus_simulated": 16, "orbits": 16,
                             "reason": "--symmetry off"}
    assert reduced.finish_ns == full.finish_ns == [full.total_ns] * 16
    assert reduced.events_processed * 10 < full.events_processed


@pytest.mark.parametrize("backend", ["analytical", "analytical-aware"])
def test_a_trace_of_every_npu_is_derived(all_reduce, backend) -> None:
    """NPU 0's spans, copied to the other traced NPUs, are what the full run records."""
    recorded = []
    for mode in ("auto", "off"):
        instruments = Instruments(trace=True, trace_npus="0-15")
        result = simulate(_experiment(all_reduce, symmetry=mode, network_backend=backend),
                          instruments)
        assert result.symmetry["reduced"] == (mode == "auto")
        recorder = instruments.recorder
        recorded.append((sorted((c.npu, c.start_ns, c.end_ns, c.kind, c.size_bytes,
                                 [[(p.dim, p.queued_ns, p.start_ns, p.end_ns) for p in chunk]
                                  for chunk in c.chunks]) for c in recorder.collectives),
                         sorted(recorder.links.items())))
    assert recorded[0] == recorded[1]
    assert {record[0] for record in recorded[0][0]} == set(range(16))


def test_why_not_reduced(tmp_path, all_reduce) -> None:
    groups = tmp_path / "groups.json"
    groups.write_text(json.dumps({"all": list(range(16))}))
    cases = {
        "communicator groups are given": _experiment(all_reduce, comm_group=str(groups)),
        "doubleBinaryTree (ALLREDUCE, dimension 0) has a root": _experiment(
            all_reduce, system=SYSTEM_V2 | {"all-reduce-implementation":
                                            ["doubleBinaryTree", "ring"]}),
    }
    for reason, experiment in cases.items():
        result = simulate(experiment)
        assert result.symmetry["reduced"] is False
        assert result.symmetry["reason"] == reason


def test_point_to_point_traces_and_differing_traces_are_not_reduced(tmp_path) -> None:
    prefix = str(tmp_path / "p2p")
    for npu in range(2):
        kind = chakra.NodeType.COMM_SEND_NODE if npu == 0 else chakra.NodeType.COMM_RECV_NODE
        node = chakra.pb.Node(id=0, name="p2p", type=kind)
        node.attr.add(name="comm_src", int32_val=0)
        node.attr.add(name="comm_dst", int32_val=1)
        node.attr.add(name="comm_tag", int32_val=7)
        node.attr.add(name="comm_size", int64_val=4096)
        chakra.write_trace(chakra.trace_path(prefix, npu), [node])
    network = {"topology": ["Ring"], "npus_count": [2], "bandwidth": [50.0],
               "latency": [500.0]}
    system = {key: value[:1] if isinstance(value, list) else value
              for key, value in SYSTEM_V2.items()}
    result = simulate(_experiment(prefix, network=network, system=system))
    assert result.symmetry["reason"] == "the traces have point-to-point SEND nodes"

    other = str(tmp_path / "mixed")
    write_collective_traces(other, 16, "all_reduce", 4096)
    write_collective_traces(other + "_b", 16, "all_gather", 4096)
    os.replace(chakra.trace_path(other + "_b", 5), chakra.trace_path(other, 5))
    assert why_traces_differ(other, 16) == "NPU 5's trace differs from NPU 0's"
    write_collective_traces(other, 16, "all_reduce", 4096)
    renumbered = chakra.read_trace(chakra.trace_path(other, 9)).nodes
    renumbered[0].id = 40                      # the text converter numbers across NPUs
    renumbered[0].name = "npu9"
    chakra.write_trace(chakra.trace_path(other, 9), renumbered)
    assert why_traces_differ(other, 16) == ""


def test_halving_doubling_on_a_ring_dimension_is_not_reduced() -> None:
    plans = {"ALLREDUCE": plan_dimensions([8], ("halvingDoubling",))}
    group, reason = orbit_group("analytical-v2", [("Ring", 8)], [8], plans, {"ALLREDUCE"})
    assert group is None
    assert reason == "halving-doubling's partners on Ring dimension 0 are not symmetric"
    group, reason = orbit_group("analytical-v2", [("Switch", 8)], [8], plans, {"ALLREDUCE"})
    assert group is not None and group.describe() == "XOR8"
    group, reason = orbit_group("ns3", [("Switch", 8)], [8], plans, {"ALLREDUCE"})
    assert group is None and "ns3" in reason


def test_symmetry_key_in_an_experiment_file(tmp_path) -> None:
    doc = {"workload": "w.txt", "system": "s.txt", "network": "n.json", "symmetry": "off"}
    assert experiment_from_mapping(doc, "e.yaml", str(tmp_path)).symmetry == "off"
    with pytest.raises(InputError, match="symmetry: found 'sometimes'; expected auto or off"):
        experiment_from_mapping(doc | {"symmetry": "sometimes"}, "e.yaml", str(tmp_path))


def test_trace_collective_command(tmp_path) -> None:
    prefix = tmp_path / "out" / "ag"
    done = subprocess.run([sys.executable, "-m", "orchestrator", "trace", "collective",
                           "--npus", "5", "--collective", "all_gather", "--size", "64KiB",
                           "--involved-dims", "1,0", "--out", str(prefix)],
                          capture_output=True, text=True, check=True)
    assert "wrote 5 traces" in done.stdout
    contents = {(tmp_path / "out" / f"ag.{npu}.et").read_bytes() for npu in range(5)}
    assert len(contents) == 1
    node = chakra.read_trace(str(tmp_path / "out" / "ag.3.et")).nodes[0]
    assert chakra.int_attribute(node, "comm_size", "x") == 65536
    assert chakra.int_attribute(node, "comm_type", "x") == chakra.CollectiveCommType.ALL_GATHER
    bad = subprocess.run([sys.executable, "-m", "orchestrator", "trace", "collective",
                          "--npus", "5", "--collective", "all_gather", "--size", "64XB",
                          "--out", str(prefix)], capture_output=True, text=True)
    assert bad.returncode == 2
    assert bad.stderr.strip().endswith("is not a size like 4096, 64KiB, 1MiB or 2GB")


@pytest.mark.parametrize("text, size", [("4096", 4096), ("64KiB", 65536), ("1MiB", 1 << 20),
                                        ("2GB", 2 * 10**9), ("3 mib", 3 << 20)])
def test_parse_size(text, size) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("placement", ["inprocess", "process"])
def test_aware_orbit_queue_tie_falls_back_in_every_placement(tmp_path, placement) -> None:
    """A direct all-to-all sends to every peer at once: the orbit queue of the switch up-link
    gets several messages in one nanosecond, the aware model refuses (also from another
    process), and the full run's result is reported."""
    from orchestrator.cosim.placement import AdapterPlacement
    prefix = str(tmp_path / "a2a")
    write_collective_traces(prefix, 8, "all_to_all", 65536)
    network = {"topology": ["Switch"], "npus_count": [8], "bandwidth": [50.0],
               "latency": [500.0]}
    system = {key: (["direct"] if isinstance(value, list) else value)
              for key, value in SYSTEM_V2.items()}
    experiment = _experiment(prefix, network=network, system=system,
                             network_backend="analytical-aware",
                             placement=AdapterPlacement(placement=placement))
    result = simulate(experiment)
    assert result.symmetry["reduced"] is False
    assert result.symmetry["reason"].startswith("not symmetric: two messages reach link "
                                                "dim0[0]:0->sw at ")
    full = simulate(dataclasses.replace(experiment, symmetry="off"))
    assert (result.total_ns, result.finish_ns) == (full.total_ns, full.finish_ns)
