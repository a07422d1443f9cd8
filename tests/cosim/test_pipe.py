"""``transport: pipe``: a spawned adapter reached over a socket pair (orchestrator/cosim/frames.py)
instead of ZeroMQ. The same rounds and results as in-process and over tcp, and the same fault
behaviour: a killed child is one line naming it, a killed engine takes its child with it, and
nothing is left behind."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from orchestrator.cosim import codec, frames
from orchestrator.cosim import cosim_pb2 as pb
from tests.cosim.test_faults import (REPO, assert_one_line_error, engine_command, finish,
                                     long_experiment, processes_with, run_engine, wait_gone)
from orchestrator.cli.main import main
from orchestrator.cosim.client import stop_process
from orchestrator.cosim.spawn import ForkedAdapter, forget_channel, spawn_adapter
from tests.cosim.test_placement_equality import (_DETERMINISTIC_COSIM, _argv,
                                                 _load_case, needs_cases, run_case, simulated)

# one case per reference suite the placement test covers: 1.0 multi-dimensional, 2.x unaware
# and 2.x congestion-aware
PIPE_CASES = ["mlsys22_ex3-2_TPU-GPT3", "mlsys22_ex4_reorder",
              "v2-1d_aware_Ring16_ring_all_to_all_65536"]


@needs_cases
@pytest.mark.parametrize("case_id", PIPE_CASES)
def test_pipe_transport_equals_inprocess(case_id, tmp_path, monkeypatch, capsys) -> None:
    inproc = run_case(case_id, tmp_path / "inprocess", None, monkeypatch, capsys)
    out = tmp_path / "pipe"
    assert main(_argv(_load_case(case_id), str(out), "process") + ["--transport", "pipe"]) == 0
    piped = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    network = piped["cosim"]["network"]
    assert network["endpoint"].startswith("pipe:") and network["protocol_bytes"] > 0
    assert simulated(piped) == simulated(inproc)
    for key in _DETERMINISTIC_COSIM:
        assert network[key] == inproc["cosim"]["network"][key], key


def _start_long_piped_run(tmp_path) -> tuple[subprocess.Popen, float, int]:
    started = time.monotonic()
    engine = subprocess.Popen(engine_command(*long_experiment(tmp_path), "--transport", "pipe"),
                              cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    deadline = started + 15
    children: list = []
    while not children and time.monotonic() < deadline and engine.poll() is None:
        children = processes_with(f"--parent-pid {engine.pid}")
        time.sleep(0.02)
    if not children:
        engine.kill()
        pytest.fail(f"no adapter child appeared:\n{engine.communicate()[1]}")
    (pid, cmdline), = children
    assert "adapter serve network --bind fd:" in cmdline
    time.sleep(max(0.0, started + 1.0 - time.monotonic()))
    assert engine.poll() is None, "the long run ended before it could be interrupted"
    return engine, started, pid


def test_pipe_child_killed_mid_run_is_one_line_and_leaves_nothing(tmp_path) -> None:
    scratch_before = {name for name in os.listdir("/tmp") if name.startswith("astra-cosim-adapter-")}
    engine, started, child = _start_long_piped_run(tmp_path)
    os.kill(child, signal.SIGKILL)
    killed = time.monotonic()
    run = finish(engine, started)
    assert time.monotonic() - killed < 5, run
    assert_one_line_error(run, "network adapter", f"pipe:{child}", "simulated time",
                          "exited with status -9")
    assert not processes_with(f"--parent-pid {engine.pid}")
    scratch_after = {name for name in os.listdir("/tmp") if name.startswith("astra-cosim-adapter-")}
    assert scratch_after <= scratch_before


def test_pipe_child_ends_as_soon_as_its_engine_is_killed(tmp_path) -> None:
    """The child reads end-of-file the moment the engine's end closes (the engine's end is
    closed by the kernel with the engine; test_a_later_child... shows the end-of-file alone
    ends it); the bound leaves room for a loaded machine."""
    engine, _, child = _start_long_piped_run(tmp_path)
    engine.kill()
    engine.wait()
    try:
        left = wait_gone(f"--parent-pid {engine.pid}", 2.0)
    finally:
        engine.stderr.close()
    assert not left, f"adapter child outlived its engine: {left}"


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:"):
            inodes.add(target)
    return inodes


def test_a_later_child_does_not_hold_an_earlier_childs_pipe() -> None:
    """A second adapter child (e.g. compute after network) must not keep the engine's end of
    the first child's pipe open, or the first would not see a killed engine's connection
    close."""
    first = second = first_child = second_child = None
    try:
        _, first_child, first = spawn_adapter("network", 10.0, "pipe", "analytical-v2")
        _, second_child, second = spawn_adapter("network", 10.0, "pipe", "analytical-v2")
        engine_end = f"socket:[{os.fstat(first.fileno()).st_ino}]"
        assert engine_end in _socket_inodes(os.getpid())
        if isinstance(second_child, ForkedAdapter):
            time.sleep(0.2)                      # the child closes it first thing
        assert engine_end not in _socket_inodes(second_child.pid)
        first.close()                            # the engine's end closes: the child ends
        assert first_child.wait(timeout=2) == 1
    finally:
        for channel in (first, second):
            if channel is not None:
                forget_channel(channel)
                channel.close()
        for child in (first_child, second_child):
            if child is not None:
                stop_process(child, asked=False)


def test_frames_round_trip_and_limits() -> None:
    left, right = socket.socketpair()
    with left, right:
        frames.send_frame(left, b"abc")
        frames.send_frame(left, b"")
        assert frames.recv_frame(right) == b"abc"
        assert frames.recv_frame(right) == b""
        left.sendall((codec.MAX_MESSAGE_BYTES + 1).to_bytes(4, "little"))
        with pytest.raises(codec.ProtocolError, match="a frame of 33554433 bytes"):
            frames.recv_frame(right)
        assert not frames.peer_closed(right)
        left.sendall(b"\x05\x00")          # half a header, then the peer goes away
        left.close()
        with pytest.raises(frames.PeerClosed):
            frames.recv_frame(right)
        assert frames.peer_closed(right)


def _served_over_fd() -> tuple[socket.socket, subprocess.Popen]:
    engine_end, child_end = socket.socketpair()
    child = subprocess.Popen([sys.executable, "-m", "orchestrator", "adapter", "serve", "network",
                              "--bind", f"fd:{child_end.fileno()}", "--one-engine"],
                             cwd=REPO, pass_fds=(child_end.fileno(),), stdin=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    child_end.close()
    return engine_end, child


def test_served_over_an_inherited_socket_answers_bad_bytes_with_an_error() -> None:
    engine_end, child = _served_over_fd()
    with engine_end:
        frames.send_frame(engine_end, b"\xff\x00 not an envelope")
        reply = pb.Envelope()
        reply.ParseFromString(frames.recv_frame(engine_end))
        assert reply.WhichOneof("body") == "error"
        assert "malformed message" in reply.error.message
        frames.send_frame(engine_end, codec.encode(1, "hello", codec.hello("engine")))
        kind, hello, session = codec.decode_reply(frames.recv_frame(engine_end), 1, "test",
                                                  "fd", None)
        assert kind == "hello" and len(session) == 16
    assert child.wait(timeout=5) == 1          # the engine's end closed: the server ends
    child.stderr.close()


def test_bind_fd_needs_a_number() -> None:
    run = subprocess.run([sys.executable, "-m", "orchestrator", "adapter", "serve", "network",
                          "--bind", "fd:x"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert run.stderr.strip() == ("astra-cosim: error: --bind fd:x: expected fd:N, N the number "
                                  "of a connected stream socket this process inherited")


def test_transport_pipe_in_an_experiment_file(tmp_path) -> None:
    inputs = os.path.join(REPO, "experiments", "tutorial", "inputs")
    experiment = tmp_path / "ex1.yaml"
    experiment.write_text(f"""name: ex1-pipe
workload: {inputs}/allreduce_1MiB.txt
system: {inputs}/sys_ring.txt
network:
  backend: analytical
  config: {inputs}/ring8.json
  placement: process
  transport: pipe
""")
    run = run_engine(str(experiment), "--out", str(tmp_path / "out"))
    assert (run.rc, run.stderr) == (0, "")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["total_ns"] == 45681
    assert summary["cosim"]["network"]["endpoint"].startswith("pipe:")
    bad = experiment.read_text().replace("transport: pipe", "transport: carrier-pigeon")
    experiment.write_text(bad)
    run = run_engine(str(experiment), "--out", str(tmp_path / "bad"))
    assert run.rc == 2
    assert "network.transport" in run.stderr and "pipe" in run.stderr
