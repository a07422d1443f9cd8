"""Broken Chakra traces through the CLI contract: a non-zero exit, no traceback, one line on
stderr that names the trace file (and the node where one is to blame).

Each test writes its own small traces (``chakra.write_trace`` + ``make_attr``) and its own
2.x system JSON and network YAML into ``tmp_path``: an 8-NPU Ring, ring all-reduce setup.
Where upstream ASTRA-sim 2.x would wait forever (cycles, missing parents, unsupported
collectives, unmatched receives) astra-cosim must stop and say why - the tests that could hang
run the CLI in a subprocess with a timeout.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.cli.main import main
from orchestrator.workload import chakra
from orchestrator.workload.chakra_et_pb2 import Node
from tests.workload.traces import (CT, RECV, cli_argv, coll_node, comp_node, write_configs,
                                   write_micro, write_traces)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MIB = 1 << 20
NPUS = 8


def one_line_error(code: int, err: str) -> str:
    assert code != 0, err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    assert lines[0].startswith("astra-cosim: error: "), lines[0]
    return lines[0]


def cli_error(capsys, tmp_path: Path, prefix: str, backend: str = "analytical") -> str:
    sys_path, net_path = write_configs(tmp_path)
    code = main(cli_argv(prefix, sys_path, net_path, tmp_path / "out", backend))
    captured = capsys.readouterr()
    assert not (tmp_path / "out" / "summary.json").exists()
    return one_line_error(code, captured.err)


def cli_error_subprocess(tmp_path: Path, prefix: str, backend: str = "analytical") -> str:
    """The CLI in its own process, so a run that never ends fails the test instead of
    hanging it."""
    sys_path, net_path = write_configs(tmp_path)
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("ASTRA_COSIM_DEBUG", None)
    done = subprocess.run([sys.executable, "-m", "orchestrator",
                           *cli_argv(prefix, sys_path, net_path, tmp_path / "out", backend)],
                          capture_output=True, text=True, timeout=60, cwd=ROOT, env=env)
    return one_line_error(done.returncode, done.stderr)


def names_node(line: str, node_id: int) -> bool:
    """The id appears as a number of its own (not inside 1000 ns or coll4)."""
    return re.search(rf"(?<![\w.]){node_id}(?![\w.])", line) is not None


def micro(tmp_path: Path, name: str = "w") -> str:
    return write_micro(tmp_path / "et", NPUS, CT.ALL_REDUCE, MIB, name=name)


# --- file-level damage -------------------------------------------------------------------------

def test_truncated_trace_mid_message(capsys, tmp_path) -> None:
    prefix = micro(tmp_path)
    path = chakra.trace_path(prefix, 3)
    data = Path(path).read_bytes()
    Path(path).write_bytes(data[:-5])                 # cut inside the node message
    line = cli_error(capsys, tmp_path, prefix)
    assert f"{path}: " in line
    assert "message 1" in line and "file ends" in line


def test_truncated_trace_inside_the_length_prefix(capsys, tmp_path) -> None:
    prefix = micro(tmp_path)
    path = chakra.trace_path(prefix, 2)
    node = Node(id=1, name="n" * 300, type=chakra.NodeType.COMP_NODE, duration_micros=1)
    data = Path(path).read_bytes()
    payload = node.SerializeToString()                # length needs a 2-byte varint
    Path(path).write_bytes(data + bytes([len(payload) & 0x7F | 0x80]))
    line = cli_error(capsys, tmp_path, prefix)
    assert f"{path}: " in line and "length prefix" in line


def test_corrupt_node_bytes(capsys, tmp_path) -> None:
    prefix = micro(tmp_path)
    path = chakra.trace_path(prefix, 5)
    data = Path(path).read_bytes()
    meta_end = 1 + data[0]
    body_len = data[meta_end]
    Path(path).write_bytes(data[:meta_end + 1] + b"\xff" * body_len)   # same frame, garbage
    line = cli_error(capsys, tmp_path, prefix)
    assert f"{path}: " in line
    assert "not a Chakra execution trace" in line and "message 1" in line


def test_text_file_instead_of_a_trace(capsys, tmp_path) -> None:
    prefix = micro(tmp_path)
    path = chakra.trace_path(prefix, 0)
    Path(path).write_text("MICRO\n1\nmicro -1 1 NONE 0 1 NONE 0 1 ALLREDUCE 1048576 1\n")
    line = cli_error(capsys, tmp_path, prefix)
    assert f"{path}: " in line


def test_empty_trace_file(capsys, tmp_path) -> None:
    prefix = micro(tmp_path)
    path = chakra.trace_path(prefix, 6)
    Path(path).write_bytes(b"")
    line = cli_error(capsys, tmp_path, prefix)
    assert f"{path}: " in line and "GlobalMetadata" in line


def test_missing_per_npu_trace(capsys, tmp_path) -> None:
    """The network has 8 NPUs but only <prefix>.0.et ... <prefix>.6.et exist."""
    prefix = write_micro(tmp_path / "et", NPUS - 1, CT.ALL_REDUCE, MIB, name="seven")
    line = cli_error(capsys, tmp_path, prefix)
    assert f"{chakra.trace_path(prefix, 7)}: " in line
    assert "8 NPUs" in line and "NPU 7" in line


def test_missing_per_npu_trace_names_the_missing_file(capsys, tmp_path) -> None:
    prefix = micro(tmp_path, "gap")
    os.remove(chakra.trace_path(prefix, 4))           # .0-.3 and .5-.7 exist
    line = cli_error(capsys, tmp_path, prefix)
    assert chakra.trace_path(prefix, 4) in line


# --- graph-level problems ----------------------------------------------------------------------

def test_dependency_on_a_missing_node(capsys, tmp_path) -> None:
    good = [coll_node(0, CT.ALL_REDUCE, MIB)]
    bad = [coll_node(0, CT.ALL_REDUCE, MIB), comp_node(1, 5, deps=[0, 42])]
    prefix = write_traces(tmp_path / "et", "w", [good] * 5 + [bad] + [good] * 2)
    line = cli_error(capsys, tmp_path, prefix)
    assert f"{chakra.trace_path(prefix, 5)}: " in line
    assert "node 1 " in line and names_node(line, 42)


@pytest.mark.parametrize("graph, on_cycle", [
    ([comp_node(0, 5), comp_node(1, 5, deps=[2]), comp_node(2, 5, deps=[1])], [1, 2]),
    ([comp_node(7, 5, deps=[7])], [7]),                                  # self-dependency
    ([comp_node(1, 5, deps=[3]), comp_node(2, 5, deps=[1]), comp_node(3, 5, deps=[2])],
     [1, 2, 3]),
], ids=["1<->2", "self", "1->2->3->1"])
def test_dependency_cycle_is_reported_not_hung(tmp_path, graph, on_cycle) -> None:
    good = [comp_node(0, 5)]
    prefix = write_traces(tmp_path / "et", "w", [graph] + [good] * (NPUS - 1))
    line = cli_error_subprocess(tmp_path, prefix)
    assert f"{chakra.trace_path(prefix, 0)}: " in line
    assert "cycle" in line
    shown = line.split("nodes", 1)[1] if "nodes" in line else line
    for node_id in on_cycle:
        assert names_node(shown, node_id)
    if 0 not in on_cycle:
        assert not names_node(shown, 0)           # node 0 is not part of the cycle


@pytest.mark.parametrize("comm_type", [CT.GATHER, CT.REDUCE, CT.SCATTER,
                                       CT.REDUCE_SCATTER_BLOCK, CT.BARRIER, 42])
def test_unsupported_collective_type(capsys, tmp_path, comm_type) -> None:
    """Upstream generates nothing for these and hangs with the comm slot held."""
    good = [coll_node(0, CT.ALL_REDUCE, MIB)]
    bad = [coll_node(0, CT.ALL_REDUCE, MIB), coll_node(9, comm_type, MIB, deps=[0])]
    prefix = write_traces(tmp_path / "et", "w", [good] * 3 + [bad] + [good] * 4)
    line = cli_error(capsys, tmp_path, prefix)
    assert f"{chakra.trace_path(prefix, 3)}: " in line
    assert "node 9 " in line
    name = CT.Name(comm_type) if comm_type in CT.values() else str(comm_type)
    assert name in line


def _recv(node_id: int, src: int, dst: int, tag: int) -> Node:
    return Node(id=node_id, name=f"recv{node_id}", type=RECV,
                attr=[chakra.make_attr("is_cpu_op", False), chakra.make_attr("comm_src", src),
                      chakra.make_attr("comm_dst", dst), chakra.make_attr("comm_tag", tag),
                      chakra.make_attr("comm_size", 1024)])


def test_receive_without_a_send_is_refused_before_the_run(tmp_path) -> None:
    """NPU 2 waits for a message from NPU 1 that no trace sends (upstream waits forever): the
    traces are refused when they are read, naming NPU 2's trace, the RECV node and the peer."""
    idle = [comp_node(0, 1)]
    waiting = [comp_node(0, 1), _recv(10, 1, 2, 7), comp_node(11, 3, deps=[10])]
    prefix = write_traces(tmp_path / "et", "w", [idle] * 2 + [waiting] + [idle] * 5)
    line = cli_error_subprocess(tmp_path, prefix)
    assert f"{chakra.trace_path(prefix, 2)}: " in line
    assert "NPU 2" in line and "NPU 1" in line and "tag 7" in line
    assert names_node(line, 10)
    assert "wait forever" in line


def test_collective_issued_by_one_npu_only_reports_stuck_nodes(tmp_path) -> None:
    """Only NPU 0 joins the all-reduce: its peers never send, so it can never finish."""
    prefix = write_traces(tmp_path / "et", "w",
                          [[coll_node(4, CT.ALL_REDUCE, MIB)]] + [[comp_node(0, 1)]] * 7)
    line = cli_error_subprocess(tmp_path, prefix, "analytical-aware")
    assert "NPU 0" in line and names_node(line, 4)


def test_duplicated_dependency_is_rejected(tmp_path) -> None:
    """data_deps [0, 0]: upstream's feeder clears one occurrence per finished parent, so the
    child would wait forever; astra-cosim rejects the trace up front, naming node and parent."""
    graph = [comp_node(0, 1), comp_node(5, 1, deps=[0, 0])]
    prefix = write_traces(tmp_path / "et", "w", [graph] * NPUS)
    line = cli_error_subprocess(tmp_path, prefix)
    assert names_node(line, 5) and "dependency 0 twice" in line


def test_stuck_report_names_the_trace_file(tmp_path) -> None:
    idle = [comp_node(0, 1)]
    waiting = [_recv(10, 1, 2, 7)]
    prefix = write_traces(tmp_path / "et", "w", [idle] * 2 + [waiting] + [idle] * 5)
    line = cli_error_subprocess(tmp_path, prefix)
    assert chakra.trace_path(prefix, 2) in line
