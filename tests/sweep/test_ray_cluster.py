"""A sweep on a 2-node Ray cluster whose worker shares no path with the sweep's inputs.

The head and the worker are separate ``ray start --block`` processes, each in a session of its
own with its own temporary and working folder (``ray_cluster.py``); only the worker has the
custom resource the trials ask for, so every trial runs there. The sweep's input folder (Chakra trace sets, one of
them gzip-compressed, a system, a network and a communicator-group file) is moved away as soon
as the driver has put the inputs into the object store, so a trial can only reach them through
it. The table must be byte-identical to the local executor's, failing trial included (its error
names the driver's path, not the worker's cache). A second sweep generates its workload
(``workload: {generate: ...}``) on the worker instead of shipping it, and a third the LLM
generator's trace set (``workload: {llm: ...}``); a last one ships a 1.0 text workload, its folder
hidden as the first one's.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.sweep import ray_executor
from orchestrator.sweep.runner import run_sweep
from orchestrator.sweep.spec import load_sweep
from tests.sweep.ray_cluster import RAY_ENV, local_cluster
from tests.sweep.sweeps import ROOT, read_csv

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the cluster's clean-up looks processes up in /proc")
ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'astra-cosim[ray]'); "
                                        "the 2-node cluster test needs it")

TRACES = os.path.join(ROOT, "experiments", "containers", "inputs")
RESOURCE = "astra_cosim_test_worker"
SWEEP = """name: cluster
base:
  workload: inputs/gemm4
  system: inputs/system4.json
  network: inputs/ring4.yml
  comm_group: inputs/groups.json
axes:
  workload: [inputs/gemm4, inputs/gz/gemm4, inputs/bad/gemm4]
  options.comm_scale: [1, 4]
"""
GENERATED = f"""name: generated
base:
  workload: {{generate: {{model: vgg16, parallelism: DATA, npus: 8, compute: roofline,
             compute_config: {{peak_tflops: 100, local_mem_bw_gb_per_s: 1000}}}}}}
  system: {ROOT}/experiments/tutorial/inputs/sys_ring.txt
  network: {ROOT}/experiments/tutorial/inputs/ring8.json
axes:
  system.all-reduce-implementation: [ring, direct]
"""


LLM = """name: llm
base:
  workload: {llm: {model: llama3-8b, platform: dgx-h100, tp: 2, pp: 2, dp: 2, global_batch: 8}}
axes:
  options.comm_scale: [1]
"""


TUTORIAL_INPUTS = os.path.join(ROOT, "experiments", "tutorial", "inputs")
V1 = """name: v1
base:
  workload: inputs/allreduce_1MiB.txt
  system: inputs/sys_ring.txt
  network: inputs/ring8.json
axes:
  options.comm_scale: [1, 2]
"""


@pytest.fixture()
def cluster(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    for name, value in RAY_ENV.items():
        monkeypatch.setenv(name, value)
    with local_cluster({RESOURCE: 1}) as nodes:
        yield nodes


def _inputs(folder: Path) -> None:
    inputs = folder / "inputs"
    (inputs / "gz").mkdir(parents=True)
    (inputs / "bad").mkdir()
    for name in ("system4.json", "ring4.yml"):
        shutil.copy(os.path.join(TRACES, name), inputs / name)
    for npu in range(4):
        data = Path(TRACES, f"gemm4.{npu}.et").read_bytes()
        (inputs / f"gemm4.{npu}.et").write_bytes(data)
        (inputs / "gz" / f"gemm4.{npu}.et").write_bytes(gzip.compress(data, mtime=0))
        (inputs / "bad" / f"gemm4.{npu}.et").write_bytes(b"\x1f\x8b not gzip")
    (inputs / "groups.json").write_text('{"0": [0, 1, 2, 3]}\n', encoding="utf-8")
    (folder / "cluster.yaml").write_text(SWEEP, encoding="utf-8")


def test_a_two_node_cluster_without_shared_paths_gives_the_local_table(
        cluster: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sweep_dir = Path(tempfile.mkdtemp(prefix="ac-sweep-", dir="/tmp"))
    moved = sweep_dir.with_name(sweep_dir.name + "-gone")
    try:
        _inputs(sweep_dir)
        # what must travel: traces and groups (system and network travel inside the trial)
        shipped = {hashlib.sha256(path.read_bytes()).hexdigest()
                   for path in (sweep_dir / "inputs").rglob("*")
                   if path.suffix == ".et" or path.name == "groups.json"}
        spec = load_sweep(str(sweep_dir / "cluster.yaml"))
        local = run_sweep(spec, str(tmp_path / "local"), jobs=1, progress=None)
        assert (local.ran, local.failed) == (6, 2)

        real_ship = ray_executor._ship

        def ship_then_hide(ray_module, trials):
            shipments = real_ship(ray_module, trials)
            sweep_dir.rename(moved)           # from here on no path on this machine has them
            return shipments

        monkeypatch.setattr(ray_executor, "_ship", ship_then_hide)
        monkeypatch.setenv("RAY_ADDRESS", cluster["address"])
        monkeypatch.setenv(ray_executor.RESOURCES_ENV, json.dumps({RESOURCE: 1}))
        remote = run_sweep(spec, str(tmp_path / "ray"), executor="ray", jobs=1, progress=None)
        assert not sweep_dir.exists()
    finally:
        shutil.rmtree(sweep_dir, ignore_errors=True)
        shutil.rmtree(moved, ignore_errors=True)
    assert (remote.ran, remote.failed, remote.missing) == (6, 2, 0)
    assert (tmp_path / "ray" / "results.csv").read_bytes() == \
        (tmp_path / "local" / "results.csv").read_bytes()
    rows = read_csv(tmp_path / "ray" / "results.csv")
    assert [row["status"] for row in rows] == ["ok"] * 4 + ["error"] * 2
    assert rows[0]["total_ns"] == rows[2]["total_ns"] == "43003"       # gzip or not: same run
    assert str(sweep_dir / "inputs" / "bad" / "gemm4") in rows[4]["error"]
    for row in rows:        # whole records (config, summary, error) as the local executor's
        local_record = json.loads((tmp_path / "local" / "trials" / f"{row['trial']}.json")
                                  .read_text())
        ray_record = json.loads((tmp_path / "ray" / "trials" / f"{row['trial']}.json")
                                .read_text())
        for record in (local_record, ray_record):
            record.pop("wall_s")
        assert ray_record == local_record
    # The trials ran on the worker: its node cache holds every input, once, by sha256.
    blobs = Path(cluster["worker_home"], "astra-cosim-inputs", "blobs")
    assert {path.name for path in blobs.iterdir()} == shipped
    assert not Path(cluster["head_home"], "astra-cosim-inputs").exists()
    # A generated workload travels as its generator's options and is written on the worker.
    monkeypatch.setattr(ray_executor, "_ship", real_ship)
    path = tmp_path / "gen.yaml"
    path.write_text(GENERATED, encoding="utf-8")
    spec = load_sweep(str(path))
    monkeypatch.setenv("ASTRA_COSIM_INPUT_CACHE", str(tmp_path / "driver-cache"))
    run_sweep(spec, str(tmp_path / "gen-local"), jobs=1, progress=None)
    monkeypatch.delenv("ASTRA_COSIM_INPUT_CACHE")
    run_sweep(spec, str(tmp_path / "gen-ray"), executor="ray", jobs=1, progress=None)
    assert (tmp_path / "gen-ray" / "results.csv").read_bytes() == \
        (tmp_path / "gen-local" / "results.csv").read_bytes()
    assert [row["status"] for row in read_csv(tmp_path / "gen-ray" / "results.csv")] == ["ok"] * 2
    generated = Path(cluster["worker_home"], "astra-cosim-inputs", "generated")
    assert len(list(generated.iterdir())) == 1
    # So does the LLM generator's: its Chakra traces, system, network and groups are written
    # on the worker, and the table is the local executor's.
    path = tmp_path / "llm.yaml"
    path.write_text(LLM, encoding="utf-8")
    spec = load_sweep(str(path))
    monkeypatch.setenv("ASTRA_COSIM_INPUT_CACHE", str(tmp_path / "driver-cache"))
    run_sweep(spec, str(tmp_path / "llm-local"), jobs=1, progress=None)
    monkeypatch.delenv("ASTRA_COSIM_INPUT_CACHE")
    run_sweep(spec, str(tmp_path / "llm-ray"), executor="ray", jobs=1, progress=None)
    assert (tmp_path / "llm-ray" / "results.csv").read_bytes() == \
        (tmp_path / "llm-local" / "results.csv").read_bytes()
    assert [row["status"] for row in read_csv(tmp_path / "llm-ray" / "results.csv")] == ["ok"]
    (traces,) = [folder for folder in generated.iterdir() if list(folder.glob("llm.*.et"))]
    assert len(list(traces.glob("llm.*.et"))) == 8
    assert (traces / "llm.groups.json").is_file()
    # A 1.0 text workload travels the same way, its folder gone once it is shipped.
    v1_dir = Path(tempfile.mkdtemp(prefix="ac-v1-", dir="/tmp"))
    v1_moved = v1_dir.with_name(v1_dir.name + "-gone")

    def ship_then_hide_v1(ray_module, trials):
        shipments = real_ship(ray_module, trials)
        v1_dir.rename(v1_moved)
        return shipments

    try:
        (v1_dir / "inputs").mkdir()
        for name in ("allreduce_1MiB.txt", "sys_ring.txt", "ring8.json"):
            shutil.copy(os.path.join(TUTORIAL_INPUTS, name), v1_dir / "inputs" / name)
        (v1_dir / "v1.yaml").write_text(V1, encoding="utf-8")
        workload_sha = hashlib.sha256((v1_dir / "inputs" / "allreduce_1MiB.txt").read_bytes()
                                      ).hexdigest()
        spec = load_sweep(str(v1_dir / "v1.yaml"))
        run_sweep(spec, str(tmp_path / "v1-local"), jobs=1, progress=None)
        monkeypatch.setattr(ray_executor, "_ship", ship_then_hide_v1)
        run_sweep(spec, str(tmp_path / "v1-ray"), executor="ray", jobs=1, progress=None)
        assert not v1_dir.exists()
    finally:
        shutil.rmtree(v1_dir, ignore_errors=True)
        shutil.rmtree(v1_moved, ignore_errors=True)
    assert (tmp_path / "v1-ray" / "results.csv").read_bytes() == \
        (tmp_path / "v1-local" / "results.csv").read_bytes()
    assert [row["total_ns"] for row in read_csv(tmp_path / "v1-ray" / "results.csv")] == \
        ["45681", "62761"]                    # exercise 1, and its all-reduce at twice the size
    assert workload_sha in {path.name for path in blobs.iterdir()}
