"""How ``--placement process`` starts its adapter child (orchestrator/cosim/spawn.py).

A single-threaded engine forks the child (no interpreter start-up, nothing imported twice); an
engine with other threads execs a new interpreter. Either way the child is ``astra-cosim
adapter serve`` with the same options, says when it listens, exits with its engine's goodbye
and removes its scratch folder, and the run's results and rounds are the same.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from adapters.registry import build_network
from orchestrator.cli.main import main
from orchestrator.cosim.client import AdapterError, ZmqClient
from orchestrator.cosim.inprocess import InProcessClient
from orchestrator.cosim.spawn import ForkedAdapter, spawn_adapter

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EX1 = os.path.join(REPO, "experiments", "tutorial", "ex1.yaml")
RING = json.dumps({"topology": ["Ring"], "npus_count": [8], "bandwidth": [50.0],
                   "latency": [500.0]})


@contextmanager
def another_thread() -> Iterator[None]:
    """An engine that is not single-threaded (as a sweep worker or a progress line makes it)."""
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def cmdline(pid: int) -> str:
    with open(f"/proc/{pid}/cmdline", "rb") as handle:
        return handle.read().replace(b"\0", b" ").decode().strip()


INJECTIONS = [(0, 0, 1, 1 << 20, 0), (1, 3, 5, 4096, 10)]


def talk(client) -> tuple[list[tuple[int, int]], int, dict[str, float]]:
    """One round of two injections, then goodbye: the arrivals, next event and stats."""
    try:
        arrivals, next_event = client.round(1_000, INJECTIONS)
    finally:
        client.close()
    assert client.failure is None
    return arrivals, next_event, client.final_stats


def remote(endpoint: str, process) -> tuple[list[tuple[int, int]], int, dict[str, float]]:
    client = ZmqClient(endpoint, "analytical-v2 network", 10.0, process)
    try:
        assert client.handshake("analytical-v2", RING).lookahead_ns == 500
    except BaseException:
        client.close()
        raise
    return talk(client)


def in_process() -> tuple[list[tuple[int, int]], int, dict[str, float]]:
    answer = talk(InProcessClient(build_network("analytical-v2", RING)))
    # 1 MiB over one hop at 50 GB/s (2**30 bytes a GB, as 2.x), 4 KiB over two hops
    assert answer[0] == [(0, 500 + 19_531), (1, 10 + 1_000 + 76)]
    return answer


def test_a_single_threaded_engine_forks_a_labelled_child() -> None:
    if threading.active_count() != 1:
        pytest.skip("the test process runs other threads, so the engine would exec")
    endpoint, process, _ = spawn_adapter("network", 10.0, "tcp", "analytical-v2")
    assert isinstance(process, ForkedAdapter)
    workdir = process.workdir
    words = cmdline(process.pid).split()
    assert words[words.index("serve") - 1:words.index("serve") + 2] == \
        ["adapter", "serve", "network"]
    assert words[words.index("--bind") + 1] == endpoint
    assert words[words.index("--parent-pid") + 1] == str(os.getpid())
    assert words[words.index("--scratch") + 1] == workdir
    assert remote(endpoint, process) == in_process()
    assert process.returncode == 0                   # its goodbye ended it
    assert not os.path.exists(workdir)


def test_an_engine_with_threads_execs_the_child_and_gets_the_same_answers() -> None:
    with another_thread():
        endpoint, process, _ = spawn_adapter("network", 10.0, "ipc", "analytical-v2")
    assert isinstance(process, subprocess.Popen)
    assert "adapter serve network" in cmdline(process.pid)
    assert remote(endpoint, process) == in_process()
    assert process.returncode == 0
    assert not os.path.exists(process.workdir)


def test_a_child_that_dies_before_listening_is_reported_at_the_handshake() -> None:
    # "nonsense" is no adapter kind: the child exits 2 before it binds, which closes the pipe
    endpoint, process, _ = spawn_adapter("nonsense", 10.0)
    client = ZmqClient(endpoint, "analytical-v2 network", 10.0, process)
    try:
        with pytest.raises(AdapterError, match="exited with status 2"):
            client.handshake("analytical-v2", RING)
    finally:
        client.close()


def test_a_terminated_forked_child_removes_its_scratch_folder() -> None:
    if threading.active_count() != 1:
        pytest.skip("the test process runs other threads, so the engine would exec")
    _, process, _ = spawn_adapter("network", 10.0, "tcp", "analytical-v2")
    process.terminate()
    assert process.wait(timeout=10) == 128 + signal.SIGTERM
    assert not os.path.exists(process.workdir)


def _summary(out: str) -> dict:
    with open(os.path.join(out, "summary.json"), encoding="utf-8") as handle:
        summary = json.load(handle)
    network = summary.pop("cosim")["network"]
    return {**summary, "rounds": network["rounds"], "messages": network["messages"],
            "asked": network["asked"], "reused": network["reused"]}


def test_forked_and_execed_children_give_the_same_run(tmp_path) -> None:
    runs = {}
    for how in ("in-process", "fork", "exec"):
        out = str(tmp_path / how)
        args = ["run", EX1, "--out", out, "--symmetry", "off"]
        if how == "in-process":
            assert main(args) == 0
        elif how == "fork":
            assert main([*args, "--placement", "process"]) == 0
        else:
            with another_thread():
                assert main([*args, "--placement", "process"]) == 0
        runs[how] = _summary(out)
    assert runs["in-process"]["total_ns"] == 45_681
    assert runs["fork"] == runs["in-process"]
    assert runs["exec"] == runs["in-process"]


@pytest.mark.parametrize("stage", ["_prepare_fork", "_await_listening"])
def test_an_interrupt_while_the_child_starts_leaves_no_scratch_folder(stage: str, tmp_path,
                                                                      monkeypatch) -> None:
    """Ctrl-C or SIGTERM (Terminated) may land while the backend is imported, before the child
    exists, or while it loads: the scratch folder made first is removed either way and no
    child is left (issue 14; the import window leaked the folder)."""
    import orchestrator.cosim.spawn as spawn
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    children: list = []
    real_wait = spawn._await_listening

    def interrupted(*args) -> None:
        if stage == "_await_listening":
            children.append(args[1])
            real_wait(*args)
        raise KeyboardInterrupt

    monkeypatch.setattr(spawn, stage, interrupted)
    if stage == "_prepare_fork":
        # the stage runs only in an engine that forks; it is interrupted before any fork,
        # so threads left by earlier tests in this process cannot hurt a child
        monkeypatch.setattr(spawn.threading, "active_count", lambda: 1)
    with pytest.raises(KeyboardInterrupt):
        spawn_adapter("network", 30.0, "ipc")
    assert os.listdir(tmp_path) == []
    for child in children:
        assert child.poll() is not None, "the adapter child outlived the interrupted start"


def test_a_scratch_folder_of_a_killed_engine_is_removed_by_the_next_spawn(tmp_path,
                                                                        monkeypatch) -> None:
    """An engine killed (SIGKILL) between making its adapter's scratch folder and starting
    the child left the folder for good; the next spawn removes folders of engines gone,
    and keeps those of engines that run (this one) and other folders."""
    import orchestrator.cosim.spawn as spawn
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    dead_pid = subprocess.Popen(["true"])
    dead_pid.wait()
    orphan = tmp_path / f"astra-cosim-adapter-{dead_pid.pid}-abc"
    mine = tmp_path / f"astra-cosim-adapter-{os.getpid()}-def"
    other = tmp_path / "astra-cosim-adapter-old-style"
    for folder in (orphan, mine, other):
        folder.mkdir()
    endpoint, process, _ = spawn_adapter("network", 30.0, "ipc")
    try:
        assert process.workdir.startswith(f"{tmp_path}/astra-cosim-adapter-{os.getpid()}-")
        assert not orphan.exists() and mine.is_dir() and other.is_dir()
    finally:
        process.kill()
        process.wait()


def test_an_ipc_child_under_a_deep_temporary_folder_still_listens(tmp_path, monkeypatch) -> None:
    """A Unix socket path has at most 107 bytes: under a deep TMPDIR (a CI checkout's pytest
    folders) the child listens on an abstract name instead of failing to bind."""
    import orchestrator.cosim.spawn as spawn
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    monkeypatch.setattr("tempfile.tempdir", str(deep))
    endpoint, process, _ = spawn_adapter("network", 30.0, "ipc", "analytical-v2")
    assert endpoint == f"ipc://@{os.path.basename(process.workdir)}"
    assert process.workdir.startswith(f"{deep}/{spawn.SCRATCH_PREFIX}")
    assert remote(endpoint, process) == in_process()
    assert process.returncode == 0
    assert not os.path.exists(process.workdir)
