"""Chakra execution traces: writing and reading them back, the wire details upstream's feeder
depends on, gzip, comm_size in other integer kinds, and the committed generated module."""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.cli.main import main
from orchestrator.workload import chakra
from orchestrator.workload.chakra_et_pb2 import (AttributeProto, BytesList, DoubleList,
                                                 GlobalMetadata, Int64List, IOInfo, Node,
                                                 StringList, Uint64List)
from tests.workload.traces import (COLL, COMP, CT, RECV, SEND, cli_argv, network, run, system,
                                   write_configs, write_micro)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MIB = 1 << 20
# 8-NPU Ring (50 GB/s, 500 ns), ring all-reduce 1 MiB, E = 10, splits 4, local-mem-bw 1600:
# per chunk 10 + 14*(1110 + 10) + 7*60 = 16110, four chunks back to back (notes §C1; the
# v2-sysparam reference case).
RING8_AR_1MIB_NS = 64440


def _nodes() -> list[Node]:
    """Nodes carrying every attribute the 2.x feeder reads, in the kind it reads, plus the
    other node fields and a sample of the remaining value kinds."""
    coll_int64 = Node(
        id=0, name="all_reduce", type=COLL,
        attr=[chakra.make_attr("is_cpu_op", False),          # bool_val
              chakra.make_attr("comm_type", CT.ALL_REDUCE),  # int64_val 0, still written
              chakra.make_attr("comm_size", MIB),            # int64_val
              chakra.make_attr("comm_priority", 3),          # int32_val
              chakra.make_attr("involved_dim", [True, False, True]),   # bool_list
              chakra.make_attr("pg_name", "dp_group")])       # string_val
    coll_uint64 = Node(
        id=1, name="all_gather", type=COLL, data_deps=[0],
        attr=[chakra.make_attr("is_cpu_op", False),
              chakra.make_attr("comm_type", CT.ALL_GATHER),
              AttributeProto(name="comm_size", uint64_val=2 * MIB)])
    comp = Node(
        id=2, name="gemm" * 80, type=COMP, data_deps=[0, 1], ctrl_deps=[1],
        start_time_micros=17, duration_micros=50,
        inputs=IOInfo(values="[1]", shapes="[[4, 4]]", types="[float]"),
        outputs=IOInfo(values="[2]", shapes="[[4]]", types="[float]"),
        attr=[chakra.make_attr("is_cpu_op", True),
              chakra.make_attr("num_ops", 123456789),        # int64_val
              chakra.make_attr("tensor_size", 2**64 - 1)])   # uint64_val, largest value
    send = Node(
        id=3, name="send", type=SEND, data_deps=[2],
        attr=[chakra.make_attr("comm_src", 0), chakra.make_attr("comm_dst", 1),
              chakra.make_attr("comm_tag", 99), chakra.make_attr("comm_size", 4096)])
    recv = Node(
        id=2**40, name="recv", type=RECV,
        attr=[chakra.make_attr("comm_src", 1), chakra.make_attr("comm_dst", 0),
              chakra.make_attr("comm_tag", 99), chakra.make_attr("comm_size", 4096)])
    other = Node(
        id=5, name="kinds", type=chakra.NodeType.METADATA_NODE, data_deps=[3, 2**40],
        attr=[AttributeProto(name="d", double_val=0.1),
              AttributeProto(name="f", float_val=0.5),
              AttributeProto(name="i32", int32_val=-7),
              AttributeProto(name="u32", uint32_val=2**32 - 1),
              AttributeProto(name="s64", sint64_val=-2**63),
              AttributeProto(name="x64", sfixed64_val=-5),
              AttributeProto(name="dl", double_list=DoubleList(values=[1.5, -2.0])),
              AttributeProto(name="il", int64_list=Int64List(values=[-1, 0, 2**62])),
              AttributeProto(name="ul", uint64_list=Uint64List(values=[2**64 - 1])),
              AttributeProto(name="sl", string_list=StringList(values=["a", "\u00e9"])),
              AttributeProto(name="b", bytes_val=b"\x00\xff"),
              AttributeProto(name="bl", bytes_list=BytesList(values=[b"", b"x"])),
              AttributeProto(name="doc", doc_string="no value set")])
    return [coll_int64, coll_uint64, comp, send, recv, other]


def test_round_trip_is_identical(tmp_path) -> None:
    nodes = _nodes()
    path = str(tmp_path / "deep" / "w.0.et")         # write_trace creates the folder
    chakra.write_trace(path, nodes, version="0.0.4")
    trace = chakra.read_trace(path)
    assert trace.path == path
    assert trace.metadata == GlobalMetadata(version="0.0.4")
    assert len(trace.nodes) == len(nodes)
    for written, read in zip(nodes, trace.nodes):
        assert read == written, written.name
        assert read.SerializeToString() == written.SerializeToString()
    # the accessors see the values through the kinds they were written in
    coll, gather, comp, send, recv, _ = trace.nodes
    assert chakra.int_attribute(coll, "comm_size", path) == MIB
    assert chakra.int_attribute(gather, "comm_size", path) == 2 * MIB       # uint64_val
    assert chakra.int_attribute(coll, "comm_type", path) == CT.ALL_REDUCE
    assert chakra.int_attribute(coll, "comm_priority", path) == 3
    assert chakra.bool_attribute(coll, "is_cpu_op", path) is False
    assert chakra.bool_attribute(comp, "is_cpu_op", path) is True
    assert chakra.bool_list_attribute(coll, "involved_dim", path) == [True, False, True]
    assert chakra.bool_list_attribute(gather, "involved_dim", path) is None  # absent
    assert chakra.int_attribute(comp, "tensor_size", path) == 2**64 - 1
    assert chakra.int_attribute(comp, "num_ops", path) == 123456789
    assert [chakra.int_attribute(send, key, path) for key in ("comm_src", "comm_dst",
                                                              "comm_tag")] == [0, 1, 99]
    assert list(comp.data_deps) == [0, 1] and list(comp.ctrl_deps) == [1]
    assert recv.id == 2**40


def test_wire_details_upstream_relies_on(tmp_path) -> None:
    """Framing = varint length + message, metadata first; oneof values are written even when
    they hold the default (upstream reads is_cpu_op / comm_type only if present); proto3 drops
    id 0; deps are packed; a length over 127 takes a 2-byte varint."""
    coll = Node(id=0, type=COLL, data_deps=[1, 300],
                attr=[chakra.make_attr("is_cpu_op", False),
                      chakra.make_attr("comm_type", CT.ALL_REDUCE),
                      chakra.make_attr("involved_dim", [True])])
    big = Node(id=7, name="n" * 200, type=COMP, duration_micros=1)
    path = str(tmp_path / "w.0.et")
    chakra.write_trace(path, [coll, big])
    data = Path(path).read_bytes()
    meta = GlobalMetadata(version="0.0.4").SerializeToString()
    assert data[0] == len(meta) and data[1:1 + len(meta)] == meta
    rest = data[1 + len(meta):]
    coll_bytes = coll.SerializeToString()
    assert rest[0] == len(coll_bytes) and rest[1:1 + len(coll_bytes)] == coll_bytes
    assert not coll_bytes.startswith(b"\x08")                    # no field 1 for id 0
    assert b"\x2a\x03\x01\xac\x02" in coll_bytes                 # data_deps packed [1, 300]
    assert b"\xd8\x01\x00" in coll_bytes                         # is_cpu_op: bool_val false
    assert b"\x48\x00" in coll_bytes                             # comm_type: int64_val 0
    assert b"\xe2\x01\x03\x0a\x01\x01" in coll_bytes             # involved_dim [true], packed
    big_frame = rest[1 + len(coll_bytes):]
    big_bytes = big.SerializeToString()
    assert len(big_bytes) > 127
    assert big_frame[:2] == bytes([len(big_bytes) & 0x7F | 0x80, len(big_bytes) >> 7])
    assert chakra.read_trace(path).nodes == [coll, big]


def test_unpacked_dependencies_are_read(tmp_path) -> None:
    """Writers may emit repeated uint64 unpacked (one tag per value); readers must accept it."""
    payload = b"\x08\x05" + b"\x18\x04" + b"\x28\x01" + b"\x28\x02" + b"\x38\x03"
    meta = GlobalMetadata(version="0.0.4").SerializeToString()
    path = tmp_path / "w.0.et"
    path.write_bytes(bytes([len(meta)]) + meta + bytes([len(payload)]) + payload)
    (node,) = chakra.read_trace(str(path)).nodes
    assert node == Node(id=5, type=COMP, data_deps=[1, 2], duration_micros=3)


def test_gzip_compressed_trace_is_read(tmp_path) -> None:
    nodes = _nodes()
    plain = str(tmp_path / "plain.0.et")
    chakra.write_trace(plain, nodes)
    packed = tmp_path / "packed.0.et"
    packed.write_bytes(gzip.compress(Path(plain).read_bytes()))
    assert packed.read_bytes()[:2] == b"\x1f\x8b"
    trace = chakra.read_trace(str(packed))
    assert trace.nodes == nodes
    assert trace.metadata.version == "0.0.4"


def test_gzip_compressed_traces_simulate_like_plain_ones(tmp_path) -> None:
    prefix = write_micro(tmp_path, 8, CT.ALL_REDUCE, MIB)
    for npu in range(8):
        path = chakra.trace_path(prefix, npu)
        with open(path, "rb") as handle:
            data = handle.read()
        with open(path, "wb") as handle:
            handle.write(gzip.compress(data))
    result = run(prefix, system(), network())
    assert result.total_ns == RING8_AR_1MIB_NS


@pytest.mark.parametrize("size_kind", ["int64_val", "uint64_val", "uint32_val", "int32_val",
                                       "sint64_val", "fixed64_val", "sfixed64_val"])
def test_comm_size_in_any_integer_kind_runs_the_collective(tmp_path, size_kind) -> None:
    """Upstream's feeder reads comm_size from int64_val only (a uint64_val comm_size reads as 0
    there and the all-reduce shrinks to 4 chunks of 8 B); astra-cosim accepts every integer kind
    (chakra.py's documented choice), so the 1 MiB all-reduce takes the int64 time."""
    prefix = write_micro(tmp_path, 8, CT.ALL_REDUCE, MIB, size_kind=size_kind)
    result = run(prefix, system(), network())
    assert result.total_ns == RING8_AR_1MIB_NS
    assert result.finish_ns == [RING8_AR_1MIB_NS] * 8


@pytest.mark.parametrize("backend", ["analytical", "analytical-aware"])
def test_comm_size_uint64_through_the_cli_equals_int64(tmp_path, backend) -> None:
    sys_path, net_path = write_configs(tmp_path)
    totals = {}
    for kind in ("int64_val", "uint64_val"):
        prefix = write_micro(tmp_path / "et", 8, CT.ALL_REDUCE, MIB, size_kind=kind)
        out = tmp_path / f"out_{kind}"
        assert main(cli_argv(prefix, sys_path, net_path, out, backend)) == 0
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        totals[kind] = (summary["total_ns"], summary["finish_ns"], summary["exposed_comm_ns"])
    assert totals["uint64_val"] == totals["int64_val"]
    assert totals["int64_val"][0] == RING8_AR_1MIB_NS        # ring neighbours: no contention


def test_two_npu_ring_all_reduce_uint64(tmp_path) -> None:
    """2 NPUs: per chunk (C = 262144, m = C/2 = 131072, d = trunc(500 + 2441.41) = 2941,
    R = 3*81 = 243): E + 2(d + E) + R = 10 + 5902 + 243 = 6155; four chunks: 24620."""
    prefix = write_micro(tmp_path, 2, CT.ALL_REDUCE, MIB, size_kind="uint64_val")
    result = run(prefix, system(), network(npus=2))
    assert result.total_ns == 4 * (10 + 2 * (2941 + 10) + 243) == 24620


def test_generated_module_matches_the_schema() -> None:
    if importlib.util.find_spec("grpc_tools") is None:
        pytest.skip("grpcio-tools is not installed (pip install -e .[test]); cannot regenerate "
                    "protos/chakra_et.proto to compare")
    done = subprocess.run([sys.executable, os.path.join("protos", "generate.py"), "--check"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
