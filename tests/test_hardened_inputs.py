"""A corpus of malformed inputs, generated per test in ``tmp_path``: every one must be refused
with exit 2 and one line ``astra-cosim: error: ...`` naming the file (or option) and the field
at fault - never a traceback, never a silent run, never a result folder.

The classes (issue 14): values outside int64 or the simulated clock, NaN / Infinity in
network, system, option and experiment files, keys given twice, SEND/RECV peers that do not
exist or never meet, more traces than NPUs, corrupt gzip traces, experiment names that leave
``results/``, and ``--out`` / ``--trace`` paths that cannot be written (checked before the run).
Each case starts from a valid 8-NPU ring input and breaks it in one place.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from orchestrator.cli import run as run_cli
from orchestrator.cli.main import main
from orchestrator.workload import chakra
from orchestrator.workload.chakra_et_pb2 import AttributeProto, Node
from tests.workload.traces import (CT, RECV, SEND, coll_node, comp_node, network, network_yaml,
                                   system, write_traces)

NPUS = 8
MIB = 1 << 20
NOT_UTF8 = b"\xbc\xff\x97 not text"

SYSTEM_V1 = ("scheduling-policy: LIFO\nendpoint-delay: 10\nactive-chunks-per-dimension: 1\n"
             "preferred-dataset-splits: 4\nboost-mode: 0\nall-reduce-implementation: ring\n"
             "all-gather-implementation: ring\nreduce-scatter-implementation: ring\n"
             "all-to-all-implementation: direct\ncollective-optimization: localBWAware\n")
NETWORK_V1 = ('{"dimensions-count": 1, "topologies-per-dim": ["Ring"], "units-count": [8], '
              '"links-count": [2], "link-latency": [500], "link-bandwidth": [50]}')
DATA_LAYER = "l{n} -1 {fwd} NONE 0 {ig} NONE 0 {wg} ALLREDUCE {size} 10"



def assert_refused_in_one_line(code: int, err: str, *fragments: str) -> None:
    """Exit 2, no traceback, one ``astra-cosim: error:`` line holding every fragment."""
    assert code == 2 and "Traceback" not in err, f"exit {code}; stderr:\n{err}"
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("astra-cosim: error: "), err
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} missing from: {lines[0]}"

def data_workload(fwd: int = 1000, ig: int = 1000, wg: int = 1000, size: int = MIB,
                  layers: int = 1) -> str:
    body = "\n".join(DATA_LAYER.format(n=n, fwd=fwd, ig=ig, wg=wg, size=size)
                     for n in range(layers))
    return f"DATA\n{layers}\n{body}\n"


class Case:
    """The files of one run in ``root``; ``argv`` runs it into ``root/out``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, name: str, text: str | bytes) -> str:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return str(path)

    def v1(self, workload: str | None = None, system_text: str = SYSTEM_V1,
           network_text: str = NETWORK_V1, *extra: str) -> list[str]:
        return ["run", "--workload", self.write("workload.txt", workload or data_workload()),
                "--system", self.write("system.txt", system_text),
                "--network", self.write("network.json", network_text),
                "--out", str(self.root / "out"), "--quiet", *extra]

    def v2(self, per_npu: list[list[Node]] | None = None, sys_text: str | None = None,
           net_text: str | None = None, *extra: str) -> list[str]:
        if per_npu is None:
            per_npu = [[coll_node(0, CT.ALL_REDUCE, MIB)]] * NPUS
        prefix = write_traces(self.root, "et", per_npu)
        return ["run", "--workload", prefix,
                "--system", self.write("system.json", sys_text or json.dumps(system())),
                "--network", self.write("network.yml", net_text or network_yaml(network())),
                "--out", str(self.root / "out"), "--quiet", *extra]

    def experiment(self, text: str, *extra: str) -> list[str]:
        self.write("workload.txt", data_workload())
        self.write("system.txt", SYSTEM_V1)
        self.write("network.json", NETWORK_V1)
        return ["run", self.write("exp.yaml", text), "--out", str(self.root / "out"),
                "--quiet", *extra]


def point_to_point(kind: int, npu: int, peer: int, size: int = MIB, tag: int = 7) -> Node:
    field = "comm_dst" if kind == SEND else "comm_src"
    return Node(id=1, name="send" if kind == SEND else "recv", type=kind, attr=[
        chakra.make_attr("is_cpu_op", False), chakra.make_attr(field, peer),
        chakra.make_attr("comm_tag", tag), chakra.make_attr("comm_size", size)])


def exchange(sender_dst: int = 1, receiver_src: int = 0, recv_on: int = 1,
             with_recv: bool = True) -> list[list[Node]]:
    """NPU 0 sends to ``sender_dst``; ``recv_on`` posts a receive from ``receiver_src``."""
    per_npu: list[list[Node]] = [[comp_node(0, 1)] for _ in range(NPUS)]
    per_npu[0] = [comp_node(0, 1), point_to_point(SEND, 0, sender_dst)]
    if with_recv:
        per_npu[recv_on] = [comp_node(0, 1), point_to_point(RECV, recv_on, receiver_src)]
    return per_npu


def shaped(**shape: dict[str, int]) -> list[list[Node]]:
    """One COMP node per NPU carrying a compute shape (``num_ops={"int64_val": -5}``)."""
    node = Node(id=0, name="mm", type=chakra.NodeType.COMP_NODE, duration_micros=5,
                attr=[chakra.make_attr("is_cpu_op", False)] +
                [AttributeProto(name=name, **value) for name, value in shape.items()])
    return [[node]] * NPUS


ROOFLINE_SYSTEM = json.dumps(system(peak_perf=900, roofline_enabled=1))


def without_peer(per_npu: list[list[Node]], npu: int) -> list[list[Node]]:
    """``per_npu`` with NPU ``npu``'s SEND/RECV stripped of its comm_dst/comm_src."""
    nodes = []
    for node in per_npu[npu]:
        copy = Node()
        copy.CopyFrom(node)
        keep = [attr for attr in copy.attr if attr.name not in ("comm_dst", "comm_src")]
        del copy.attr[:]
        copy.attr.extend(keep)
        nodes.append(copy)
    return per_npu[:npu] + [nodes] + per_npu[npu + 1:]


def without_comm_type() -> list[list[Node]]:
    """An all-reduce per NPU whose node lost its comm_type attribute."""
    node = Node()
    node.CopyFrom(coll_node(0, CT.ALL_GATHER, MIB))
    keep = [attr for attr in node.attr if attr.name != "comm_type"]
    del node.attr[:]
    node.attr.extend(keep)
    return [[node]] * NPUS


def sized(size: int, kind: str = "int64_val") -> list[list[Node]]:
    return [[coll_node(0, CT.ALL_REDUCE, size, size_kind=kind)]] * NPUS


def v2_net(**changes: str) -> str:
    values = {"topology": "Ring", "npus_count": "8", "bandwidth": "50.0", "latency": "500.0"}
    return "".join(f"{key}: [ {value} ]\n" for key, value in (values | changes).items())


def v1_net(**changes: object) -> str:
    doc = json.loads(NETWORK_V1)
    for key, value in changes.items():
        doc[key.replace("_", "-")] = value
    # json.dumps writes float('nan') / float('inf') as NaN / Infinity, as a user's file might
    return json.dumps(doc)


def spoiled(case: Case, argv: list[str], name: str) -> list[str]:
    """``argv`` with its file ``name`` overwritten by bytes that are not UTF-8."""
    case.write(name, NOT_UTF8)
    return argv


def gzipped_trace(case: Case, damage: Callable[[bytes], bytes]) -> list[str]:
    argv = case.v2()
    prefix = argv[argv.index("--workload") + 1]
    path = chakra.trace_path(prefix, 3)
    with open(path, "rb") as handle:
        data = gzip.compress(handle.read())
    with open(path, "wb") as handle:
        handle.write(damage(data))
    return argv


def stray_trace(case: Case) -> list[str]:
    """Traces 0-7 for the 8 NPUs, and one more for an NPU 12 (not consecutive)."""
    argv = case.v2()
    prefix = argv[argv.index("--workload") + 1]
    chakra.write_trace(chakra.trace_path(prefix, 12), [coll_node(0, CT.ALL_REDUCE, MIB)])
    return argv


def experiment_text(name: str = "good", timeout: str = "30", comm_scale: str = "1",
                    network_config: str = "network.json") -> str:
    return (f"name: {name}\nworkload: workload.txt\nsystem: system.txt\nnetwork:\n"
            f"  backend: analytical\n  config: {network_config}\n  timeout_s: {timeout}\n"
            f"options: {{comm_scale: {comm_scale}}}\n")


# id -> (build argv in tmp_path, fragments the error line must contain)
CORPUS: dict[str, tuple[Callable[[Case], list[str]], tuple[str, ...]]] = {
    # Chakra sizes: 0, negative, >= 2^63 (uint64), and 2^62 scaled past int64
    "chakra-comm-size-0": (lambda c: c.v2(sized(0)), ("et.0.et", "comm_size 0", ">= 1 byte")),
    "chakra-comm-size-negative": (lambda c: c.v2(sized(-4096)), ("et.0.et", "comm_size -4096")),
    "chakra-comm-size-2^63": (lambda c: c.v2(sized(1 << 63, "uint64_val")),
                              ("et.0.et", "comm_size", "int64")),
    "chakra-comm-size-2^64-1": (lambda c: c.v2(sized((1 << 64) - 1, "uint64_val")),
                                ("et.0.et", "int64")),
    "chakra-comm-size-scaled-past-int64": (
        lambda c: c.v2(sized(1 << 62), None, None, "--comm-scale", "4"),
        ("et.0.et", "comm-scale 4", "int64")),
    # each size fits int64, but what NPU 0 sends in total does not: an error, not a number
    "chakra-payload-beyond-int64": (
        lambda c: c.v2([[coll_node(0, CT.ALL_GATHER, 1 << 62)]] * NPUS),
        ("NPU 0 sent", "more than int64")),
    "chakra-compute-beyond-clock": (
        lambda c: c.v2([[comp_node(0, 1 << 60)]] * NPUS), ("et.0.et", "duration_micros")),
    # compute shapes: a negative count was timed as no work, uint64 counts as figures no run
    # has, and a roofline too slow for the clock ended in an OverflowError traceback
    "chakra-num-ops-negative": (
        lambda c: c.v2(shaped(num_ops={"int64_val": -5}, tensor_size={"uint64_val": 100}),
                       ROOFLINE_SYSTEM), ("et.0.et", "num_ops is -5", "0 to")),
    "chakra-tensor-size-2^64-1": (
        lambda c: c.v2(shaped(num_ops={"uint64_val": 100},
                              tensor_size={"uint64_val": (1 << 64) - 1}), ROOFLINE_SYSTEM),
        ("et.0.et", f"tensor_size is {(1 << 64) - 1}", "int64")),
    "chakra-gemm-k-2^63": (
        lambda c: c.v2(shaped(gemm_m={"int64_val": 8}, gemm_n={"int64_val": 8},
                              gemm_k={"uint64_val": 1 << 63}), ROOFLINE_SYSTEM),
        ("et.0.et", "gemm_k is", "int64")),
    "roofline-peak-1e-300": (
        lambda c: c.v2(shaped(num_ops={"uint64_val": 1 << 40}, tensor_size={"uint64_val": 100}),
                       json.dumps(system(peak_perf=1e-300, roofline_enabled=1))),
        ("et.0.et", "simulated time passed")),
    # a SEND/RECV without its peer was taken as NPU 0 (protobuf's default) and ran
    "chakra-recv-without-comm_src": (
        lambda c: c.v2(without_peer(exchange(), 1)), ("et.1.et", "RECV without comm_src")),
    # a collective without comm_type ran as protobuf's default, ALL_REDUCE
    "chakra-collective-without-comm_type": (
        lambda c: c.v2(without_comm_type()), ("et.0.et", "COMM_COLL_NODE without comm_type")),
    "chakra-send-without-comm_dst": (
        lambda c: c.v2(without_peer(exchange(), 0)),
        ("et.0.et", "SEND without comm_dst")),
    "chakra-send-to-99": (lambda c: c.v2(exchange(sender_dst=99)),
                          ("et.0.et", "comm_dst is 99", "0 to 7")),
    "chakra-send-to-minus-1": (lambda c: c.v2(exchange(sender_dst=-1)),
                               ("et.0.et", "comm_dst is -1")),
    "chakra-recv-from-99": (lambda c: c.v2(exchange(receiver_src=99)),
                            ("et.1.et", "comm_src is 99")),
    "chakra-send-nobody-receives": (lambda c: c.v2(exchange(with_recv=False)),
                                    ("et.0.et", "SEND", "NPU 1", "in flight")),
    "chakra-send-received-by-wrong-npu": (lambda c: c.v2(exchange(recv_on=2)),
                                          ("et.", "SEND")),
    "chakra-gzip-corrupt": (lambda c: gzipped_trace(c, lambda d: d[:10] + b"\x00garbage" * 9),
                            ("et.3.et", "gzip")),
    "chakra-gzip-truncated": (lambda c: gzipped_trace(c, lambda d: d[:len(d) // 2]),
                              ("et.3.et", "gzip")),
    "chakra-more-traces-than-npus": (
        lambda c: c.v2(None, None, v2_net(npus_count="4")), ("network.yml", "et.4.et",
                                                             "4 NPUs")),
    "chakra-a-trace-for-npu-12-of-8": (stray_trace, ("network.yml", "et.12.et", "8 NPUs")),
    # 2.x network YAML and system JSON: NaN / Infinity, keys twice
    "v2-bandwidth-inf": (lambda c: c.v2(None, None, v2_net(bandwidth=".inf")),
                         ("network.yml", "bandwidth[0]", "finite")),
    "v2-latency-inf": (lambda c: c.v2(None, None, v2_net(latency=".inf")),
                       ("network.yml", "latency[0]", "finite")),
    "v2-bandwidth-nan": (lambda c: c.v2(None, None, v2_net(bandwidth=".nan")),
                         ("network.yml", "bandwidth[0]")),
    "v2-latency-nan": (lambda c: c.v2(None, None, v2_net(latency=".NaN")),
                       ("network.yml", "latency[0]")),
    "v2-network-key-twice": (lambda c: c.v2(None, None, v2_net() + "bandwidth: [ 10.0 ]\n"),
                             ("network.yml:5", "'bandwidth' is given twice")),
    "v2-npus-count-2^40": (lambda c: c.v2(None, None, v2_net(npus_count=str(1 << 40))),
                           ("network.yml", "npus_count", "2^31 - 1")),
    "v2-local-mem-bw-nan": (lambda c: c.v2(None, json.dumps(system(local_mem_bw=float("nan")))),
                            ("system.json", "local-mem-bw", "finite")),
    "v2-peak-perf-inf": (lambda c: c.v2(None, json.dumps(system(peak_perf=float("inf")))),
                         ("system.json", "peak-perf")),
    "v2-system-key-twice": (lambda c: c.v2(None, json.dumps(system())[:-1] +
                                           ', "endpoint-delay": 99}'),
                            ("system.json", "'endpoint-delay' is given twice")),
    "v2-comm-scale-inf": (lambda c: c.v2(None, None, None, "--comm-scale", "inf"),
                          ("comm_scale", "finite")),
    # 1.0 network JSON, system file, workload, options
    "v1-bandwidth-infinity": (lambda c: c.v1(None, SYSTEM_V1, v1_net(link_bandwidth=[float("inf")])),
                              ("network.json", "link-bandwidth[0]", "finite")),
    "v1-latency-infinity": (lambda c: c.v1(None, SYSTEM_V1, v1_net(link_latency=[float("inf")])),
                            ("network.json", "link-latency[0]")),
    "v1-bandwidth-nan": (lambda c: c.v1(None, SYSTEM_V1, v1_net(link_bandwidth=[float("nan")])),
                         ("network.json", "link-bandwidth[0]")),
    "v1-latency-nan": (lambda c: c.v1(None, SYSTEM_V1, v1_net(link_latency=[float("nan")])),
                       ("network.json", "link-latency[0]")),
    "v1-nic-latency-nan": (lambda c: c.v1(None, SYSTEM_V1, v1_net(nic_latency=[float("nan")])),
                           ("network.json", "nic-latency[0]")),
    "v1-network-key-twice": (lambda c: c.v1(None, SYSTEM_V1, NETWORK_V1[:-1] +
                                            ', "link-bandwidth": [5]}'),
                             ("network.json", "'link-bandwidth' is given twice")),
    "v1-system-key-twice": (lambda c: c.v1(None, SYSTEM_V1 + "endpoint-delay: 500\n"),
                            ("system.txt:11", "'endpoint-delay' is given twice", "line 2")),
    "v1-system-algorithm-twice": (
        lambda c: c.v1(None, "all-reduce-implementation: direct\n" + SYSTEM_V1),
        ("system.txt:7", "'all-reduce-implementation' is given twice")),
    "v1-collective-2^70-bytes": (lambda c: c.v1(data_workload(size=1 << 70)),
                                 ("workload.txt:3", "wg_comm_bytes", "int64")),
    "v1-compute-10^30-cycles": (lambda c: c.v1(data_workload(fwd=10 ** 30)),
                                ("workload.txt:3", "fwd_compute", "2^62")),
    "v1-compute-summing-past-the-clock": (
        lambda c: c.v1(data_workload(fwd=10 ** 18, ig=10 ** 18, wg=10 ** 18, layers=2)),
        ("simulated time passed",)),
    "v1-units-count-10^20": (lambda c: c.v1(None, SYSTEM_V1, v1_net(units_count=[10 ** 20])),
                             ("network.json", "units-count", "2^31 - 1")),
    "v1-latency-beyond-the-clock": (lambda c: c.v1(None, SYSTEM_V1, v1_net(link_latency=[1e300])),
                                    ("simulated time passed",)),
    "v1-bandwidth-tiny": (lambda c: c.v1(None, SYSTEM_V1, v1_net(link_bandwidth=[1e-300])),
                          ("simulated time passed",)),
    "v1-endpoint-delay-beyond-int64": (
        lambda c: c.v1(None, SYSTEM_V1.replace("endpoint-delay: 10", f"endpoint-delay: {1 << 64}")),
        ("system.txt:2", "endpoint-delay", "int64")),
    "v1-comm-scale-inf": (lambda c: c.v1(None, SYSTEM_V1, NETWORK_V1, "--comm-scale", "inf"),
                          ("comm_scale", "finite")),
    "v1-comm-scale-nan": (lambda c: c.v1(None, SYSTEM_V1, NETWORK_V1, "--comm-scale", "nan"),
                          ("comm_scale",)),
    "v1-comm-scale-beyond-float32": (
        lambda c: c.v1(None, SYSTEM_V1, NETWORK_V1, "--comm-scale", "1e300"),
        ("workload.txt:3", "32-bit float")),
    "v1-adapter-timeout-nan": (lambda c: c.v1(None, SYSTEM_V1, NETWORK_V1,
                                              "--adapter-timeout", "nan"),
                               ("--adapter-timeout", "finite")),
    "v1-adapter-timeout-inf": (lambda c: c.v1(None, SYSTEM_V1, NETWORK_V1,
                                              "--adapter-timeout", "inf"),
                               ("--adapter-timeout",)),
    "v1-num-passes-10^20": (lambda c: c.v1(None, SYSTEM_V1, NETWORK_V1,
                                           "--num-passes", str(10 ** 20)),
                            ("num_passes", "at most 2147483647")),
    "v1-progress-interval-nan": (lambda c: c.v1(None, SYSTEM_V1, NETWORK_V1,
                                                "--progress-interval", "nan"),
                                 ("--progress-interval", "finite")),
    "v2-progress-interval-inf": (lambda c: c.v2(None, None, None, "--progress-interval", "inf"),
                                 ("--progress-interval", "finite")),
    # files that are not UTF-8 text: UnicodeDecodeError tracebacks
    "v1-system-not-utf8": (lambda c: spoiled(c, c.v1(), "system.txt"),
                           ("system.txt", "not UTF-8 text")),
    "v1-network-not-utf8": (lambda c: spoiled(c, c.v1(), "network.json"),
                            ("network.json", "not UTF-8 text", "0xbc")),
    "v2-network-not-utf8": (lambda c: spoiled(c, c.v2(), "network.yml"),
                            ("network.yml", "not UTF-8 text")),
    "experiment-not-utf8": (lambda c: spoiled(c, c.experiment("name: x\n"), "exp.yaml"),
                            ("exp.yaml", "not UTF-8 text")),
    # experiment YAML
    "experiment-num-passes-10^20": (
        lambda c: c.experiment(experiment_text().replace("comm_scale: 1",
                                                         f"num_passes: {10 ** 20}")),
        ("exp.yaml", "num_passes", "2147483647")),
    "experiment-control-character": (lambda c: c.experiment("name: a\x00b\n"),
                                     ("exp.yaml", "not valid YAML", "#x0000")),
    "experiment-timeout-nan": (lambda c: c.experiment(experiment_text(timeout=".nan")),
                               ("exp.yaml", "network.timeout_s", "finite")),
    "experiment-timeout-inf": (lambda c: c.experiment(experiment_text(timeout=".inf")),
                               ("exp.yaml", "network.timeout_s")),
    "experiment-comm-scale-inf": (lambda c: c.experiment(experiment_text(comm_scale=".inf")),
                                  ("exp.yaml", "comm_scale", "finite")),
    "experiment-comm-scale-nan": (lambda c: c.experiment(experiment_text(comm_scale=".nan")),
                                  ("exp.yaml", "comm_scale")),
    "experiment-name-escapes": (lambda c: c.experiment(experiment_text(name="../../somewhere")),
                                ("exp.yaml", "name", "'../../somewhere'")),
    "experiment-name-with-slash": (lambda c: c.experiment(experiment_text(name="a/b")),
                                   ("exp.yaml", "name")),
    "experiment-name-dotdot": (lambda c: c.experiment(experiment_text(name="'..'")),
                               ("exp.yaml", "name")),
    "experiment-key-twice": (lambda c: c.experiment(experiment_text() + "name: other\n"),
                             ("exp.yaml:9", "'name' is given twice")),
    "experiment-inline-bandwidth-nan": (
        lambda c: c.experiment(experiment_text(network_config="{" + ", ".join(
            ['"topologies-per-dim": [Ring]', '"units-count": [8]', '"links-count": [2]',
             '"link-latency": [500]', '"link-bandwidth": [.nan]']) + "}")),
        ("exp.yaml", "link-bandwidth[0]")),
    # a node type protobuf keeps but Chakra has not: a ValueError traceback from NodeType.Name
    "chakra-node-type-99": (
        lambda c: c.v2([[Node(id=0, name="x", type=99, duration_micros=5)]] * NPUS),
        ("et.0.et", "node 0 ('x'): node type 99 is not a Chakra NodeType", "COMP_NODE 4")),
    # numbers Python's int() reads but upstream's C++ readers do not (1_000: 1, then garbage)
    "v1-compute-with-underscore": (lambda c: c.v1(data_workload().replace("-1 1000", "-1 1_000")),
                                   ("workload.txt:3", "fwd_compute: found '1_000'")),
    "v1-compute-in-arabic-digits": (
        lambda c: c.v1(data_workload().replace("-1 1000", "-1 \u0661\u0660\u0660\u0660")),
        ("workload.txt:3", "fwd_compute: found", "whole number")),
    "v1-reserved-column-a-word": (lambda c: c.v1(data_workload().replace("l0 -1", "l0 dep")),
                                  ("workload.txt:3", "column reserved: found 'dep'")),
    "v1-system-value-with-underscore": (
        lambda c: c.v1(None, SYSTEM_V1.replace("endpoint-delay: 10", "endpoint-delay: 1_0")),
        ("system.txt:2", "endpoint-delay: found '1_0'")),
    # a folder (or /dev/null) as the workload was reported as "No such file or directory"
    "v1-workload-a-folder": (lambda c: (lambda a: a[:2] + [str(c.root)] + a[3:])(c.v1()),
                             ("the workload is a folder",)),
    # an endpoint ZeroMQ refuses as an address: a ZMQError traceback
    "v1-adapter-endpoint-not-a-port": (
        lambda c: c.v1(None, SYSTEM_V1, NETWORK_V1, "--adapter",
                       "network=tcp://127.0.0.1:notaport"),
        ("network endpoint tcp://127.0.0.1:notaport", "Invalid argument")),
    # YAML alias bombs: PyYAML shares aliased nodes, but printing or walking them (an error
    # message's repr, str() of an inline system value) met 9^9 items and never finished
    "experiment-alias-bomb": (
        lambda c: c.experiment("bomb:\n" + "".join(
            [f"  a{i}: &a{i} [" + ", ".join([f"*a{i - 1}" if i else "1"] * 9) + "]\n"
             for i in range(9)]).replace("bomb:", "description:") + experiment_text().replace(
                 "{comm_scale: 1}", "{comm_scale: *a8}")),
        ("exp.yaml", "more than 1000000 items once its aliases (*name) are expanded")),
    "v2-network-alias-inside-its-anchor": (
        lambda c: c.v2(None, None, v2_net(bandwidth="&b [ *b ]").replace("bandwidth: [ &b [ *b ] ]",
                                                                        "bandwidth: &b [ *b ]")),
        ("network.yml", "an alias inside its own anchor")),
    # a scale that is 0 as the float32 it is taken in: the run of scale 0, which is refused
    "v1-compute-scale-0-as-float32": (
        lambda c: c.v1(None, SYSTEM_V1, NETWORK_V1, "--compute-scale", "1e-320"),
        ("compute_scale: found 1e-320, which is 0 as a 32-bit float",)),
    "v1-injection-scale-0-as-float32": (
        lambda c: c.v1(None, SYSTEM_V1, NETWORK_V1, "--injection-scale", "1e-320"),
        ("injection_scale: found 1e-320",)),
    # --trace-npus 0-10000000000 expanded ten billion ids: the machine ran out of memory
    "v1-trace-npus-beyond-2^31": (
        lambda c: c.v1(None, SYSTEM_V1, NETWORK_V1, "--trace", str(c.root / "t.json"),
                       "--trace-npus", "0-10000000000"),
        ("--trace-npus: found NPU 10000000000", "2^31 - 1")),
    "v1-trace-npus-range-beyond-the-network": (
        lambda c: c.v1(None, SYSTEM_V1, NETWORK_V1, "--trace", str(c.root / "t.json"),
                       "--trace-npus", "0-2000000000"),
        ("--trace-npus: found NPU 2000000000; this network has 8 NPUs (0..7)",)),
    # YAML keys that are not all strings: sorting them for the message was a TypeError
    "v2-network-keys-of-two-types": (lambda c: c.v2(None, None, v2_net() + "1: 2\nzz: 3\n"),
                                     ("network.yml", "unknown key: found 1")),
    "experiment-keys-of-two-types": (lambda c: c.experiment(experiment_text() + "1: x\nzz: y\n"),
                                     ("exp.yaml", "unknown key: found 1")),
    "experiment-option-keys-of-two-types": (
        lambda c: c.experiment(experiment_text().replace("{comm_scale: 1}", "{1: 2, zz: 3}")),
        ("exp.yaml", "options: found 1")),
    "experiment-inline-network-keys-of-two-types": (
        lambda c: c.experiment(experiment_text(network_config="{1: 2, zz: 3}")),
        ("exp.yaml", "unknown key: found 1")),
    "v2-compute-config-keys-of-two-types": (
        lambda c: c.v2(None, None, None, "--compute-backend", "roofline", "--compute-config",
                       c.write("c.yaml", "1: 2\nzz: 3\n")),
        ("roofline: unknown key(s) 1, zz",)),
    # wrong types in the experiment file: tracebacks, or a folder named "['a', 'b']"
    "experiment-options-not-a-mapping": (
        lambda c: c.experiment(experiment_text().replace("{comm_scale: 1}", "5")),
        ("exp.yaml", "options: found 5", "expected a mapping")),
    "experiment-options-a-string": (
        lambda c: c.experiment(experiment_text().replace("{comm_scale: 1}", "fast")),
        ("exp.yaml", "options: found 'fast'", "expected a mapping")),
    "experiment-network-option-key-not-a-name": (
        lambda c: c.experiment(experiment_text().replace("  timeout_s: 30\n",
                                                         "  timeout_s: 30\n  options: {1: 2}\n")),
        ("exp.yaml", "network.options", "key 1")),
    "experiment-name-a-list": (lambda c: c.experiment(experiment_text(name="[a, b]")),
                               ("exp.yaml", "name: found ['a', 'b']", "a string")),
    "experiment-name-a-boolean": (lambda c: c.experiment(experiment_text(name="true")),
                                  ("exp.yaml", "name: found True")),
    # 2.x system JSON: a string or a list where upstream's JSON reader takes a number ran
    "v2-endpoint-delay-a-string": (lambda c: c.v2(None, json.dumps(system(endpoint_delay="10"))),
                                   ("system.json", "endpoint-delay: found '10'", "JSON number")),
    "v2-splits-a-list": (lambda c: c.v2(None, json.dumps(system(preferred_dataset_splits=[4]))),
                         ("system.json", "preferred-dataset-splits: found [4]")),
    "v2-active-chunks-true": (
        lambda c: c.v2(None, json.dumps(system(active_chunks_per_dimension=True))),
        ("system.json", "active-chunks-per-dimension: found True")),
    "v2-collective-optimization-a-list": (
        lambda c: c.v2(None, json.dumps(system(collective_optimization=["localBWAware"]))),
        ("system.json", "collective-optimization: found ['localBWAware']", "a string")),
    # 1.0 network JSON: true taken as 1 dimension; an HBM term divided by 0 (or by 1 GB/s
    # when no hbm-bandwidth was given)
    "v1-dimensions-count-true": (lambda c: c.v1(None, SYSTEM_V1, v1_net(dimensions_count=True)),
                                 ("network.json", "dimensions-count is True")),
    "v1-hbm-scale-without-hbm-bandwidth": (
        lambda c: c.v1(None, SYSTEM_V1, v1_net(hbm_scale=[1])),
        ("network.json", "hbm-bandwidth[0]: found nothing", "hbm-scale[0]")),
    "v1-hbm-bandwidth-0": (
        lambda c: c.v1(None, SYSTEM_V1, v1_net(hbm_scale=[1], hbm_bandwidth=[0])),
        ("network.json", "hbm-bandwidth[0]: found 0")),
    # --injection-scale: an OverflowError traceback past float32, a time beyond the clock
    "v1-injection-scale-beyond-float32": (
        lambda c: c.v1(None, SYSTEM_V1, NETWORK_V1, "--injection-scale", "1e300"),
        ("system.txt:2", "endpoint-delay (10 x injection-scale 1e+300)", "32-bit float")),
    "v2-injection-scale-beyond-the-clock": (
        lambda c: c.v2(None, None, None, "--injection-scale", "1e30"),
        ("system.json", "endpoint-delay", "2^62")),
}


@pytest.mark.parametrize("case_id", sorted(CORPUS))
def test_malformed_input_is_refused_in_one_line(case_id: str, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    build, fragments = CORPUS[case_id]
    argv = build(Case(tmp_path))
    code = main(argv)
    err = capsys.readouterr().err
    assert_refused_in_one_line(code, err, *fragments)
    assert not (tmp_path / "out").exists(), "a refused run left a result folder"
    assert not [name for name in os.listdir(tmp_path) if "astra-cosim-tmp" in name]


def test_send_and_receive_that_meet_run(tmp_path: Path, capsys) -> None:
    """The control of the SEND/RECV cases: the same exchange, matched, runs."""
    assert main(Case(tmp_path).v2(exchange())) == 0, capsys.readouterr().err
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["payload_bytes"] == MIB and summary["total_ns"] > 1


def test_largest_sizes_and_times_that_fit_still_run(tmp_path: Path, capsys) -> None:
    """The bounds are not too tight: 2^62 bytes (an int64 size) and 10^18 cycles run."""
    code = main(Case(tmp_path).v1(data_workload(fwd=10 ** 18, size=1 << 62)))
    assert code == 0, capsys.readouterr().err
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert 10 ** 18 <= summary["total_ns"] < 1 << 62


# -- output paths: refused before the simulation starts ---------------------------------------
def _no_simulation(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("the simulation ran although the output path is unusable")
    monkeypatch.setattr(run_cli, "simulate", refuse)


OUTPUT_CASES = {
    "out-is-a-file": (lambda root: ["--out", str(root / "network.json")],
                      ("--out", "is a file")),
    "out-under-a-file": (lambda root: ["--out", str(root / "network.json" / "sub" / "out")],
                         ("--out", "is a file")),
    "out-on-a-read-only-filesystem": (lambda root: ["--out", "/proc/astra-cosim-test/out"],
                                      ("--out", "/proc/astra-cosim-test")),
    "trace-is-a-folder": (lambda root: ["--out", str(root / "out"), "--trace", str(root)],
                          ("--trace", "is a folder")),
    "trace-under-a-file": (lambda root: ["--out", str(root / "out"), "--trace",
                                         str(root / "network.json" / "t.json")],
                           ("--trace", "is a file")),
    "trace-on-a-read-only-filesystem": (
        lambda root: ["--out", str(root / "out"), "--trace", "/proc/astra-cosim-test/t.json"],
        ("--trace",)),
}


@pytest.mark.parametrize("case_id", sorted(OUTPUT_CASES))
def test_unwritable_output_is_refused_before_the_run(case_id: str, tmp_path: Path, capsys,
                                                     monkeypatch) -> None:
    build, fragments = OUTPUT_CASES[case_id]
    argv = Case(tmp_path).v1()
    argv = argv[:argv.index("--out")] + ["--quiet"] + build(tmp_path)
    _no_simulation(monkeypatch)
    code = main(argv)
    err = capsys.readouterr().err
    assert_refused_in_one_line(code, err, *fragments)
    assert not (tmp_path / "out").exists()
    assert not [name for name in os.listdir(tmp_path) if "astra-cosim-tmp" in name]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders; the "
                                             "/proc cases cover an unwritable --out")
@pytest.mark.parametrize("flag", ["--out", "--trace"])
def test_output_in_a_read_only_folder_is_refused_before_the_run(flag: str, tmp_path: Path,
                                                                capsys, monkeypatch) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    argv = Case(tmp_path).v1()
    if flag == "--out":
        argv[argv.index("--out") + 1] = str(locked / "out")
    else:
        argv += ["--trace", str(locked / "t.json")]
    _no_simulation(monkeypatch)
    try:
        code = main(argv)
    finally:
        locked.chmod(0o700)
    err = capsys.readouterr().err
    assert code == 2 and err.startswith(f"astra-cosim: error: {flag}"), err


# -- the command line's own refusals: one line too ----------------------------------------------
@pytest.mark.parametrize("argv,fragment", [
    (["run", "--num-passes", "nan"], "argument --num-passes: invalid int value: 'nan'"),
    (["run", "--comm-scale", "fast"], "argument --comm-scale: invalid float value: 'fast'"),
    (["predict", "--tp", "nan"], "argument --tp: invalid int value: 'nan'"),
    (["trace", "convert", "--npus", "1e3"], "argument --npus: invalid int value: '1e3'"),
    (["sweep", "s.yaml", "--jobs", "inf"], "argument --jobs/-j: invalid int value: 'inf'"),
    (["run", "--no-such-option"], "unrecognized arguments: --no-such-option"),
])
def test_an_option_argparse_refuses_is_one_line(argv: list[str], fragment: str, capsys) -> None:
    """argparse printed its usage (up to 14 lines) before the error."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    err = capsys.readouterr().err
    assert info.value.code == 2
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("astra-cosim: error: "), err
    assert fragment in lines[0]


@pytest.mark.parametrize("argv,fragment", [
    (["-b", "8", "-e", str(1 << 70), "-f", "2"], f"-e: found '{1 << 70}'"),
    (["-b", "9223372036854775808", "-e", "9223372036854775808", "-f", "2"], "int64"),
    (["-b", "8", "-e", "8G", "-i", "1"], "makes 8589934585 sizes; expected at most 100000"),
])
def test_collective_sizes_beyond_int64_or_a_runaway_series_are_refused(
        argv: list[str], fragment: str, tmp_path: Path, capsys) -> None:
    """-e 2^70 ended in a protobuf traceback; -i 1 up to 8G built a list of 8.6e9 sizes."""
    code = main(["collective", "all-reduce", *argv, "--platform", "ring8",
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err, err
    assert len(err.splitlines()) == 1 and fragment in err, err
    assert not (tmp_path / "out").exists()


def test_a_smaller_trace_set_written_over_a_larger_one_leaves_no_stale_rank(tmp_path: Path,
                                                                            capsys) -> None:
    """4 all-gather traces over 8 all-reduce ones left PREFIX.4-7.et of the old set, and an
    8-NPU run mixed the two workloads (issue 14: never a mix)."""
    prefix = str(tmp_path / "x")
    for npus, collective in ((8, "all_reduce"), (4, "all_gather")):
        assert main(["trace", "collective", "--npus", str(npus), "--collective", collective,
                     "--size", "1MiB", "--out", prefix]) == 0
    assert chakra.trace_ranks(prefix) == [0, 1, 2, 3]
    assert f"removed 4 trace(s) of an earlier, larger set: {prefix}.4.et ... {prefix}.7.et" \
        in capsys.readouterr().out
    workload = Case(tmp_path).write("w.txt", data_workload())
    assert main(["trace", "convert", "--workload", workload, "--npus", "2", "--out",
                 prefix]) == 0
    assert chakra.trace_ranks(prefix) == [0, 1]


@pytest.mark.parametrize("where,fragment", [
    ("file", "is a file; expected a folder"), ("under-file", "is a file, not a folder"),
    ("other-files", "holds files that are not an astra-cosim result")])
def test_collective_output_is_checked_before_the_first_size(where: str, fragment: str,
                                                            tmp_path: Path, capsys,
                                                            monkeypatch) -> None:
    """`collective --out` was created after every size had run: a file there ended in a
    FileExistsError traceback and the figures were lost; a folder of other files got
    collective.csv beside them."""
    from orchestrator.cli import collective_cmd

    def refuse(*args, **kwargs):
        raise AssertionError("a size ran although --out is unusable")
    monkeypatch.setattr(collective_cmd, "time_collective", refuse)
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    out = {"file": blocker, "under-file": blocker / "sub", "other-files": tmp_path}[where]
    code = main(["collective", "all-reduce", "-b", "8", "-e", "64", "--platform", "ring8",
                 "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.splitlines()) == 1 and fragment in err, err
    assert sorted(os.listdir(tmp_path)) == ["blocker"]


def test_collective_results_replace_a_previous_collective_whole(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    def argv(largest: str) -> list[str]:
        return ["collective", "all-reduce", "-b", "8", "-e", largest, "--platform", "ring8",
                "--out", str(out), "--quiet"]
    assert main(argv("64")) == 0
    first = (out / "collective.csv").read_text()
    assert main(argv("16")) == 0
    second = (out / "collective.csv").read_text()
    assert len(second.splitlines()) == len(first.splitlines()) - 2     # 8, 16 of 8 ... 64
    assert sorted(os.listdir(out)) == [".astra-cosim-result", "busbw.png", "collective.csv"]


@pytest.mark.parametrize("argv", [
    ["trace", "convert", "--workload", "{workload}", "--npus", "2", "--out", "{blocker}/x"],
    ["trace", "collective", "--npus", "2", "--collective", "all_reduce", "--size", "1KiB",
     "--out", "{blocker}/x"],
], ids=["trace-convert", "trace-collective"])
def test_an_output_the_system_refuses_is_one_line(argv: list[str], tmp_path: Path,
                                                  capsys) -> None:
    """Writers without a staged folder ended in a FileExistsError traceback."""
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    workload = Case(tmp_path).write("w.txt", data_workload())
    code = main([word.format(workload=workload, blocker=blocker) for word in argv])
    err = capsys.readouterr().err
    assert code == 2 and err.splitlines() == [
        f"astra-cosim: error: {blocker}: File exists (a file stands where a folder is "
        "needed)"], err


@pytest.mark.parametrize("damage,fragment", [
    ({"summary.json": '{"total_ns": "fast", "format": "v1"}'}, "total_ns is 'fast'"),
    ({"summary.json": '[1, 2]'}, "not a JSON object"),
    ({"summary.json": NOT_UTF8}, "not UTF-8 text"),
    ({"layers.csv": "layer,phase\nl0,fwd\n"}, "missing column 'compute_ns'"),
    ({"collectives.csv": NOT_UTF8}, "not UTF-8 text"),
])
def test_report_of_a_damaged_result_names_the_file(damage: dict, fragment: str,
                                                   tmp_path: Path, capsys) -> None:
    """A result folder edited or damaged by hand ended `report` in a KeyError or
    UnicodeDecodeError traceback."""
    case = Case(tmp_path)
    assert main(case.v1()) == 0
    out = tmp_path / "out"
    for name, text in damage.items():
        case.write(f"out/{name}", text)
    capsys.readouterr()
    assert main(["report", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and fragment in err, err
    assert f"{out}/{next(iter(damage))}" in err


def test_report_of_a_sweep_whose_results_csv_is_not_text(tmp_path: Path, capsys) -> None:
    (tmp_path / "results.csv").write_bytes(NOT_UTF8)
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [f"astra-cosim: error: {tmp_path}/results.csv: not UTF-8 text "
                                "(byte 0xbc at offset 0); expected a text file"]


TRANSFORMER = ("HYBRID_TRANSFORMER model_parallel_NPU_group: 2\n1\n"
               "l0 -1 10 ALLREDUCE 4096 10 ALLREDUCE 4096 10 ALLREDUCE 4096 1\n")


@pytest.mark.parametrize("options,network_text,fragments", [
    (["--num-passes", "0"], None, ("num_passes: found 0", ">= 1")),
    (["--num-passes", str(10 ** 12)], None, ("num_passes", "2147483647")),
    (["--compute-scale", "-1"], None, ("compute_scale: found -1.0", "> 0")),
    (["--compute-scale", "nan"], None, ("compute_scale: found nan",)),
    (["--comm-scale", "inf"], None, ("comm_scale: found inf", "finite")),
    (["--comm-scale", "1e300"], None, ("w.txt:3", "32-bit float")),
    (["--comm-scale", "1e-30"], None, ("w.txt:3", "is 0 bytes", "at least 1 byte")),
    (["--npus", str(10 ** 12)], None, ("--npus: found 1000000000000", "2^31 - 1")),
    ([], NETWORK_V1.replace("[8]", '["8"]'), ("n.json", "units-count[0]: found '8'")),
    ([], NETWORK_V1.replace("[8]", "[[8]]"), ("n.json", "units-count[0]: found [8]")),
], ids=["passes-0", "passes-10^12", "compute-scale-negative", "compute-scale-nan",
        "comm-scale-inf", "comm-scale-beyond-float32", "comm-scale-to-0-bytes", "npus-10^12",
        "network-units-a-string", "network-units-nested"])
def test_trace_convert_refuses_what_run_refuses(options: list[str], network_text: str | None,
                                                fragments: tuple[str, ...], tmp_path: Path,
                                                capsys) -> None:
    """--num-passes 0 wrote traces without a pass; a scale of -1, nan or inf and a network
    whose units-count held a string ended in a traceback; --npus 10^12 wrote files for ever."""
    case = Case(tmp_path)
    argv = ["trace", "convert", "--npus", "8", "--out", str(tmp_path / "x"), "--workload",
            case.write("w.txt", data_workload() if network_text is None else TRANSFORMER)]
    if network_text is not None:
        argv += ["--network", case.write("n.json", network_text)]
    code = main(argv + options)
    err = capsys.readouterr().err
    assert_refused_in_one_line(code, err, *fragments)
    assert chakra.trace_ranks(str(tmp_path / "x")) == []


@pytest.mark.parametrize("npus", ["0", str(1 << 31)])
def test_trace_collective_npus_out_of_range(npus: str, tmp_path: Path, capsys) -> None:
    """10^12 NPUs wrote 662 000 files in a minute and did not stop."""
    code = main(["trace", "collective", "--npus", npus, "--collective", "all_reduce",
                 "--size", "1MiB", "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert code == 2 and err.splitlines() == [
        f"astra-cosim: error: --npus: found {npus}; expected a number from 1 to 2147483647 "
        "(2^31 - 1)"], err
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("axes,fragments", [
    ("  options.comm_scale: &a [*a]\n", ("s.yaml", "an alias inside its own anchor")),
    ("  network.link-bandwidth[0]: [10, 20]\n  network.config.link-bandwidth[0]: [30, 40]\n",
     ("s.yaml", "both edit network.config.link-bandwidth[0]")),
    ("  network.bogus-key: [1, 2]\n", ("s.yaml", "not an ASTRA-sim 1.0 network key",
                                       "'bogus-key'")),
    ("  system.bogus-key: [1, 2]\n", ("s.yaml", "not an ASTRA-sim 1.0 system key")),
    ("  options.bogus: [1, 2]\n", ("s.yaml", "not an option: found 'bogus'")),
    ("  options.comm_scale:\n    - " + "{" + ", ".join(
        ["a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1]"] +
        [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]) + "}\n",
     ("s.yaml", "more than 1000000 items once its aliases (*name) are expanded")),
], ids=["value-contains-itself", "one-key-two-spellings", "network-key-unknown",
        "system-key-unknown", "option-unknown", "value-of-a-billion-items"])
def test_a_sweep_axis_that_cannot_be_meant_is_refused_before_any_trial(
        axes: str, fragments: tuple[str, ...], tmp_path: Path, capsys) -> None:
    """A recursive value was a RecursionError traceback and nine levels of nine YAML aliases
    ran for ever; two spellings of one key showed one value in the table and ran the other;
    a key no input has failed every trial (exit 1)."""
    from tests.sweep.sweeps import write_sweep
    code = main(["sweep", write_sweep(tmp_path, "axes:\n" + axes), "--out",
                 str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert_refused_in_one_line(code, err, *fragments)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("generation,name", [
    ("v1", "workload.txt"), ("v1", "system.txt"), ("v1", "network.json"),
    ("v2", "system.json"), ("v2", "network.yml")])
def test_a_byte_order_mark_is_skipped(generation: str, name: str, tmp_path: Path,
                                      capsys) -> None:
    """A UTF-8 BOM (Windows editors write one) made 'DATA' an unknown token, the first system
    key unknown, the network 'not valid JSON' and a 2.x system file look like a 1.0 one; like
    CRLF line ends it is now read through, with the same result."""
    control = Case(tmp_path / "control")
    assert main(getattr(control, generation)()) == 0
    case = Case(tmp_path / "bom")
    argv = getattr(case, generation)()
    path = tmp_path / "bom" / name
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert main(argv) == 0, capsys.readouterr().err
    def total(root: Path) -> int:
        return json.loads((root / "out" / "summary.json").read_text())["total_ns"]
    assert total(tmp_path / "bom") == total(tmp_path / "control")


@pytest.mark.parametrize("argv,fragment", [
    (["adapter", "ping", "nonsense"], "endpoint: found 'nonsense'; expected e.g. tcp://"),
    (["adapter", "ping", "tcp://127.0.0.1:notaport", "--timeout", "1"],
     "endpoint tcp://127.0.0.1:notaport: Invalid argument"),
    (["adapter", "ping", "tcp://127.0.0.1:1", "--timeout", "inf"],
     "--timeout: found inf; expected seconds > 0"),
    (["workload", "generate", "--model", "vgg16", "--parallelism", "DATA", "--npus", "8",
      "--compute", "roofline", "--timeout", "nan", "--out", "{tmp}/x.txt"],
     "--timeout: found nan; expected a finite number of seconds > 0"),
], ids=["ping-not-an-endpoint", "ping-not-a-port", "ping-timeout-inf", "generate-timeout-nan"])
def test_adapter_and_generator_options_are_refused_in_one_line(argv: list[str], fragment: str,
                                                               tmp_path: Path, capsys) -> None:
    """ping took ZeroMQ's ZMQError as a traceback and waited for ever with --timeout inf;
    workload generate ran with --timeout nan."""
    code = main([word.format(tmp=tmp_path) for word in argv])
    err = capsys.readouterr().err
    assert_refused_in_one_line(code, err, fragment)
    assert os.listdir(tmp_path) == []


GEMM_MODEL = ("name: m\ndatatype_bytes: 2\nbatch: 8\nupdate_delay: 1\n"
              "layers:\n  - {name: fc1, fc: {inputs: 1024, outputs: 1024}}\n")
LLM_MODEL = ("layers: 32\nhidden: 4096\nheads: 32\nkv_heads: 8\nffn: 14336\nvocab: 128256\n"
             "seq: 8192\nmlp: swiglu\nattention: flash\ntied_embeddings: false\n")
ALIAS_BOMB = "".join(f"  a{i}: &a{i} [" + ", ".join([f"*a{i - 1}" if i else "1"] * 9) + "]\n"
                     for i in range(9))


@pytest.mark.parametrize("command,model,fragments", [
    ("generate", GEMM_MODEL + "batch: 16\n", ("m.yaml:7", "'batch' is given twice")),
    ("generate", "description:\n" + ALIAS_BOMB + GEMM_MODEL, ("m.yaml", "aliases (*name)")),
    ("generate", GEMM_MODEL.replace("batch: 8", f"batch: {10 ** 20}"),
     ("m.yaml", "layer fc1: generated fwd compute", "2^62")),
    ("predict", LLM_MODEL + "layers: 64\n", ("m.yaml:11", "'layers' is given twice")),
    ("predict", LLM_MODEL.replace("seq: 8192", f"seq: {10 ** 20}"),
     ("m.yaml", "seq: found 100000000000000000000", "2^31 - 1")),
], ids=["generate-key-twice", "generate-alias-bomb", "generate-batch-10^20", "predict-key-twice",
        "predict-seq-10^20"])
def test_model_files_are_read_as_strictly_as_run_inputs(command: str, model: str,
                                                        fragments: tuple[str, ...],
                                                        tmp_path: Path, capsys) -> None:
    """Model files kept the last of two equal keys; a batch of 10^20 wrote a workload of 2^62
    cycles and 10^23-byte collectives and exited 0; seq 10^20 ended in protobuf's "Value out
    of range" traceback."""
    case = Case(tmp_path)
    path = case.write("m.yaml", model)
    if command == "generate":
        argv = ["workload", "generate", "--model", path, "--parallelism", "DATA", "--npus", "8",
                "--compute", "roofline", "--compute-config",
                case.write("c.yaml", "peak_tflops: 100\nlocal_mem_bw_gb_per_s: 1000\n"),
                "--out", str(tmp_path / "x.txt")]
    else:
        argv = ["predict", "--model", path, "--platform", "dgx-h100", "--gpus", "8", "--tp", "8",
                "--pp", "1", "--dp", "1", "--global-batch", "8", "--micro-batch", "1"]
    code = main(argv)
    err = capsys.readouterr().err
    assert_refused_in_one_line(code, err, *fragments)
    assert not (tmp_path / "x.txt").exists()


@pytest.mark.parametrize("options,fragment", [
    (["--micro-batch", "0"], "--micro-batch: found 0; expected a positive whole number"),
    (["--virtual-stages", "0"], "--virtual-stages: found 0"),
    (["--virtual-stages", "-2"], "--virtual-stages: found -2"),
    (["--grad-bytes", "-4"], "--grad-bytes: found -4"),
    (["--seq", "0"], "--seq: found 0"),
    (["--seq", str(10 ** 20)], "--seq: found 100000000000000000000; expected at most"),
    (["--dp", str(10 ** 12), "--global-batch", str(10 ** 12)],
     "--dp: found 1000000000000; expected at most 2147483647"),
    (["--dp", str(1 << 28), "--global-batch", str(1 << 28)],
     f"tp x pp x dp x cp = {1 << 31} GPUs; expected at most 2147483647"),
], ids=["micro-batch-0", "virtual-stages-0", "virtual-stages-negative", "grad-bytes-negative",
        "seq-0", "seq-10^20", "dp-10^12", "gpus-2^31"])
def test_predict_options_out_of_range(options: list[str], fragment: str, capsys) -> None:
    """--micro-batch 0 and --virtual-stages 0 were ZeroDivisionErrors, --seq 0 ran with the
    model's sequence, --grad-bytes -4 and --virtual-stages -2 ran, --seq 10^20 ended in a
    protobuf traceback and --dp 10^12 never finished."""
    code = main(["predict", "--model", "llama3-8b", "--platform", "dgx-h100", "--tp", "8",
                 "--pp", "1", "--dp", "1", "--global-batch", "8", *options])
    err = capsys.readouterr().err
    assert_refused_in_one_line(code, err, fragment)
