"""A Ray cluster of separate processes on this machine, for the 2-node test and the
throughput benchmark: each node is a ``ray start --block`` in a session of its own, with its
own temporary and working folder, one CPU, every address on the loopback. Stopping it kills
exactly those sessions (and any process naming a node's folder), never another Ray."""

from __future__ import annotations

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
from contextlib import contextmanager

# No token (a token would be written to the user's ~/.ray), no usage report.
RAY_ENV = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _ray_start(args: list[str], home: str) -> subprocess.Popen:
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


@contextmanager
def local_cluster(worker_resources: dict[str, float] | None = None) -> Iterator[dict[str, str]]:
    """A head and one worker node; yields their address and home folders. The caller's
    process is connected to it (``ray.init``) while inside, so set ``RAY_ENV`` first."""
    import ray

    # Short folders: Ray's Unix sockets live under the temporary folder (108-byte limit).
    head_home = tempfile.mkdtemp(prefix="ac-head-", dir="/tmp")
    worker_home = tempfile.mkdtemp(prefix="ac-wrk-", dir="/tmp")
    port = _free_port()
    address = f"127.0.0.1:{port}"
    nodes = [(_ray_start(["--head", f"--port={port}", "--include-dashboard=false"], head_home),
              head_home)]
    extra = [f"--resources={json.dumps(worker_resources)}"] if worker_resources else []
    nodes.append((_ray_start([f"--address={address}", *extra], worker_home), worker_home))
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
