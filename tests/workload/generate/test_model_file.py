"""Model descriptions: presets load, and inconsistent or impossible input is refused with the
file, the line and what was expected."""

from __future__ import annotations

import os

import pytest

from adapters.registry import build_compute
from orchestrator.cli.main import main
from orchestrator.errors import InputError
from orchestrator.workload.generate.generator import generate
from orchestrator.workload.generate.model_file import load_model, preset_names
from orchestrator.workload.generate.recipes import Parallel

ROOFLINE = build_compute("roofline", {"peak_tflops": 100, "local_mem_bw_gb_per_s": 1000})


def _write(tmp_path, text: str) -> str:
    path = tmp_path / "model.yaml"
    path.write_text(text)
    return str(path)


def test_presets_lower_layers_to_gemms() -> None:
    assert preset_names() == ["dlrm", "gpt3-175b", "megatron-gpt-8.3b", "resnet50", "vgg16"]
    vgg = load_model("vgg16")
    first, fc1 = vgg.layers[0], vgg.layers[13]
    # 224x224 outputs per image, 3x3x3 window plus the bias row, 64 filters
    assert (first.m, first.n, first.k) == (256 * 224 * 224, 64, 28)
    assert (fc1.name, fc1.m, fc1.n, fc1.k) == ("fc1", 256, 4096, 25089)
    resnet = load_model("resnet50")
    assert len(resnet.layers) == 54
    stem = resnet.layers[0]
    assert (stem.m, stem.n, stem.k) == (64 * 112 * 112, 64, 147)
    assert load_model("gpt3-175b").transformer.d_model == 12288


@pytest.mark.parametrize("text, message, line", [
    ("datatype_bytes: 2\nlayers:\n  - {name: a, gemm: {m: 4, n: 4}}\n",
     "layer a: gemm: missing key 'k'", 3),
    ("datatype_bytes: 2\nlayers:\n  - {name: a, gemm: {m: 4, n: 4, k: 4}}\n"
     "  - {name: b, conv: {ifmap: [4, 4], filter: [5, 5], channels: 1, filters: 2}}\n",
     "layer b: filter 5x5 is larger than its ifmap 4x4", 4),
    ("datatype_bytes: 2\ntransformer: {blocks: 1, d_model: 100, heads: 3, ffn: 400, seq: 8,"
     " vocab: 10}\n", "d_model 100 is not a multiple of heads 3", 2),
    ("datatype_bytes: 2\nlayers:\n  - {name: a, fc: {inputs: 4, outputs: 0}}\n",
     "outputs: found 0; expected a whole number >= 1", 3),
    ("datatype_bytes: 2\nlayers:\n  - {name: a, fc: {inputs: 4, outputs: 2}, biass: true}\n",
     "layer a: unknown key 'biass'", 3),
    ("datatype_bytes: 2\nbatch: 4\n", "give exactly one of layers, transformer, dlrm", 1),
])
def test_inconsistent_models_name_file_and_line(tmp_path, text, message, line) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(InputError) as error:
        load_model(path)
    assert error.value.path == path and error.value.line == line
    assert message in error.value.detail


@pytest.mark.parametrize("parallelism, parallel, message", [
    ("DATA", Parallel(3), "DATA splits m: 8 does not divide into 3 equal parts"),
    ("MODEL", Parallel(4), "MODEL splits n: 6 does not divide into 4 equal parts"),
    ("HYBRID_DATA_MODEL", Parallel(4), "needs --packages"),
    ("HYBRID_MODEL_DATA", Parallel(4, packages=3), "--npus over --packages: 4 does not divide"),
    ("TRANSFORMER", Parallel(4, tp=2), "this model lists layers"),
    ("DATA", Parallel(4, tp=2), "--tp means nothing to parallelism DATA"),
    ("MODEL", Parallel(4, packages=2), "--packages means nothing to parallelism MODEL"),
])
def test_splits_the_npu_count_cannot_divide_are_refused(tmp_path, parallelism, parallel,
                                                         message) -> None:
    model = load_model(_write(tmp_path, "datatype_bytes: 2\nlayers:\n"
                                        "  - {name: a, gemm: {m: 8, n: 6, k: 4}}\n"))
    with pytest.raises(InputError) as error:
        generate(model, parallelism, parallel, ROOFLINE)
    assert message in str(error.value)


@pytest.mark.parametrize("parallel, message", [
    (Parallel(256, tp=5), "--npus over --tp: 256 does not divide into 5"),
    (Parallel(256, tp=64), "heads over --tp: 96 does not divide into 64"),
    (Parallel(256, tp=16, pp=2), "no pipeline stages"),
    (Parallel(256), "needs --tp"),
])
def test_transformer_splits_are_checked(parallel, message) -> None:
    with pytest.raises(InputError) as error:
        generate(load_model("gpt3-175b"), "TRANSFORMER", parallel, ROOFLINE)
    assert message in str(error.value)


def test_the_command_line_reports_a_bad_model_on_one_line(tmp_path, capsys) -> None:
    path = _write(tmp_path, "datatype_bytes: 2\nlayers:\n  - {name: a, gemm: {m: 8, n: 6, k: 4}}\n")
    status = main(["workload", "generate", "--model", path, "--parallelism", "DATA", "--npus",
                   "3", "--compute", "roofline", "--compute-option", "peak_tflops=100",
                   "--compute-option", "local_mem_bw_gb_per_s=1000", "--out",
                   str(tmp_path / "w.txt")])
    err = capsys.readouterr().err
    assert status == 2
    assert err == (f"astra-cosim: error: {path}:3: layer a: DATA splits m: 8 does not divide "
                   "into 3 equal parts; choose an NPU count (or packages / TP size) that "
                   "divides it\n")
    assert not (tmp_path / "w.txt").exists()


def test_scalesim_missing_is_one_line_naming_the_extra(tmp_path, capsys, monkeypatch) -> None:
    import sys
    monkeypatch.setitem(sys.modules, "scalesim", None)
    monkeypatch.setitem(sys.modules, "scalesim.layout_utils", None)
    status = main(["workload", "generate", "--model", "vgg16", "--parallelism", "DATA",
                   "--npus", "256", "--compute", "scalesim", "--compute-option",
                   "preset=tpu-256x256-ws", "--out", str(tmp_path / "w.txt")])
    assert status == 2
    assert "pip install 'astra-cosim[scalesim]'" in capsys.readouterr().err


def test_chakra_traces_are_written_beside_the_workload(tmp_path, capsys) -> None:
    path = _write(tmp_path, "datatype_bytes: 2\nlayers:\n  - {name: a, gemm: {m: 8, n: 6, k: 4}}\n"
                            "  - {name: b, gemm: {m: 8, n: 4, k: 6}}\n")
    assert main(["workload", "generate", "--model", path, "--parallelism", "DATA", "--npus",
                 "4", "--compute", "roofline", "--compute-option", "peak_tflops=100",
                 "--compute-option", "local_mem_bw_gb_per_s=1000", "--out",
                 str(tmp_path / "w.txt"), "--chakra", str(tmp_path / "et" / "w")]) == 0
    assert sorted(os.listdir(tmp_path / "et")) == [f"w.{npu}.et" for npu in range(4)]
    assert "wrote 4 trace(s)" in capsys.readouterr().out
