"""Compute adapters through the protocol: the roofline's figures, placement equality, one
round per run, and the faults a compute adapter can commit (docs/cosim.md, "Compute").

The workload is written here: four NPUs, each running two shaped compute nodes (Chakra
``num_ops``/``tensor_size``), a ring all-reduce, and a GEMM node (``gemm_m/n/k``). The
roofline durations are worked out by hand below; a replay of the same trace with those
durations pinned in ns must give the identical run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

from adapters.base import ComputeRequest
from adapters.registry import build_compute
from orchestrator.cli.main import main
from orchestrator.cosim import codec
from orchestrator.cosim.client import ZmqClient
from orchestrator.errors import InputError
from orchestrator.workload import chakra
from orchestrator.workload.chakra_et_pb2 import Node
from tests.cosim.test_faults import assert_one_line_error, free_endpoint, run_engine, wait_gone
from tests.processes import live_processes
from tests.workload.traces import COMP, CT, coll_node, network, system, write_configs, \
    write_traces

NPUS = 4
PEAK_TFLOPS = 100.0
MEM_GB_PER_S = 1600.0

# (num_ops, tensor bytes) -> ns, by hand: time = ops / min(bw * ops / bytes, peak)
#   2e9 ops over 1 MB: intensity 2000 -> bandwidth bound at 3.2e15 > peak 1e14 -> 2e9 / 1e14 s
#   1e6 ops over 1 MB: intensity 1 -> 1.6e12 op/s -> 1e6 / 1.6e12 s = 625 ns
#   GEMM 64x64x64: 2*64^3 = 524288 ops over 3 * 64*64 * 2 B = 24576 B -> 24576 / 1600 = 15.36
BIG_OPS, BIG_NS = (2_000_000_000, 1_000_000), 20_000
SMALL_OPS, SMALL_NS = (1_000_000, 1_000_000), 625
GEMM, GEMM_NS = (64, 64, 64), 15


def _comp(node_id: int, deps: list[int], *, ops: tuple[int, int] | None = None,
          gemm: tuple[int, int, int] | None = None, exact_ns: int | None = None,
          micros: int = 1) -> Node:
    attrs = [chakra.make_attr("is_cpu_op", False)]
    if ops is not None:
        attrs += [chakra.make_attr("num_ops", ops[0]), chakra.make_attr("tensor_size", ops[1])]
    if gemm is not None:
        attrs += [chakra.make_attr(name, value)
                  for name, value in zip(("gemm_m", "gemm_n", "gemm_k"), gemm)]
    if exact_ns is not None:
        attrs.append(chakra.make_attr(chakra.DURATION_NS, exact_ns))
    return Node(id=node_id, name=f"comp{node_id}", type=COMP, duration_micros=micros,
                data_deps=deps, attr=attrs)


def _shaped() -> list[Node]:
    # the GEMM node carries nothing but its shape (no recorded time, no num_ops): a compute
    # model still times it
    return [_comp(0, [], ops=BIG_OPS), _comp(1, [0], ops=SMALL_OPS),
            coll_node(2, CT.ALL_REDUCE, 1 << 20, deps=[1]), _comp(3, [2], gemm=GEMM, micros=0)]


def _pinned() -> list[Node]:
    return [_comp(0, [], exact_ns=BIG_NS), _comp(1, [0], exact_ns=SMALL_NS),
            coll_node(2, CT.ALL_REDUCE, 1 << 20, deps=[1]), _comp(3, [2], exact_ns=GEMM_NS)]


@pytest.fixture()
def inputs(tmp_path: Path) -> dict[str, str]:
    roofline = system(roofline_enabled=1, peak_perf=PEAK_TFLOPS)
    sys_path, net_path = write_configs(tmp_path, roofline, network(npus=NPUS))
    replay_dir = tmp_path / "replay"
    replay_dir.mkdir()
    replay_sys, _ = write_configs(replay_dir, system(), network(npus=NPUS))
    return {"shaped": write_traces(tmp_path, "shaped", [_shaped()] * NPUS),
            "pinned": write_traces(tmp_path, "pinned", [_pinned()] * NPUS),
            "system": sys_path, "replay_system": replay_sys, "network": net_path,
            "dir": str(tmp_path)}


def _run(inputs: dict[str, str], out: str, *extra: str, workload: str = "shaped",
         system_key: str = "system") -> dict:
    rc = main(["run", "--workload", inputs[workload], "--system", inputs[system_key],
               "--network", inputs["network"], "--out", out, "--quiet", *extra])
    assert rc == 0
    with open(Path(out) / "summary.json", encoding="utf-8") as handle:
        return json.load(handle)


def _simulated(summary: dict) -> dict:
    return {key: value for key, value in summary.items() if key not in ("cosim",)}


# -- the model --------------------------------------------------------------------------------
def test_roofline_durations_are_the_hand_computed_ones() -> None:
    model = build_compute("roofline", {"peak_tflops": PEAK_TFLOPS,
                                       "local_mem_bw_gb_per_s": MEM_GB_PER_S})
    assert model.duration_ns(ComputeRequest.ops(*BIG_OPS)) == BIG_NS
    assert model.duration_ns(ComputeRequest.ops(*SMALL_OPS)) == SMALL_NS
    assert model.duration_ns(ComputeRequest.gemm(*GEMM)) == GEMM_NS
    # a 3x3 convolution, stride 1, on 10x10x8 with 16 filters is the GEMM (64, 16, 72)
    conv = ComputeRequest("conv", ifmap_h=10, ifmap_w=10, filter_h=3, filter_w=3, channels=8,
                          filters=16, stride=1)
    assert model.duration_ns(conv) == model.duration_ns(ComputeRequest.gemm(64, 16, 72))


@pytest.mark.parametrize("doc, needle", [
    ({"peak_tflops": 1}, "missing key local_mem_bw_gb_per_s"),
    ({"peak_tflops": 1, "local_mem_bw_gb_per_s": 1, "clock": 2}, "unknown key(s) clock"),
    ({"peak_tflops": 0, "local_mem_bw_gb_per_s": 1}, "must be positive"),
    ({"peak_tflops": "fast", "local_mem_bw_gb_per_s": 1}, "roofline:"),
])
def test_roofline_configuration_errors(doc: dict, needle: str) -> None:
    with pytest.raises(InputError, match=None) as caught:
        build_compute("roofline", doc, "compute.yaml")
    assert needle in str(caught.value) and "compute.yaml" in str(caught.value)


# -- the engine -------------------------------------------------------------------------------
def test_roofline_run_equals_the_replay_of_its_durations(inputs, tmp_path) -> None:
    shaped = _run(inputs, str(tmp_path / "shaped"))
    pinned = _run(inputs, str(tmp_path / "pinned"), workload="pinned",
                  system_key="replay_system")
    assert shaped["compute_ns"] == BIG_NS + SMALL_NS + GEMM_NS == pinned["compute_ns"]
    for key in ("total_ns", "finish_ns", "exposed_comm_ns", "payload_bytes"):
        assert shaped[key] == pinned[key], key
    compute = shaped["cosim"]["compute"]
    # "cosim" counts what this run asked; a symmetric run simulates one NPU for all of them
    simulated = shaped["symmetry"]["npus_simulated"]
    assert simulated == (1 if shaped["symmetry"]["reduced"] else NPUS)
    assert (compute["rounds"], compute["distinct_requests"], compute["operations"]) == \
        (1, 3, 3 * simulated)
    assert shaped["adapter_stats"]["compute"] == {"requests": 3.0}


@pytest.mark.parametrize("placement", [["--placement", "process"],
                                       ["--placement", "process", "--transport", "ipc"]])
def test_compute_placement_gives_identical_results(inputs, tmp_path, placement) -> None:
    here = _run(inputs, str(tmp_path / "here"))
    there = _run(inputs, str(tmp_path / "there"), *placement)
    assert _simulated(there) == _simulated(here)
    for kind in ("network", "compute"):
        assert there["cosim"][kind]["endpoint"] != "in-process"
    assert there["cosim"]["compute"]["rounds"] == 1
    if "ipc" in placement:
        assert there["cosim"]["compute"]["endpoint"].startswith("ipc://")


def test_served_compute_adapter_is_used_by_endpoint_and_pinged(inputs, tmp_path) -> None:
    _, endpoint = free_endpoint()
    server = subprocess.Popen([sys.executable, "-m", "orchestrator", "adapter", "serve",
                               "compute", "--bind", endpoint, "--idle-timeout", "60"],
                              stdin=subprocess.DEVNULL)
    try:
        ping = subprocess.run([sys.executable, "-m", "orchestrator", "adapter", "ping",
                               endpoint, "--timeout", "20"], capture_output=True, text=True,
                              timeout=60)
        assert ping.returncode == 0, ping.stderr
        assert ping.stdout.strip() == f"compute adapter at {endpoint}: ready (" + \
            ", ".join(_compute_models()) + ")"
        here = _run(inputs, str(tmp_path / "here"))
        remote = _run(inputs, str(tmp_path / "remote"), "--compute-backend", "roofline",
                      "--compute-config", _roofline_file(tmp_path),
                      "--adapter", f"compute={endpoint}")
        assert _simulated(remote) == _simulated(here)
        assert remote["cosim"]["compute"]["endpoint"] == endpoint
        # the engine's shutdown ends its session, not the server: the next engine is served
        again = _run(inputs, str(tmp_path / "again"), "--compute-backend", "roofline",
                     "--compute-config", _roofline_file(tmp_path),
                     "--adapter", f"compute={endpoint}")
        assert _simulated(again) == _simulated(here)
        assert server.poll() is None
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def _compute_models() -> list[str]:
    from adapters.registry import COMPUTE_MODELS
    return list(COMPUTE_MODELS)


def _roofline_file(tmp_path: Path) -> str:
    path = tmp_path / "roofline.yaml"
    path.write_text(yaml.safe_dump({"peak_tflops": PEAK_TFLOPS,
                                    "local_mem_bw_gb_per_s": MEM_GB_PER_S}), encoding="utf-8")
    return str(path)


def test_experiment_compute_section_matches_the_cli(inputs, tmp_path) -> None:
    doc = {"workload": inputs["shaped"], "system": inputs["replay_system"],
           "network": inputs["network"],
           "compute": {"adapter": "roofline", "config": "roofline.yaml",
                       "placement": "process", "transport": "ipc"}}
    _roofline_file(tmp_path)
    experiment = tmp_path / "experiment.yaml"
    experiment.write_text(yaml.safe_dump(doc), encoding="utf-8")
    rc = main(["run", str(experiment), "--out", str(tmp_path / "yaml"), "--quiet"])
    assert rc == 0
    from_yaml = json.loads((tmp_path / "yaml" / "summary.json").read_text())
    here = _run(inputs, str(tmp_path / "here"))
    assert from_yaml["total_ns"] == here["total_ns"]
    assert from_yaml["compute_ns"] == BIG_NS + SMALL_NS + GEMM_NS
    assert from_yaml["cosim"]["compute"]["endpoint"].startswith("ipc://")
    assert from_yaml["cosim"]["network"]["endpoint"] == "in-process"


@pytest.mark.parametrize("compute, needle", [
    ({"backend": "gpu"}, "compute.backend: found 'gpu'"),
    ({"backend": "roofline", "adapter": "roofline"}, "not both"),
    ({"backend": "roofline", "where": "here"}, "compute: found 'where'"),
    ({"backend": "roofline", "placement": "cloud"}, "compute.placement: found 'cloud'"),
    ({"backend": "roofline", "transport": "udp"}, "compute.transport: found 'udp'"),
    ({"backend": "roofline", "endpoint": "localhost:5555"}, "compute.endpoint"),
    ({"backend": "roofline", "config": [1, 2]}, "compute.config"),
])
def test_bad_compute_sections_are_named(inputs, tmp_path, compute, needle, capsys) -> None:
    doc = {"workload": inputs["shaped"], "system": inputs["system"],
           "network": inputs["network"], "compute": compute}
    experiment = tmp_path / "bad.yaml"
    experiment.write_text(yaml.safe_dump(doc), encoding="utf-8")
    assert main(["run", str(experiment), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert needle in err and "bad.yaml" in err


def test_a_1_0_workload_refuses_a_compute_backend(tmp_path, capsys) -> None:
    ex1 = str(Path(__file__).resolve().parents[2] / "experiments" / "tutorial" / "ex1.yaml")
    assert main(["run", ex1, "--compute-backend", "roofline", "--out", str(tmp_path),
                 "--quiet"]) == 2
    assert "1.0 text workload carries its compute cycles" in capsys.readouterr().err


# -- faults -----------------------------------------------------------------------------------
def test_unreachable_compute_adapter_is_named(inputs, tmp_path) -> None:
    _, endpoint = free_endpoint()
    run = run_engine("--workload", inputs["shaped"], "--system", inputs["system"],
                     "--network", inputs["network"], "--out", str(tmp_path / "o"),
                     "--compute-backend", "roofline", "--adapter", f"compute={endpoint}",
                     "--adapter-timeout", "1")
    assert_one_line_error(run, "compute adapter at", endpoint, "did not answer within 1 s")
    assert not wait_gone(endpoint, 3)


def _children() -> list[int]:
    """Live processes whose parent is this test process (zombies excluded)."""
    return [process.pid for process in live_processes() if process.ppid == os.getpid()]


def test_compute_process_children_are_gone_after_the_run(inputs, tmp_path) -> None:
    before = set(_children())
    summary = _run(inputs, str(tmp_path / "o"), "--placement", "process")
    assert summary["cosim"]["compute"]["endpoint"].startswith("tcp://127.0.0.1:")
    assert set(_children()) - before == set()


def _fake_adapter(endpoint: str, completion_offset: int) -> threading.Thread:
    """A REP server that handshakes as a pure compute adapter and answers one round with
    completions ``completion_offset`` ns from the grant."""
    import zmq

    context = zmq.Context.instance()
    sock = context.socket(zmq.REP)
    sock.bind(endpoint)

    def serve() -> None:
        from orchestrator.cosim import cosim_pb2 as pb
        try:
            for _ in range(3):
                envelope, body = codec.decode(sock.recv())
                if body == "hello":
                    reply = ("hello", codec.hello("compute", ("roofline",)))
                elif body == "configure":
                    reply = ("configured", pb.Configured(pure=True))
                else:
                    grant = envelope.round.grant_ns
                    reply = ("round_reply", codec.compute_reply(
                        [(item.op, grant + completion_offset)
                         for item in envelope.round.compute_requests]))
                sock.send(codec.encode(envelope.seq, *reply))
        finally:
            sock.close(linger=0)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


def test_a_completion_before_the_grant_is_a_protocol_error() -> None:
    _, endpoint = free_endpoint()
    thread = _fake_adapter(endpoint, completion_offset=-1)
    client = ZmqClient(endpoint, "compute", 5.0, clock_now=lambda: 500)
    try:
        assert client.handshake("roofline", "{}").pure
        with pytest.raises(codec.ProtocolError, match=r"stamped operation 0's completion 499 "
                                                      r"ns, before the granted 500 ns"):
            client.compute_round(500, [(0, 0, ComputeRequest.ops(1, 1))])
    finally:
        client._usable = False
        client.close()
        thread.join(timeout=5)

