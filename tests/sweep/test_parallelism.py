"""The parallelism search: a sweep of ``predict`` over splits, constrained and ranked."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from orchestrator.cli.main import main
from orchestrator.errors import InputError
from orchestrator.platforms.gpu import load_platform
from orchestrator.predict.predict import Predictor
from orchestrator.sweep.runner import run_sweep
from orchestrator.sweep.spec import load_sweep
from orchestrator.workload.generate.llm.model import load_llm
from orchestrator.workload.generate.llm.parallel import ParallelConfig
from tests.sweep.sweeps import SWEEPS, read_csv

EXAMPLE = os.path.join(SWEEPS, "llama3_70b_1024_h100.yaml")
SMALL = """name: small
predict:
  model: llama3-70b
  platform: dgx-h100
  gpus: 64
  global_batch: 64
  seq: 4096
  sequence_parallel: true
axes:
  tp: [4, 8]
  pp: [2, 3, 4, 8]
  zero: [0, 3]
"""


def test_the_llama3_70b_example_ranks_the_splits_that_fit(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    assert main(["sweep", EXAMPLE, "--jobs", "1", "--quiet", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    rows = read_csv(tmp_path / "results.csv")
    ranking = read_csv(tmp_path / "ranking.csv")
    # 3 tp x 4 pp x 2 cp x 2 micro-batch x 2 ZeRO = 96 points; those over 80 GB are left out
    left_out = int(out.split(" point(s) left out: memory per GPU over")[0].split()[-1])
    assert len(rows) + left_out == 96 and len(rows) > 10
    for row in rows:
        assert int(row["tp"]) * int(row["pp"]) * int(row["dp"]) * int(row["cp"]) == 1024
        assert float(row["memory_gb"]) <= float(row["hbm_gb"]) == 80
    tflops = [float(row["tflops_per_gpu"]) for row in ranking]
    assert tflops == sorted(tflops, reverse=True) and len(ranking) == len(rows)
    best = ranking[0]
    # the report names the best split with its predicted time and memory
    step_s = int(best["iteration_ns"]) / 1e9
    assert (f"1. tp={best['tp']} pp={best['pp']} dp={best['dp']} cp={best['cp']} ep=1 "
            f"micro_batch={best['micro_batch']} zero={best['zero']}: "
            f"{float(best['tflops_per_gpu']):.1f} TFLOP/s per GPU") in out
    assert f"{step_s:.3f} s per step, {float(best['memory_gb']):.1f} of 80 GB per GPU" in out
    # and its figures are astra-cosim predict's for that split
    par = ParallelConfig(tp=int(best["tp"]), pp=int(best["pp"]), dp=int(best["dp"]),
                         cp=int(best["cp"]), micro_batch=int(best["micro_batch"]),
                         zero=int(best["zero"]), global_batch=1024, seq=8192,
                         sequence_parallel=True)
    prediction = Predictor(load_llm("llama3-70b"), load_platform("dgx-h100"), par).predict()
    assert prediction.iteration_ns == int(best["iteration_ns"])
    assert prediction.memory_gb_per_gpu["total"] == float(best["memory_gb"])
    # astra-cosim report shows the ranking, best first
    assert main(["report", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"parallelism search {tmp_path.name}: {len(rows)} trials ok, 0 failed" in out
    first = next(line for line in out.splitlines() if line.lstrip("│ ").startswith("1 "))
    cells = [cell.strip() for cell in first.strip("│ ").split("│")]
    assert cells[:6] == ["1", best["tp"], best["pp"], best["cp"], best["micro_batch"],
                         best["zero"]]
    assert cells[-5:] == [f"{float(best['tflops_per_gpu']):.1f}",
                          f"{100 * float(best['mfu']):.1f}", f"{step_s:.3f}",
                          f"{float(best['memory_gb']):.1f}", "80"]
    # and names it in words, with its predicted step time and memory, on the terminal and
    # in the page
    named = (f"best: tp={best['tp']} pp={best['pp']} cp={best['cp']} "
             f"micro_batch={best['micro_batch']} zero={best['zero']} dp={best['dp']} ep=1: "
             f"{float(best['tflops_per_gpu']):.1f} TFLOP/s per GPU (MFU "
             f"{100 * float(best['mfu']):.1f}%), predicted step {step_s:.3f} s, memory "
             f"{float(best['memory_gb']):.1f} of 80 GB per GPU")
    assert named in out.splitlines()
    assert main(["report", str(tmp_path), "--html"]) == 0
    assert f"<strong>{named}</strong>" in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_points_that_cannot_run_are_left_out_with_their_reason(tmp_path: Path) -> None:
    (tmp_path / "small.yaml").write_text(SMALL, encoding="utf-8")
    spec = load_sweep(str(tmp_path / "small.yaml"))
    report = run_sweep(spec, str(tmp_path / "out"), progress=None)
    rows = read_csv(tmp_path / "out" / "results.csv")
    # pp=3 does not divide 64 / tp; the rest must divide and fit
    assert not any(row["pp"] == "3" for row in rows)
    assert any(note.startswith("4 point(s) left out: tp x pp x cp does not divide gpus")
               for note in report.notes)
    assert report.trials == len(rows) == 16 - 4 - sum(
        int(note.split()[0]) for note in report.notes if "HBM" in note or "layers" in note)
    record = json.loads((tmp_path / "out" / "trials" / f"{rows[0]['trial']}.json").read_text())
    assert record["config"]["predict"]["dp"] == 64 // (int(rows[0]["tp"]) * int(rows[0]["pp"]))
    # a rerun resumes: every trial is kept
    again = run_sweep(spec, str(tmp_path / "out"), progress=None)
    assert (again.ran, again.skipped) == (0, report.trials)


@pytest.mark.parametrize("body, message", [
    ("predict: {model: llama3-70b, platform: dgx-h100, gpus: 8, global_batch: 8}\n"
     "axes: {tp: [1, 2], tensor: [1]}\n", "axes: tensor: found 'tensor'; expected one of"),
    ("predict: {model: llama3-70b, platform: dgx-h100, gpus: 8}\naxes: {tp: [1]}\n",
     "missing global_batch"),
    ("base: x.yaml\npredict: {model: llama3-70b}\naxes: {tp: [1]}\n", "not both"),
])
def test_a_bad_search_is_one_error_naming_the_file(tmp_path: Path, body: str,
                                                    message: str) -> None:
    (tmp_path / "bad.yaml").write_text(body, encoding="utf-8")
    with pytest.raises(InputError, match=message) as caught:
        load_sweep(str(tmp_path / "bad.yaml"))
    assert str(tmp_path / "bad.yaml") in str(caught.value)
