"""A reduced run (one NPU simulated, orchestrator/symmetry) equals the full run, exactly.

On the congestion-aware network too: its orbit queues must carry exactly the traffic of
every link (the per-link byte counters are compared as well).

Random symmetric 1.0 and 2.x configurations — several dimensions of Ring / Switch /
FullyConnected, every reducible algorithm, splits, active chunks, LIFO/FIFO, localBWAware or
baseline, several layers or collectives overlapping — with latencies of 1-3 ns and small
endpoint delays so that many events of different NPUs fall on the same nanosecond (the ties
whose order the reduction must reproduce). Each example runs twice, ``symmetry="auto"`` and
``"off"``, and every reported number must agree, and so must the trace of every NPU (the
reduced run derives the other NPUs' spans from NPU 0's).
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from orchestrator.errors import InputError
from orchestrator.experiment.model import Experiment, RunOptions
from orchestrator.experiment.runner import simulate
from orchestrator.output.instruments import Instruments
from orchestrator.output.trace_events import trace_events
from orchestrator.workload import chakra

EXAMPLES = int(os.environ.get("ASTRA_TEST_EXAMPLES", "150")) // 2
SETTINGS = settings(derandomize=True, deadline=None, max_examples=EXAMPLES,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])

TOPOLOGIES = ("Ring", "Switch", "FullyConnected")
KINDS = ("ALLREDUCE", "REDUCESCATTER", "ALLGATHER", "ALLTOALL")


@st.composite
def platforms(draw):
    """Per dimension: topology, NPUs and an algorithm that commutes with its symmetry."""
    dims = []
    for _ in range(draw(st.integers(1, 3))):
        topology = draw(st.sampled_from(TOPOLOGIES))
        npus = draw(st.sampled_from((2, 3, 4, 5, 8) if topology == "Ring" else (2, 4, 6, 8)))
        choices = ["ring", "direct"]
        if topology != "Ring" and npus & (npus - 1) == 0:
            choices.append("halvingDoubling")
        dims.append((topology, npus, draw(st.sampled_from(choices))))
    total = 1
    for _, npus, _ in dims:
        total *= npus
    assume(total <= 64)
    return dims


def _system(draw, algorithms: str, v2: bool) -> dict:
    a2a = "_".join("direct" if name == "halvingDoubling" else name
                   for name in algorithms.split("_"))
    system = {
        "scheduling-policy": draw(st.sampled_from(("LIFO", "FIFO"))),
        "endpoint-delay": draw(st.integers(1, 12)),
        "active-chunks-per-dimension": draw(st.integers(1, 3)),
        "preferred-dataset-splits": draw(st.integers(1, 6)),
        "collective-optimization": draw(st.sampled_from(("baseline", "localBWAware"))),
        "all-reduce-implementation": algorithms,
        "reduce-scatter-implementation": algorithms,
        "all-gather-implementation": algorithms,
        "all-to-all-implementation": a2a,
    }
    if v2:
        system = {key: (value.split("_") if key.endswith("implementation") else value)
                  for key, value in system.items()}
        system["local-mem-bw"] = draw(st.sampled_from((50, 1600)))
    return system


def _same(full_run, reduced_run) -> None:
    (full, full_recorder), (reduced, reduced_recorder) = full_run, reduced_run
    reason = reduced.symmetry.get("reason", "")
    # halving-doubling commutes with bit flips, direct (its all-to-all) with rotations
    assume("different relabellings" not in reason)
    event("reduced" if reduced.symmetry["reduced"] else "guarded: " + reason.split(" ns ")[-1])
    # refused only by the guard or the aware model's orbit queues, never for another reason
    assert reduced.symmetry["reduced"] or reason.startswith("not symmetric: at ") or \
        "reach link" in reason, reason
    assert not full.symmetry["reduced"]
    assert reduced.total_ns == full.total_ns
    assert reduced.finish_ns == full.finish_ns
    assert reduced.compute_ns == full.compute_ns
    assert reduced.exposed_comm_ns == full.exposed_comm_ns
    assert reduced.payload_bytes == full.payload_bytes
    assert reduced.layers == full.layers
    # as text: 1 == 1.0 in Python, but not in summary.json
    assert json.dumps(reduced.adapter_stats["network"], sort_keys=True) == \
        json.dumps(full.adapter_stats["network"], sort_keys=True)
    assert reduced.symmetry["npus_simulated"] == 1 or not reduced.symmetry["reduced"]
    assert trace_events(reduced, reduced_recorder) == trace_events(full, full_recorder)


def _both(experiment: Experiment):
    runs = []
    for mode in ("off", "auto"):
        instruments = Instruments(trace=True, trace_npus="all")
        runs.append((simulate(dataclasses.replace(experiment, symmetry=mode), instruments),
                     instruments.recorder))
    return tuple(runs)


@SETTINGS
@given(data=st.data())
def test_v1_reduced_equals_full(tmp_path, data) -> None:
    draw = data.draw
    dims = draw(platforms())
    loop = draw(st.sampled_from(("MICRO", "DATA", "MODEL", "HYBRID_DATA_MODEL",
                                 "HYBRID_MODEL_DATA", "DATA_REORDER")))
    layers = []
    for index in range(draw(st.integers(1, 3) if loop != "MICRO" else st.just(1))):
        cells = []
        for _ in range(3):
            compute = draw(st.sampled_from((0, 1, 7, 40, 300)))
            kind = draw(st.sampled_from(KINDS + ("NONE",)))
            size = draw(st.sampled_from((48, 1000, 4096, 65536)))
            cells.append(f"{compute} {kind} {size if kind != 'NONE' else 0}")
        layers.append(f"l{index} -1 " + " ".join(cells) + f" {draw(st.integers(0, 3))}")
    path = tmp_path / f"wl_{data.draw(st.integers(0, 10**9))}.txt"
    path.write_text(f"{loop}\n{len(layers)}\n" + "\n".join(layers) + "\n")
    network = {
        "topologies-per-dim": [topology for topology, _, _ in dims],
        "units-count": [npus for _, npus, _ in dims],
        "links-count": [npus - 1 if topology == "FullyConnected" else
                        (2 if topology == "Ring" else 1) for topology, npus, _ in dims],
        "link-latency": [draw(st.sampled_from((1, 2, 3))) for _ in dims],
        "link-bandwidth": [draw(st.sampled_from((25, 50, 100))) for _ in dims],
    }
    # 1.0's direct takes a window (directW: W messages in flight)
    algorithms = [name if name != "direct" else name + draw(st.sampled_from(("", "1", "2")))
                  for _, _, name in dims]
    system = _system(draw, "_".join(algorithms), v2=False)
    # 1.0's other scheduling keys (Themis itself is never reduced: its shared scheduler)
    system["intra-dimension-scheduling"] = draw(st.sampled_from(
        ("FIFO", "smallestFirst", "lessRemainingPhaseFirst", "RG")))
    system["inter-dimension-scheduling"] = draw(st.sampled_from(("ascending", "roundRobin")))
    system["boost-mode"] = draw(st.sampled_from((0, 1)))
    experiment = Experiment(name="sym", workload=str(path), system=system, network=network,
                            options=RunOptions(num_passes=draw(st.integers(1, 2)),
                                               num_queues_per_dim=draw(st.sampled_from((1, 2)))))
    try:
        full, reduced = _both(experiment)
    except InputError as exc:           # e.g. a collective smaller than its splits
        assume("preferred-dataset-splits" not in str(exc))
        raise
    _same(full, reduced)


@SETTINGS
@given(data=st.data())
def test_v2_reduced_equals_full(tmp_path, data) -> None:
    draw = data.draw
    dims = draw(platforms())
    total = 1
    for _, npus, _ in dims:
        total *= npus
    nodes = []
    for node_id in range(draw(st.integers(1, 4))):
        deps = [dep for dep in range(node_id) if draw(st.booleans())]
        if draw(st.booleans()):
            node = chakra.pb.Node(id=node_id, name=f"c{node_id}", type=chakra.NodeType.COMP_NODE,
                                  duration_micros=draw(st.sampled_from((1, 3))))
        else:
            node = chakra.pb.Node(id=node_id, name=f"m{node_id}",
                                  type=chakra.NodeType.COMM_COLL_NODE)
            kind = draw(st.sampled_from((0, 2, 6, 7)))      # all-reduce, -gather, -to-all, RS
            node.attr.add(name="comm_type", int64_val=kind)
            node.attr.add(name="comm_size", int64_val=draw(st.sampled_from((64, 4096, 65536))))
        node.data_deps.extend(deps)
        nodes.append(node)
    # a fresh folder per example: tmp_path is shared by all examples, and traces left by a
    # larger earlier example would be extra ranks, which a run refuses
    prefix = Path(tempfile.mkdtemp(prefix=f"et{draw(st.integers(0, 10**9))}-",
                                   dir=tmp_path)) / "trace"
    for npu in range(total):
        chakra.write_trace(f"{prefix}.{npu}.et", nodes)
    network = {"topology": [topology for topology, _, _ in dims],
               "npus_count": [npus for _, npus, _ in dims],
               "bandwidth": [draw(st.sampled_from((25.0, 50.0))) for _ in dims],
               "latency": [float(draw(st.sampled_from((1, 2, 3)))) for _ in dims]}
    system = _system(draw, "_".join(name for _, _, name in dims), v2=True)
    backend = draw(st.sampled_from(("analytical", "analytical-aware")))
    experiment = Experiment(name="sym", workload=str(prefix), system=system, network=network,
                            network_backend=backend)
    full, reduced = _both(experiment)
    _same(full, reduced)
