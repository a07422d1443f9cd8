"""Full Chakra traces of LLM training (`workload llm`): they run on the network backends,
carry the TP / DP / EP collectives, SEND/RECV between stages and the MoE all-to-all volume."""

from __future__ import annotations

import json

import pytest

from adapters.gpu_roofline.model import GpuComputeModel
from orchestrator.cli.main import main
from orchestrator.platforms.gpu import load_platform
from orchestrator.workload import chakra
from orchestrator.workload.generate.llm.generate import write_llm_traces
from orchestrator.workload.generate.llm.model import load_llm
from orchestrator.workload.generate.llm.ops import LayerOps
from orchestrator.workload.generate.llm.parallel import ParallelConfig

TINY = "layers: 4\nhidden: 256\nheads: 4\nffn: 1024\nvocab: 1024\nseq: 128\n"
TINY_MOE = TINY + "mlp: swiglu\nexperts: 4\ntop_k: 2\nmoe_ffn: 512\n"


def model_file(tmp_path, text: str) -> str:
    path = tmp_path / "tiny.yaml"
    path.write_text(text)
    return str(path)


def run(tmp_path, prefix: str, backend: str) -> dict:
    out = tmp_path / f"run-{backend}"
    code = main(["run", "--workload", prefix, "--system", prefix + ".system.json",
                 "--network", prefix + ".network.yml", "--comm-group", prefix + ".groups.json",
                 "--network-backend", backend, "--out", str(out)])
    assert code == 0
    with open(out / "summary.json", encoding="utf-8") as handle:
        return json.load(handle)


@pytest.mark.parametrize("gpus,tp,pp,dp", [(8, 2, 2, 2), (16, 2, 2, 4)])
def test_pipeline_traces_run_on_the_analytical_backends(tmp_path, gpus, tp, pp, dp) -> None:
    prefix = str(tmp_path / "et" / "tiny")
    assert main(["workload", "llm", "--model", model_file(tmp_path, TINY), "--platform",
                 "dgx-a100", "--gpus", str(gpus), "--tp", str(tp), "--pp", str(pp), "--dp",
                 str(dp), "--global-batch", str(4 * dp), "--out", prefix]) == 0
    nodes = chakra.read_trace(chakra.trace_path(prefix, 0)).nodes
    kinds = {node.type for node in nodes}
    assert chakra.NodeType.COMM_SEND_NODE in kinds and chakra.NodeType.COMM_RECV_NODE in kinds
    unaware, aware = run(tmp_path, prefix, "analytical"), run(tmp_path, prefix, "analytical-aware")
    compute = sum(chakra.int_attribute(n, chakra.DURATION_NS, "") for n in nodes
                  if n.type == chakra.NodeType.COMP_NODE)
    for summary in (unaware, aware):
        assert summary["compute_ns"] == compute
        assert summary["total_ns"] > compute          # communication and the bubble add time
    assert aware["total_ns"] >= unaware["total_ns"] * 0.99


def _detailed_backends() -> list:
    """ns-3 and Garnet, each skipped with its own reason when it is not installed."""
    from adapters.garnet.locate import unavailable_reason
    from adapters.ns3.loader import ns3_available
    gem5_reason = unavailable_reason()
    return [pytest.param("ns3", marks=pytest.mark.skipif(
                not ns3_available(), reason="ns-3's Python bindings are not installed "
                "(pip install astra-cosim[ns3]; CI installs them in .ci/steps/20-ns3.sh)")),
            pytest.param("garnet", marks=pytest.mark.skipif(
                gem5_reason is not None, reason=gem5_reason or ""))]


@pytest.mark.parametrize("backend", _detailed_backends())
def test_pipeline_traces_run_on_the_detailed_backends(tmp_path, backend) -> None:
    """A TP 2 × PP 2 × DP 2 step (SEND/RECV between stages, TP and DP collectives) on a
    packet- or flit-level network: the same compute, and communication that costs time and
    lands within a factor of two of the congestion-aware model."""
    prefix = str(tmp_path / "et" / "tiny")
    assert main(["workload", "llm", "--model", model_file(tmp_path, TINY), "--platform",
                 "dgx-a100", "--gpus", "8", "--tp", "2", "--pp", "2", "--dp", "2",
                 "--global-batch", "4", "--out", prefix]) == 0
    aware, detailed = run(tmp_path, prefix, "analytical-aware"), run(tmp_path, prefix, backend)
    assert detailed["compute_ns"] == aware["compute_ns"]
    assert detailed["total_ns"] > detailed["compute_ns"]
    assert 0.5 < detailed["total_ns"] / aware["total_ns"] < 2.0


def test_moe_all_to_all_volume(tmp_path) -> None:
    model = load_llm(model_file(tmp_path, TINY_MOE))
    par = ParallelConfig(tp=1, pp=1, dp=4, ep=4, micro_batch=2, global_batch=8, seq=128)
    ops = LayerOps(model, par, GpuComputeModel(load_platform("dgx-h100").gpu))
    a2a = [op for op in ops.forward(0) if op.coll == "ALLTOALL"]
    tokens = par.micro_batch * par.seq
    # dispatch and combine: tokens x top-k x hidden x bytes each
    assert [op.size for op in a2a] == [tokens * 2 * 256 * 2] * 2
    assert all(op.group == "ep" for op in a2a)
    prefix = str(tmp_path / "moe" / "et")
    write_llm_traces(model, par, load_platform("dgx-h100"), prefix)
    nodes = chakra.read_trace(chakra.trace_path(prefix, 3)).nodes
    sizes = [chakra.int_attribute(n, "comm_size", "") for n in nodes
             if n.type == chakra.NodeType.COMM_COLL_NODE and
             chakra.int_attribute(n, "comm_type", "") == chakra.CollectiveCommType.ALL_TO_ALL]
    # 4 layers x 1 micro-batch x (2 forward + 2 backward) all-to-alls
    assert par.micro_batches == 1
    assert sizes == [tokens * 2 * 256 * 2] * (4 * 4)
    with open(prefix + ".groups.json", encoding="utf-8") as handle:
        groups = json.load(handle)
    assert groups["ep_0"] == [0, 1, 2, 3]


def test_capacity_factor_scales_the_dispatch(tmp_path) -> None:
    model = load_llm(model_file(tmp_path, TINY_MOE + "capacity_factor: 1.5\n"))
    par = ParallelConfig(tp=2, dp=2, ep=2, micro_batch=1, global_batch=2, seq=128)
    ops = LayerOps(model, par, GpuComputeModel(load_platform("dgx-h100").gpu))
    assert ops.moe_dispatch_bytes() == int(64 * 2 * 1.5) * 256 * 2


def test_rank_mapping_keeps_tp_innermost() -> None:
    par = ParallelConfig(tp=2, pp=2, dp=4, ep=2, cp=1)
    assert par.group(5, "tp") == [4, 5]
    assert par.group(5, "dp") == [1, 3, 5, 7]
    assert par.group(5, "ep") == [5, 7]
    assert par.group(5, "pp") == [5, 13]
    assert par.coords(13) == {"tp": 1, "cp": 0, "ep": 0, "dp": 1, "pp": 1}


def test_context_parallel_ring_overlaps_the_attention(tmp_path) -> None:
    """The K,V ring runs beside the attention kernel: in the trace the projection waits for
    both, and the run finishes on the analytical backend."""
    prefix = str(tmp_path / "cp" / "et")
    assert main(["workload", "llm", "--model", model_file(tmp_path, TINY), "--platform",
                 "dgx-h100", "--tp", "2", "--cp", "2", "--pp", "2", "--global-batch", "4",
                 "--sequence-parallel", "--out", prefix]) == 0
    nodes = chakra.read_trace(chakra.trace_path(prefix, 0)).nodes
    by_name = {node.name: node for node in nodes}
    ring, attention, proj = (by_name["mb0_cp_ring_kv"], by_name["mb0_attention"],
                             by_name["mb0_proj"])
    assert list(attention.data_deps) == list(ring.data_deps)       # both follow the QKV GEMM
    assert set(proj.data_deps) == {attention.id, ring.id}
    summary = run(tmp_path, prefix, "analytical")
    assert summary["total_ns"] > summary["compute_ns"]


def test_moe_traces_with_tensor_and_expert_parallelism_run(tmp_path) -> None:
    prefix = str(tmp_path / "moe-tp" / "et")
    assert main(["workload", "llm", "--model", model_file(tmp_path, TINY_MOE), "--platform",
                 "dgx-a100", "--tp", "2", "--pp", "2", "--dp", "2", "--ep", "2",
                 "--global-batch", "4", "--out", prefix]) == 0
    names = [node.name for node in chakra.read_trace(chakra.trace_path(prefix, 0)).nodes]
    assert "mb0_ep_a2a" in names and "mb0_tp_moe_gather" in names
    summary = run(tmp_path, prefix, "analytical")
    assert summary["total_ns"] > summary["compute_ns"]


def test_gpu_roofline_compute_adapter_retimes_the_gemms_to_the_same_times(tmp_path) -> None:
    """GEMM nodes carry their shape; timed online by the gpu-roofline adapter they take the
    time written at generation (the same model), in process and as a child process."""
    prefix = str(tmp_path / "et" / "tiny")
    assert main(["workload", "llm", "--model", model_file(tmp_path, TINY), "--platform",
                 "dgx-h100", "--tp", "2", "--pp", "2", "--global-batch", "2", "--out",
                 prefix]) == 0
    recorded = run(tmp_path, prefix, "analytical")
    config = tmp_path / "gpu.yaml"
    config.write_text("gpu: h100-sxm5-80gb\ndtype: bf16\n")
    for placement in ("inprocess", "process"):
        out = tmp_path / f"online-{placement}"
        assert main(["run", "--workload", prefix, "--system", prefix + ".system.json",
                     "--network", prefix + ".network.yml", "--comm-group",
                     prefix + ".groups.json", "--compute-backend", "gpu-roofline",
                     "--compute-config", str(config), "--placement", placement,
                     "--out", str(out)]) == 0
        with open(out / "summary.json", encoding="utf-8") as handle:
            online = json.load(handle)
        assert online["total_ns"] == recorded["total_ns"]
        assert online["compute_ns"] == recorded["compute_ns"]
        assert online["adapter_stats"]["compute"]["requests"] > 0     # GEMMs were asked


def test_full_traces_and_predict_agree(tmp_path, capsys) -> None:
    """The whole job run as traces (every rank, ring collectives in communicator groups)
    and predict's reduction (one replica, group networks, extrapolation) tell the same time."""
    job = ["--model", "llama3-8b", "--platform", "dgx-h100", "--tp", "2", "--pp", "2", "--dp",
           "2", "--global-batch", "8", "--seq", "2048", "--sequence-parallel"]
    prefix = str(tmp_path / "et" / "llama")
    assert main(["workload", "llm", *job, "--out", prefix]) == 0
    capsys.readouterr()
    assert main(["predict", *job, "--json"]) == 0
    predicted = json.loads(capsys.readouterr().out)["iteration_ns"]
    simulated = run(tmp_path, prefix, "analytical")["total_ns"]
    assert simulated == pytest.approx(predicted, rel=0.01)


def test_tp_overlap_hides_tp_time_in_traces_and_predict_alike(tmp_path, capsys) -> None:
    job = ["--model", "llama3-8b", "--platform", "dgx-a100", "--tp", "4", "--pp", "2",
           "--global-batch", "4", "--seq", "2048", "--sequence-parallel"]
    capsys.readouterr()
    assert main(["predict", *job, "--json"]) == 0
    blocking = json.loads(capsys.readouterr().out)
    assert main(["predict", *job, "--tp-overlap", "--json"]) == 0
    overlapped = json.loads(capsys.readouterr().out)
    assert overlapped["breakdown_ns"]["exposed_tp"] < blocking["breakdown_ns"]["exposed_tp"] / 2
    assert overlapped["breakdown_ns"]["compute"] == blocking["breakdown_ns"]["compute"]
    prefix = str(tmp_path / "et" / "tpo")
    assert main(["workload", "llm", *job, "--tp-overlap", "--out", prefix]) == 0
    simulated = run(tmp_path, prefix, "analytical")["total_ns"]
    assert simulated == pytest.approx(overlapped["iteration_ns"], rel=0.01)
