"""``trace convert``: a 1.0 workload written as Chakra traces runs under 2.x rules with the
same result where the two generations agree, and differs exactly where they do not."""

from __future__ import annotations

import json
from pathlib import Path

from orchestrator.cli.main import main
from orchestrator.workload import chakra

V1_SYSTEM = """scheduling-policy: LIFO
endpoint-delay: 10
active-chunks-per-dimension: 1
preferred-dataset-splits: 4
all-reduce-implementation: ring
all-gather-implementation: ring
reduce-scatter-implementation: ring
all-to-all-implementation: direct
collective-optimization: localBWAware
"""
V1_NETWORK = {"dimensions-count": 1, "topologies-per-dim": ["Ring"], "units-count": [8],
              "links-count": [2], "link-latency": [500], "link-bandwidth": [50]}
# The same machine in 2.x terms: 2 links of 50 GB/s = one of 100 GB/s; 1.0's memory model
# reduces at 500 000 bytes per cycle, 2.x's at local-mem-bw.
V2_SYSTEM = {"scheduling-policy": "LIFO", "endpoint-delay": 10, "active-chunks-per-dimension": 1,
             "preferred-dataset-splits": 4, "all-reduce-implementation": ["ring"],
             "all-gather-implementation": ["ring"], "reduce-scatter-implementation": ["ring"],
             "all-to-all-implementation": ["direct"], "collective-optimization": "localBWAware",
             "local-mem-bw": 500000}
V2_NETWORK = "topology: [ Ring ]\nnpus_count: [ 8 ]\nbandwidth: [ 100.0 ]\nlatency: [ 500.0 ]\n"


def _files(root: Path, workload: str) -> None:
    (root / "w.txt").write_text(workload)
    (root / "sys.txt").write_text(V1_SYSTEM)
    (root / "net.json").write_text(json.dumps(V1_NETWORK))
    (root / "sys.json").write_text(json.dumps(V2_SYSTEM))
    (root / "net.yml").write_text(V2_NETWORK)


def _total(root: Path, workload: str, system: str, network: str) -> int:
    out = root / f"out-{system}"
    assert main(["run", "--workload", str(root / workload), "--system", str(root / system),
                 "--network", str(root / network), "--out", str(out), "--quiet"]) == 0
    return json.loads((out / "summary.json").read_text())["total_ns"]


def _both(root: Path, workload: str) -> tuple[int, int]:
    _files(root, workload)
    assert main(["trace", "convert", "--workload", str(root / "w.txt"), "--npus", "8",
                 "--out", str(root / "et" / "w")]) == 0
    return (_total(root, "w.txt", "sys.txt", "net.json"),
            _total(root, "et/w", "sys.json", "net.yml"))


def test_micro_benchmark_agrees(tmp_path: Path) -> None:
    """One all-reduce and no update delay: 1.0 and 2.x rules coincide, 4 x (E + 14 (805 + E))."""
    v1, v2 = _both(tmp_path, "MICRO\n1\nar -1 0 NONE 0 0 NONE 0 0 ALLREDUCE 1048576 0\n")
    assert v1 == v2 == 4 * (10 + 14 * (805 + 10))


def test_data_parallel_differs_by_the_one_cycle_steps_and_update_delay(tmp_path: Path) -> None:
    """Two DATA layers, compute-bound (100 us per step, all-reduce ~46 us). The last collective
    (layer 0's weight gradient) is issued after fwd0, fwd1, wg1, ig1, wg0 in both; 1.0 has
    passed four 1-cycle state transitions by then and adds the layer's update delay (7) after
    the collective, 2.x neither. Layer 1's collective ends before layer 0's starts, so 2.x's
    one-collective-at-a-time rule costs nothing here."""
    workload = ("DATA\n2\n"
                "l0 -1 100000 NONE 0 100000 NONE 0 100000 ALLREDUCE 1048576 7\n"
                "l1 -1 100000 NONE 0 100000 NONE 0 100000 ALLREDUCE 1048576 7\n")
    v1, v2 = _both(tmp_path, workload)
    all_reduce = 4 * (10 + 14 * (805 + 10))
    assert v2 == 5 * 100000 + all_reduce
    assert v1 - v2 == 4 + 7


def test_converted_trace_round_trips(tmp_path: Path) -> None:
    _files(tmp_path, "DATA\n2\n"
                     "l0 -1 1500 NONE 0 1200 NONE 0 1700 ALLREDUCE 65536 1\n"
                     "l1 -1 1500 NONE 0 1200 NONE 0 1700 ALLREDUCE 65536 1\n")
    assert main(["trace", "convert", "--workload", str(tmp_path / "w.txt"), "--npus", "2",
                 "--out", str(tmp_path / "et" / "w"), "--num-passes", "2"]) == 0
    trace = chakra.read_trace(str(tmp_path / "et" / "w.1.et"))
    names = [node.name for node in trace.nodes]
    # pass 1 (ig of layer 0 is not computed, as in 1.0's DATA loop), then pass 2
    assert names[:6] == ["l0_FWD", "l1_FWD", "l1_WG", "l1_WG_ALLREDUCE", "l1_IG", "l0_WG"]
    assert names[6:8] == ["l0_WG_ALLREDUCE", "l0_FWD"]
    second_fwd = trace.nodes[7]
    # the second pass's forward of layer 0 waits for its weight-gradient all-reduce
    assert list(second_fwd.data_deps) == [5, 6]
    assert chakra.int_attribute(trace.nodes[0], chakra.DURATION_NS, "t") == 1500
    assert trace.nodes[0].duration_micros == 2     # 1.5 us rounded for other readers


def test_collectives_over_no_dimension_of_the_network_are_left_out(tmp_path: Path) -> None:
    """Model parallelism over all 8 NPUs leaves the data-parallel collectives (weight
    gradients) no dimension with more than one NPU. A 1.0 run skips them; converted, they
    made a trace every 2.x run refused ("upstream hangs here")."""
    _files(tmp_path, "HYBRID_TRANSFORMER model_parallel_NPU_group: 8\n1\n"
                     "l0 -1 300 ALLGATHER 4096 100 REDUCESCATTER 4096 10 ALLREDUCE 1048576 10\n")
    assert main(["trace", "convert", "--workload", str(tmp_path / "w.txt"), "--npus", "8",
                 "--network", str(tmp_path / "net.json"), "--out",
                 str(tmp_path / "et" / "w")]) == 0
    nodes = chakra.read_trace(chakra.trace_path(str(tmp_path / "et" / "w"), 0)).nodes
    collectives = [node.name for node in nodes if node.type == chakra.NodeType.COMM_COLL_NODE]
    assert collectives == ["l0_FWD_ALLGATHER", "l0_IG_REDUCESCATTER"]
    assert _total(tmp_path, "et/w", "sys.json", "net.yml") > 0
