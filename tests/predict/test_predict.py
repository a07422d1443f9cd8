"""`astra-cosim predict`: its JSON, the breakdown adding up, errors, the GPU compute model,
and Megatron-LM Table 1 rows within 10% (the full table: experiments/validation/)."""

from __future__ import annotations

import csv
import json
import os
import sys

import pytest

from adapters.gpu_roofline.model import GpuComputeModel
from adapters.ns3.loader import ns3_available
from orchestrator.cli.main import main
from orchestrator.platforms.gpu import load_platform
from orchestrator.workload.generate.llm.model import load_llm

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VALIDATION = os.path.join(ROOT, "experiments", "validation")
FIELDS = {"model", "platform", "backend", "gpus", "parallel", "micro_batches", "iteration_ns",
          "tflops_per_gpu", "mfu", "flop_formula", "flops_per_iteration", "breakdown_ns",
          "stage_finish_ns", "memory_gb_per_gpu", "hbm_gb"}
BREAKDOWN = {"compute", "optimizer", "exposed_tp", "exposed_cp", "exposed_ep", "exposed_dp",
             "pipeline_bubble_and_pp"}


def predict_json(capsys, *args: str) -> dict:
    assert main(["predict", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_fields_and_breakdown_add_up(capsys) -> None:
    result = predict_json(capsys, "--model", "llama3-8b", "--platform", "dgx-h100", "--gpus",
                          "64", "--tp", "2", "--pp", "4", "--dp", "4", "--cp", "2",
                          "--global-batch", "64", "--seq", "8192", "--zero", "1",
                          "--sequence-parallel", "--recompute", "selective")
    assert set(result) == FIELDS
    assert set(result["breakdown_ns"]) == BREAKDOWN
    b = result["breakdown_ns"]
    # compute includes the optimizer; the rest are disjoint parts of the slowest rank's time
    parts = b["compute"] + sum(b[k] for k in BREAKDOWN - {"compute", "optimizer"})
    assert parts == result["iteration_ns"] == max(result["stage_finish_ns"])
    assert b["exposed_tp"] > 0 and b["exposed_cp"] > 0 and b["exposed_dp"] > 0
    assert b["pipeline_bubble_and_pp"] > 0 and b["exposed_ep"] == 0
    model = load_llm("llama3-8b")
    flops = model.model_flops(64 * 8192, 8192)
    assert result["flops_per_iteration"] == pytest.approx(flops)
    seconds = result["iteration_ns"] / 1e9
    assert result["tflops_per_gpu"] == pytest.approx(flops / seconds / 64 / 1e12)
    assert result["mfu"] == pytest.approx(result["tflops_per_gpu"] / 989)


def test_moe_prediction_exposes_expert_parallel_time(capsys) -> None:
    result = predict_json(capsys, "--model", "mixtral-8x7b", "--platform", "dgx-h100",
                          "--tp", "2", "--dp", "8", "--ep", "8", "--global-batch", "64",
                          "--seq", "4096")
    assert result["breakdown_ns"]["exposed_ep"] > 0
    assert 0.05 < result["mfu"] < 0.8


def test_more_data_parallel_replicas_cost_only_the_gradient_reduction(capsys) -> None:
    args = ["--model", "megatron-gpt-39.1b", "--platform", "dgx-a100", "--tp", "8", "--pp",
            "2", "--micro-batch", "4", "--recompute", "full"]
    small = predict_json(capsys, *args, "--dp", "4", "--global-batch", "192")
    large = predict_json(capsys, *args, "--dp", "32", "--global-batch", "1536")
    assert small["micro_batches"] == large["micro_batches"] == 12
    assert small["breakdown_ns"]["compute"] == large["breakdown_ns"]["compute"]
    assert large["breakdown_ns"]["exposed_dp"] > small["breakdown_ns"]["exposed_dp"]


@pytest.mark.parametrize("args,message", [
    (["--tp", "3"], "--tp 3 must divide the 32 attention heads"),
    (["--gpus", "10"], "--gpus 10 differs from tp x pp x dp x cp"),
    (["--pp", "5", "--virtual-stages", "7"], "32 layers do not fill --pp 5"),
    (["--ep", "2"], "--ep 2 must divide --dp 1"),
])
def test_bad_splits_are_one_line_errors(capsys, args, message) -> None:
    code = main(["predict", "--model", "llama3-8b", "--platform", "dgx-h100",
                 "--global-batch", "8", *args])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1


def test_an_iteration_past_the_time_limit_is_refused_not_printed(capsys) -> None:
    """10^11 micro-batches of llama3-8b take ~1.7e19 ns, past 2^62 ns: an error, not a
    number no run could reach."""
    code = main(["predict", "--model", "llama3-8b", "--platform", "dgx-h100", "--gpus", "8",
                 "--tp", "8", "--global-batch", str(10 ** 11), "--micro-batch", "1"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert f"--global-batch {10 ** 11} is too large" in err and "2^62 ns" in err


def test_unknown_platform_names_the_presets(capsys) -> None:
    code = main(["predict", "--model", "llama3-8b", "--platform", "dgx-z", "--global-batch", "8"])
    err = capsys.readouterr().err
    assert code == 2 and "dgx-a100" in err and "dgx-h100" in err


def test_gpu_model_small_gemms_run_far_below_peak() -> None:
    gpu = GpuComputeModel(load_platform("dgx-a100").gpu, "fp16")
    big = gpu.gemm_fraction(8192, 8192, 8192)
    assert 0.6 < big < 0.8
    assert gpu.gemm_fraction(512, 512, 512) < big / 2
    assert gpu.gemm_ns(64, 64, 64) == 4000            # the kernel floor
    # wave quantisation: one tile more than the SMs hold costs a whole wave
    assert gpu.gemm_ns(108 * 256 + 1, 128, 4096) > gpu.gemm_ns(108 * 256, 128, 4096) * 1.3
    # memory-bound kernels move bytes at the achievable HBM bandwidth (2039 GB/s x 0.85)
    assert abs(gpu.memory_ns(2039 * 0.85 * 1e6) - 1_000_000) <= 1


@pytest.mark.parametrize("index", [0, 3, 4, 6])
def test_megatron_table1_rows_within_ten_percent(index: int) -> None:
    sys.path.insert(0, VALIDATION)
    try:
        from run_table1 import predict_row
    finally:
        sys.path.remove(VALIDATION)
    with open(os.path.join(VALIDATION, "megatron_table1_published.csv"), encoding="utf-8") as f:
        row = list(csv.DictReader(f))[index]
    prediction = predict_row(row, "analytical")
    published = float(row["published_tflops_per_gpu"])
    assert abs(prediction.tflops_per_gpu / published - 1) < 0.10


def test_every_analytical_backend_predicts_and_contention_only_adds_time(capsys) -> None:
    args = ["--model", "llama3-8b", "--platform", "dgx-a100", "--tp", "2", "--pp", "2",
            "--dp", "4", "--global-batch", "32", "--seq", "2048"]
    unaware = predict_json(capsys, *args, "--backend", "analytical")
    aware = predict_json(capsys, *args, "--backend", "analytical-aware")
    assert unaware["breakdown_ns"]["compute"] == aware["breakdown_ns"]["compute"]
    assert aware["iteration_ns"] >= unaware["iteration_ns"] * 0.99


@pytest.mark.skipif(not ns3_available(),
                    reason="ns-3's Python bindings are not installed (pip install "
                           "astra-cosim[ns3]; CI installs them in .ci/steps/20-ns3.sh)")
def test_ns3_backend_predicts(capsys) -> None:
    result = predict_json(capsys, "--model", "llama3-8b", "--platform", "dgx-a100", "--tp", "2",
                          "--pp", "2", "--global-batch", "4", "--seq", "1024",
                          "--backend", "ns3")
    assert result["backend"] == "ns3" and result["breakdown_ns"]["exposed_tp"] > 0


def test_memory_estimate_follows_korthikanti_and_zero_sharding() -> None:
    from orchestrator.predict.memory import activation_bytes_per_layer, in_flight_layers
    from orchestrator.workload.generate.llm.parallel import ParallelConfig
    model = load_llm("megatron-gpt-529.6b")
    s, b, h, a, t = 2048, 1, 20480, 128, 8
    sp = ParallelConfig(tp=t, pp=35, micro_batch=b, global_batch=70, seq=s,
                        sequence_parallel=True)
    assert activation_bytes_per_layer(model, sp) == pytest.approx(s * b * h * (34 / t + 5 * a * s / (h * t)))
    tp_only = ParallelConfig(tp=t, pp=35, micro_batch=b, global_batch=70, seq=s)
    assert activation_bytes_per_layer(model, tp_only) == pytest.approx(
        s * b * h * (10 + 24 / t + 5 * a * s / (h * t)))
    full = ParallelConfig(tp=t, pp=35, micro_batch=b, global_batch=70, seq=s, recompute="full")
    assert activation_bytes_per_layer(model, full) == 2 * s * b * h
    # 1F1B: the first rank holds p micro-batches of its L/p layers = L layers
    assert in_flight_layers(model, sp) == pytest.approx(105)


def test_zero_shards_model_state(capsys) -> None:
    args = ["--model", "llama3-8b", "--platform", "dgx-h100", "--dp", "8", "--global-batch",
            "8", "--seq", "2048"]
    plain = predict_json(capsys, *args)["memory_gb_per_gpu"]
    zero3 = predict_json(capsys, *args, "--zero", "3")["memory_gb_per_gpu"]
    for key in ("weights", "gradients", "optimizer"):
        assert zero3[key] == pytest.approx(plain[key] / 8, abs=0.02)
    assert zero3["activations"] == plain["activations"]
