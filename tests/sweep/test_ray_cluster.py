"""A sweep on a 2-node Ray cluster whose worker shares no path with the sweep's inputs.

The head and the worker are separate ``ray start --block`` processes, each in a session of its
own with its own temporary and working folder; only the worker has the custom resource the
trials ask for, so every trial runs there. The sweep's input folder (Chakra trace sets, one of
them gzip-compressed, a system, a network and a communicator-group file) is moved away as soon
as the driver has put the inputs into the object store, so a trial can only reach them through
it. The table must be byte-identical to the local executor's, failing trial included (its error
names the driver's path, not the worker's cache).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.sweep import ray_executor
from orchestrator.sweep.runner import run_sweep
from orchestrator.sweep.spec import load_sweep
from tests.sweep.sweeps import ROOT, read_csv

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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# A cluster of this test's own: no token (a token would be written to the user's ~/.ray),
# no usage report, every address on the loopback.
RAY_ENV = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}


def _ray_start(args: list[str], home: str) -> subprocess.Popen:
    """``ray start --block`` in a session of its own, its temporary and working folder in
    ``home``: stopping it is killing that session, never anything else's Ray."""
    env = {**os.environ, **RAY_ENV, "TMPDIR": home}
    env.pop("RAY_ADDRESS", None)
    ray_cli = os.path.join(os.path.dirname(sys.executable), "ray")
    return subprocess.Popen([ray_cli, "start", "--block", "--num-cpus=1",
                             "--node-ip-address=127.0.0.1", "--disable-usage-stats",
                             f"--temp-dir={home}/ray", *args], cwd=home, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def _stop(process: subprocess.Popen, home: str) -> None:
    """SIGKILL to the node's session (SIGTERM makes Ray drain for up to 30 s), then to any
    process of this node that left the session: one whose command line names its folder."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(10)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read()
        except OSError:
            continue
        if home.encode() in cmdline:
            try:
                os.kill(int(entry), signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.fixture()
def cluster(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    # Short folders: Ray's Unix sockets live under the temporary folder (108-byte limit).
    head_home = tempfile.mkdtemp(prefix="ac-head-", dir="/tmp")
    worker_home = tempfile.mkdtemp(prefix="ac-wrk-", dir="/tmp")
    port = _free_port()
    address = f"127.0.0.1:{port}"
    nodes = [(_ray_start(["--head", f"--port={port}", "--include-dashboard=false"], head_home),
              head_home)]
    nodes.append((_ray_start([f"--address={address}",
                              f"--resources={json.dumps({RESOURCE: 1})}"], worker_home),
                  worker_home))
    for name, value in RAY_ENV.items():
        monkeypatch.setenv(name, value)
    try:
        ray.init(address=address, logging_level="ERROR")
        deadline = time.monotonic() + 60
        while sum(node["Alive"] for node in ray.nodes()) < 2:
            if time.monotonic() > deadline or any(p.poll() is not None for p, _ in nodes):
                raise RuntimeError(f"the Ray cluster at {address} did not reach 2 nodes")
            time.sleep(0.5)
        yield {"address": address, "head_home": head_home, "worker_home": worker_home}
    finally:
        ray.shutdown()
        for process, home in reversed(nodes):
            _stop(process, home)
        shutil.rmtree(head_home, ignore_errors=True)
        shutil.rmtree(worker_home, ignore_errors=True)


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
