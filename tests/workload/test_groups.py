"""Communicator groups for 2.x traces (orchestrator/system/groups.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.cli.main import main
from orchestrator.workload import chakra
from orchestrator.workload.chakra_et_pb2 import Node

SYSTEM = {"scheduling-policy": "LIFO", "endpoint-delay": 10, "active-chunks-per-dimension": 1,
          "preferred-dataset-splits": 4, "all-reduce-implementation": ["ring"],
          "all-gather-implementation": ["ring"], "reduce-scatter-implementation": ["ring"],
          "all-to-all-implementation": ["ring"], "collective-optimization": "localBWAware",
          "local-mem-bw": 1600}


def _write_inputs(root: Path, pg_names: dict[int, str] | None = None) -> None:
    for npu in range(8):
        node = Node(id=0, name="ar", type=chakra.NodeType.COMM_COLL_NODE)
        node.attr.extend([chakra.make_attr("is_cpu_op", False),
                          chakra.make_attr("comm_type", 0),
                          chakra.make_attr("comm_size", 1 << 20)])
        if pg_names and npu in pg_names:
            node.attr.append(chakra.make_attr("pg_name", pg_names[npu]))
        chakra.write_trace(str(root / "et" / f"ar.{npu}.et"), [node])
    (root / "sys.json").write_text(json.dumps(SYSTEM))
    (root / "net.yml").write_text("topology: [ Switch ]\nnpus_count: [ 8 ]\n"
                                  "bandwidth: [ 50.0 ]\nlatency: [ 500.0 ]\n")


def _run(root: Path, groups: dict | None) -> dict:
    argv = ["run", "--workload", str(root / "et" / "ar"), "--system", str(root / "sys.json"),
            "--network", str(root / "net.yml"), "--out", str(root / "out"), "--quiet"]
    if groups is not None:
        (root / "groups.json").write_text(json.dumps(groups))
        argv += ["--comm-group", str(root / "groups.json")]
    assert main(argv) == 0
    return json.loads((root / "out" / "summary.json").read_text())


def _ring_all_reduce_ns(n: int, size: int = 1 << 20, splits: int = 4) -> int:
    """SEMANTICS §4.5 on a Switch (2 hops), 50 GB/s, 500 ns, E = 10, local-mem-bw 1600."""
    message = size // splits // n
    d = int(2 * 500 + message / (50 * 2**30 / 1e9))
    reduction = 3 * int(message / 1600)
    return splits * (10 + 2 * (n - 1) * (d + 10) + (n - 1) * reduction)


def test_two_groups_of_four_run_as_four_npu_rings(tmp_path: Path) -> None:
    _write_inputs(tmp_path)
    summary = _run(tmp_path, {"a": [0, 1, 2, 3], "b": [4, 5, 6, 7]})
    assert summary["total_ns"] == summary["min_finish_ns"] == _ring_all_reduce_ns(4) == 55000


def test_a_group_of_every_npu_is_the_whole_system(tmp_path: Path) -> None:
    _write_inputs(tmp_path)
    assert _run(tmp_path, {"all": list(range(8))})["total_ns"] == \
        _run(tmp_path, None)["total_ns"] == _ring_all_reduce_ns(8)


def test_a_group_some_members_never_join_is_reported_stuck(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """NPUs 0 and 1 default to "x" (the last group listing them), so the whole-system group
    "all" misses two members: its collective can never finish (upstream deadlocks silently)."""
    _write_inputs(tmp_path)
    (tmp_path / "groups.json").write_text(json.dumps({"all": list(range(8)), "x": [0, 1]}))
    code = main(["run", "--workload", str(tmp_path / "et" / "ar"), "--system",
                 str(tmp_path / "sys.json"), "--network", str(tmp_path / "net.yml"),
                 "--comm-group", str(tmp_path / "groups.json"), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code != 0
    assert "6 NPU(s) unfinished" in err and "'ar'" in err


def test_pg_name_selects_the_group(tmp_path: Path) -> None:
    # every node names "pair" or "quad"; the NPU-level default would be "all"
    names = {npu: ("pair" if npu < 2 else "quad" if npu < 6 else "rest") for npu in range(8)}
    _write_inputs(tmp_path, names)
    summary = _run(tmp_path, {"all": list(range(8)), "pair": [0, 1], "quad": [2, 3, 4, 5],
                              "rest": [6, 7]})
    finish = summary["finish_ns"]
    assert finish[0] == finish[1] == finish[6] == _ring_all_reduce_ns(2)
    assert finish[2:6] == [_ring_all_reduce_ns(4)] * 4


@pytest.mark.parametrize("groups, fragment", [
    ({"a": [0, 1, 8]}, "NPU 8"),
    ({"a": [0, 1, 1]}, "twice"),
    ({"a": []}, "non-empty"),
])
def test_bad_groups(tmp_path: Path, capsys: pytest.CaptureFixture[str], groups: dict,
                    fragment: str) -> None:
    _write_inputs(tmp_path)
    (tmp_path / "groups.json").write_text(json.dumps(groups))
    code = main(["run", "--workload", str(tmp_path / "et" / "ar"), "--system",
                 str(tmp_path / "sys.json"), "--network", str(tmp_path / "net.yml"),
                 "--comm-group", str(tmp_path / "groups.json"), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code != 0
    assert f"{tmp_path / 'groups.json'}: " in err and fragment in err


def test_pg_name_of_a_group_without_this_npu(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    _write_inputs(tmp_path, {0: "other"})
    (tmp_path / "groups.json").write_text(json.dumps({"other": [4, 5]}))
    code = main(["run", "--workload", str(tmp_path / "et" / "ar"), "--system",
                 str(tmp_path / "sys.json"), "--network", str(tmp_path / "net.yml"),
                 "--comm-group", str(tmp_path / "groups.json"), "--out", str(tmp_path / "o")])
    assert code != 0
    assert "ar.0.et" in capsys.readouterr().err
