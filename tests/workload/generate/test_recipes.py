"""Parallelism recipes: communication sizes from the shapes, exactly as the tutorial's
workload files have them, and every generated workload reads back as a 1.0 workload."""

from __future__ import annotations

import os

import pytest

from adapters.registry import build_compute
from orchestrator.workload.generate.generator import PARALLELISMS, generate
from orchestrator.workload.generate.model_file import load_model
from orchestrator.workload.generate.recipes import Parallel
from orchestrator.workload.generate.writer import format_workload
from orchestrator.workload.text_format import load_text_workload

ROOFLINE = build_compute("roofline", {"peak_tflops": 100, "local_mem_bw_gb_per_s": 1000})
COMM_COLUMNS = (0, 3, 4, 6, 7, 9, 10)          # name and the three (type, bytes) pairs


def _comm_columns(text: str) -> list[list[str]]:
    rows = [line.split() for line in text.splitlines()[2:] if line.strip()]
    return [[row[column] for column in COMM_COLUMNS] for row in rows]


@pytest.mark.parametrize("case, model, parallelism, parallel", [
    ("mlsys22_ex3-1_TPU-VGG16/vgg16.txt", "vgg16", "DATA", Parallel(256)),
    ("mlsys22_ex3-2_TPU-GPT3/gpt3.txt", "gpt3-175b", "TRANSFORMER", Parallel(256, tp=16)),
])
def test_communication_matches_the_tutorial_workloads(reference_cases_dir, case, model,
                                                       parallelism, parallel) -> None:
    """Layer names, collective types and sizes equal the MLSys'22 files; the header too."""
    generated = format_workload(generate(load_model(model), parallelism, parallel, ROOFLINE))
    with open(os.path.join(reference_cases_dir, case), encoding="utf-8") as handle:
        reference = handle.read()
    assert _comm_columns(generated) == _comm_columns(reference)
    assert generated.splitlines()[0].split() == reference.splitlines()[0].split()


def test_exercise_4_slice_communicates_as_the_tutorial(reference_cases_dir) -> None:
    path = os.path.join(os.path.dirname(__file__), "..", "..", "..", "experiments", "tutorial",
                        "inputs", "resnet50_slice.yaml")
    generated = format_workload(generate(load_model(path), "DATA_REORDER", Parallel(64),
                                         ROOFLINE))
    with open(os.path.join(reference_cases_dir, "mlsys22_ex4_reorder",
                           "exercise_4_reorder.txt"), encoding="utf-8") as handle:
        assert _comm_columns(generated) == _comm_columns(handle.read())


def test_model_and_hybrid_recipes_follow_upstream_formulas(tmp_path) -> None:
    """m=8 rows, k=6 inputs, n=4 outputs, 2-byte elements, 4 NPUs in 2 packages."""
    path = tmp_path / "m.yaml"
    path.write_text("datatype_bytes: 2\nlayers:\n  - {name: a, gemm: {m: 8, n: 4, k: 6}}\n")
    model = load_model(str(path))

    def comms(parallelism: str) -> list[str]:
        packages = 2 if parallelism.startswith("HYBRID_") else None
        text = format_workload(generate(model, parallelism, Parallel(4, packages), ROOFLINE))
        return _comm_columns(text)[0][1:]

    assert comms("DATA") == ["NONE", "0", "NONE", "0", "ALLREDUCE", str(4 * 6 * 2)]
    assert comms("MODEL") == ["ALLGATHER", str(8 * 4 * 2 // 4), "REDUCESCATTER",
                              str(8 * 6 * 2), "NONE", "0"]
    assert comms("HYBRID_DATA_MODEL") == ["ALLGATHER", str(8 * 4 * 2 // 4), "REDUCESCATTER",
                                          str(8 * 6 * 2 // 2), "ALLREDUCE", str(6 * 4 * 2 // 2)]
    assert comms("HYBRID_MODEL_DATA") == ["ALLGATHER", str(8 * 4 * 2 // 4), "REDUCESCATTER",
                                          str(8 * 6 * 2 // 2), "ALLREDUCE", str(4 * 6 * 2 // 2)]


def test_the_npu_share_of_each_gemm_goes_to_the_compute_model(tmp_path) -> None:
    """DATA: forward (m/P x k)(k x n), input gradient (m/P x n)(n x k), weight gradient
    (k x m/P)(m/P x n); a fixed layer keeps its cycles."""
    seen = []

    class Recorder(type(ROOFLINE)):
        def duration_ns(self, request):
            seen.append((request.m, request.n, request.k))
            return request.m + 10 * request.n + 100 * request.k

    path = tmp_path / "m.yaml"
    path.write_text("datatype_bytes: 2\nupdate_delay: {wg_divisor: 4}\nlayers:\n"
                    "  - {name: a, gemm: {m: 8, n: 4, k: 6}}\n"
                    "  - {name: act, fixed: {fwd: 5, ig: 6, wg: 7}}\n")
    workload = generate(load_model(str(path)), "DATA", Parallel(2), Recorder(ROOFLINE.config))
    assert seen == [(4, 4, 6), (4, 6, 4), (6, 4, 4)]
    first, fixed = workload.rows
    assert (first.fwd_cycles, first.ig_cycles, first.wg_cycles) == (644, 464, 446)
    assert first.update_delay == 112                       # round(446 / 4)
    assert (fixed.fwd_cycles, fixed.ig_cycles, fixed.wg_cycles) == (5, 6, 7)


@pytest.mark.parametrize("model, parallelism, parallel", [
    ("vgg16", "DATA", Parallel(256)),
    ("vgg16", "DATA_REORDER", Parallel(256)),
    ("resnet50", "DATA", Parallel(64)),
    ("resnet50", "HYBRID_DATA_MODEL", Parallel(16, packages=4)),
    ("gpt3-175b", "TRANSFORMER", Parallel(256, tp=16)),
    ("gpt3-175b", "TRANSFORMER_NO_CHECKPOINTS", Parallel(64, tp=8)),
    ("megatron-gpt-8.3b", "TRANSFORMER", Parallel(64, tp=8)),
    ("dlrm", "DLRM", Parallel(16)),
])
def test_generated_workloads_read_back(tmp_path, model, parallelism, parallel) -> None:
    text = format_workload(generate(load_model(model), parallelism, parallel, ROOFLINE))
    path = tmp_path / "w.txt"
    path.write_text(text)
    workload = load_text_workload(str(path))
    expected_loop = {"TRANSFORMER": "HYBRID_TRANSFORMER_FWD_IN_BCKWD",
                     "TRANSFORMER_NO_CHECKPOINTS": "HYBRID_TRANSFORMER",
                     "DLRM": "HYBRID_DLRM"}.get(parallelism, parallelism)
    assert workload.loop_name == expected_loop
    assert all(layer.fwd_compute_cycles > 0 for layer in workload.layers
               if not layer.name.startswith(("softmax", "layerNorm")))


def test_every_parallelism_is_covered() -> None:
    assert set(PARALLELISMS) == {"DATA", "DATA_REORDER", "MODEL", "HYBRID_DATA_MODEL",
                                 "HYBRID_MODEL_DATA", "TRANSFORMER",
                                 "TRANSFORMER_NO_CHECKPOINTS", "DLRM"}
