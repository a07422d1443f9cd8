"""Workloads a sweep generates where the trial runs (``workload: {generate: {...}}``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.errors import InputError
from orchestrator.sweep.generated import generated_path
from orchestrator.sweep.runner import make_trials, run_sweep
from orchestrator.sweep.spec import load_sweep
from tests.sweep.sweeps import TUTORIAL, read_csv

GENERATE = ("{generate: {model: vgg16, parallelism: DATA, npus: 8, compute: roofline, "
            "compute_config: {peak_tflops: 100, local_mem_bw_gb_per_s: 1000}}}")


def _sweep(tmp_path: Path, workload: str, axes: str, name: str = "gen") -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"name: {name}\nbase:\n  workload: {workload}\n"
                    f"  system: {TUTORIAL}/inputs/sys_ring.txt\n"
                    f"  network: {TUTORIAL}/inputs/ring8.json\naxes:\n{axes}", encoding="utf-8")
    return str(path)


def test_a_generated_workload_gives_the_results_of_the_generated_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASTRA_COSIM_INPUT_CACHE", str(tmp_path / "cache"))
    axes = "  system.all-reduce-implementation: [ring, direct]\n"
    spec = load_sweep(_sweep(tmp_path, GENERATE, axes))
    trials, _ = make_trials(spec)
    assert trials[0].config["workload"]["generate"]["model"] == "vgg16"   # the mapping travels
    run_sweep(spec, str(tmp_path / "gen"), progress=None)
    generated = list((tmp_path / "cache" / "generated").iterdir())
    assert len(generated) == 1           # generated once for both trials
    # the same workload generated ahead into a file, swept as a file
    ahead = generated_path(trials[0].config["workload"]["generate"], str(tmp_path / "ahead"))
    run_sweep(load_sweep(_sweep(tmp_path, ahead, axes, name="file")), str(tmp_path / "file"),
              progress=None)
    gen_rows, file_rows = read_csv(tmp_path / "gen" / "results.csv"), \
        read_csv(tmp_path / "file" / "results.csv")
    assert [row["status"] for row in gen_rows] == ["ok", "ok"]
    assert [row["total_ns"] for row in gen_rows] == [row["total_ns"] for row in file_rows]
    assert gen_rows[0]["total_ns"] != gen_rows[1]["total_ns"]


def test_a_generator_option_is_an_axis_and_part_of_the_key(tmp_path: Path) -> None:
    axes = "  workload.generate.npus: [8, 16]\n"
    trials, _ = make_trials(load_sweep(_sweep(tmp_path, GENERATE, axes)))
    assert [t.config["workload"]["generate"]["npus"] for t in trials] == [8, 16]
    assert trials[0].key != trials[1].key
    record = json.dumps(trials[1].config)
    assert "generated" not in record       # no machine's cache path in the trial


@pytest.mark.parametrize("workload, message", [
    ("{generate: {model: vgg16, parallelism: DATA, npus: 8, compute: roofline, gpus: 2}}",
     "workload.generate: unknown key: found 'gpus'"),
    ("{generate: {model: vgg16, npus: 8, compute: roofline}}",
     "workload.generate: missing parallelism"),
])
def test_a_bad_generator_is_one_error_naming_the_sweep(tmp_path: Path, workload: str,
                                                       message: str) -> None:
    path = _sweep(tmp_path, workload, "  options.comm_scale: [1]\n")
    with pytest.raises(InputError, match=message) as caught:
        load_sweep(path)
    assert path in str(caught.value)
