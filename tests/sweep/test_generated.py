"""Workloads a sweep generates where the trial runs (``workload: {generate: {...}}`` and
``workload: {llm: {...}}``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from orchestrator.cli.main import main
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


LLM = "{llm: {model: llama3-8b, platform: dgx-h100, pp: 2, dp: 2, global_batch: 8}}"


def _llm_sweep(tmp_path: Path, network: str = "", name: str = "llm") -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"name: {name}\nbase:\n  workload: {LLM}\n{network}"
                    "axes:\n  workload.llm.tp: [1, 2]\n", encoding="utf-8")
    return str(path)


def _by_hand(tmp_path: Path, tp: int, backend: str = "analytical") -> int:
    """`astra-cosim workload llm` then `astra-cosim run` on its files: the total."""
    prefix = str(tmp_path / "hand" / f"tp{tp}")
    assert main(["workload", "llm", "--model", "llama3-8b", "--platform", "dgx-h100", "--tp",
                 str(tp), "--pp", "2", "--dp", "2", "--global-batch", "8", "--out",
                 prefix]) == 0
    out = tmp_path / "hand" / f"run-tp{tp}-{backend}"
    assert main(["run", "--workload", prefix, "--system", prefix + ".system.json",
                 "--network", prefix + ".network.yml", "--comm-group", prefix + ".groups.json",
                 "--network-backend", backend, "--out", str(out), "--quiet"]) == 0
    return json.loads((out / "summary.json").read_text())["total_ns"]


def test_an_llm_trace_set_is_generated_where_the_trial_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """No system, network or groups in the sweep: the generator's, as `workload llm` writes
    them; the totals are those of its files run by hand."""
    monkeypatch.setenv("ASTRA_COSIM_INPUT_CACHE", str(tmp_path / "cache"))
    spec = load_sweep(_llm_sweep(tmp_path))
    trials, _ = make_trials(spec)
    assert [t.config["workload"]["llm"]["tp"] for t in trials] == [1, 2]
    assert trials[0].key != trials[1].key
    assert "system" not in trials[0].config and "comm_group" not in trials[0].config
    run_sweep(spec, str(tmp_path / "gen"), progress=None)
    rows = read_csv(tmp_path / "gen" / "results.csv")
    assert [row["status"] for row in rows] == ["ok", "ok"], rows
    assert [int(row["total_ns"]) for row in rows] == [_by_hand(tmp_path, 1),
                                                      _by_hand(tmp_path, 2)]
    folders = sorted((tmp_path / "cache" / "generated").iterdir())
    assert len(folders) == 2
    assert sorted(len(list(folder.glob("llm.*.et"))) for folder in folders) == [4, 8]
    # a second sweep over the same points generates nothing again
    before = {folder: folder.stat().st_mtime_ns for folder in folders}
    run_sweep(spec, str(tmp_path / "again"), progress=None, resume=False)
    assert {f: f.stat().st_mtime_ns for f in folders} == before
    assert read_csv(tmp_path / "again" / "results.csv") == rows


def test_an_llm_sweep_may_pick_the_backend_of_the_generators_network(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASTRA_COSIM_INPUT_CACHE", str(tmp_path / "cache"))
    path = _llm_sweep(tmp_path, "  network: {backend: analytical-aware}\n", name="aware")
    run_sweep(load_sweep(path), str(tmp_path / "aware"), progress=None)
    rows = read_csv(tmp_path / "aware" / "results.csv")
    assert [int(row["total_ns"]) for row in rows] == [
        _by_hand(tmp_path, 1, "analytical-aware"), _by_hand(tmp_path, 2, "analytical-aware")]


@pytest.mark.parametrize("workload, message", [
    ("{llm: {model: llama3-8b, platform: dgx-h100, global_batch: 8, npus: 8}}",
     "workload.llm: unknown key: found 'npus'"),
    ("{llm: {model: llama3-8b, global_batch: 8}}", "workload.llm: missing platform"),
    ("{simulate: {model: llama3-8b}}", "expected a file path, {generate: "),
])
def test_a_bad_llm_generator_is_one_error_naming_the_sweep(tmp_path: Path, workload: str,
                                                           message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(f"name: bad\nbase:\n  workload: {workload}\naxes:\n"
                    "  options.comm_scale: [1]\n", encoding="utf-8")
    with pytest.raises(InputError, match=re.escape(message)) as caught:
        load_sweep(str(path))
    assert str(path) in str(caught.value)
