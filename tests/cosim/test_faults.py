"""Fault tests of the co-simulation layer: one test per way a network adapter can fail.

Each run goes through the real CLI in a subprocess (``python -m orchestrator run``) against
``tests/cosim/faulty_adapter.py`` (misbehaves on cue), an endpoint nobody listens on, or the
engine's own ``--placement process`` child. Every test checks the exit status, that stderr is
one line naming the network adapter and its endpoint (and the simulated time where the run
was under way), a wall-time bound, and that no process tied to the test's endpoint is left.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest

from orchestrator.cosim import codec
from orchestrator.cosim import cosim_pb2 as pb
from orchestrator.cosim.server import AdapterServer
from tests.processes import live_processes

pytest.importorskip("zmq")

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
INPUTS = os.path.join(REPO, "experiments", "tutorial", "inputs")
EX1 = os.path.join(REPO, "experiments", "tutorial", "ex1.yaml")
FAULTY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "faulty_adapter.py")
HANG_LIMIT_S = 40          # a run still going after this long is a hang, not a slow failure



# -- helpers ----------------------------------------------------------------------------------
def free_endpoint() -> tuple[int, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return port, f"tcp://127.0.0.1:{port}"


def processes_with(text: str) -> list[tuple[int, str]]:
    """Live processes (not zombies, not this one) whose command line contains ``text``."""
    return [(process.pid, process.cmdline) for process in live_processes()
            if process.pid != os.getpid() and process.cmdline and text in process.cmdline]


def wait_gone(text: str, within_s: float, keep: frozenset[int] = frozenset()
              ) -> list[tuple[int, str]]:
    """Wait until no process but those in ``keep`` has ``text`` in its command line."""
    deadline = time.monotonic() + within_s
    while True:
        left = [found for found in processes_with(text) if found[0] not in keep]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


@dataclass
class Run:
    rc: int
    stderr: str
    wall_s: float


def engine_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "orchestrator", "run", *args, "--quiet"]


def finish(process: subprocess.Popen, started: float) -> Run:
    try:
        _, stderr = process.communicate(timeout=HANG_LIMIT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail(f"the engine hung: still running after {HANG_LIMIT_S} s")
    return Run(process.returncode, stderr, time.monotonic() - started)


def run_engine(*args: str) -> Run:
    started = time.monotonic()
    process = subprocess.Popen(engine_command(*args), cwd=REPO, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return finish(process, started)


def assert_one_line_error(run: Run, *needles: str) -> str:
    assert run.rc != 0, f"the run succeeded; stderr:\n{run.stderr}"
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("astra-cosim: error: "), (
        f"expected one 'astra-cosim: error:' line (exit {run.rc}), got {len(lines)} "
        f"line(s):\n{run.stderr}")
    for needle in needles:
        assert needle in lines[0], f"{needle!r} missing from: {lines[0]}"
    return lines[0]


@contextlib.contextmanager
def faulty_adapter(endpoint: str, *mode: str):
    process = subprocess.Popen(
        [sys.executable, FAULTY, "--bind", endpoint, "--mode", *mode,
         "--parent-pid", str(os.getpid()), "--idle-timeout", "30"],
        cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([process.stdout], [], [], 15)
        assert ready and process.stdout.readline().strip() == "ready", \
            f"faulty adapter did not start (exit {process.poll()})"
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        process.stdout.close()


def ex1_against(endpoint: str, tmp_path, timeout_s: float) -> Run:
    return run_engine(EX1, "--out", str(tmp_path / "out"), "--adapter", f"network={endpoint}",
                      "--adapter-timeout", f"{timeout_s:g}")


def assert_nothing_left(endpoint: str, adapter: subprocess.Popen | None = None) -> None:
    """Only the test's own faulty adapter may still hold the endpoint."""
    left = wait_gone(endpoint, 3, frozenset({adapter.pid}) if adapter is not None else
                     frozenset())
    assert not left, f"processes left behind: {left}"


def long_experiment(tmp_path) -> list[str]:
    """A 64-NPU ring all-reduce, 30 passes, every NPU simulated: about 4 s in any placement
    (a reduced run takes under 1 s, too short to interrupt reliably)."""
    with open(os.path.join(INPUTS, "ring8.json"), encoding="utf-8") as handle:
        network = json.load(handle)
    network["units-count"] = [64]
    path = tmp_path / "ring64.json"
    path.write_text(json.dumps(network))
    return ["--workload", os.path.join(INPUTS, "allreduce_1MiB.txt"),
            "--system", os.path.join(INPUTS, "sys_ring.txt"), "--network", str(path),
            "--comm-scale", "16", "--num-passes", "30", "--out", str(tmp_path / "out"),
            "--placement", "process", "--symmetry", "off"]


def start_long_run(tmp_path) -> tuple[subprocess.Popen, float, int, str]:
    """Start the long run; wait for its adapter child. Returns (engine, start, child pid,
    child endpoint)."""
    started = time.monotonic()
    engine = subprocess.Popen(engine_command(*long_experiment(tmp_path)), cwd=REPO,
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    deadline = started + 15
    while True:
        children = processes_with(f"--parent-pid {engine.pid}")
        if children or time.monotonic() > deadline or engine.poll() is not None:
            break
        time.sleep(0.02)
    if not children:
        engine.kill()
        _, stderr = engine.communicate()
        pytest.fail(f"no adapter child appeared (engine exit {engine.returncode}):\n{stderr}")
    (pid, cmdline), = children
    assert "adapter serve network" in cmdline
    words = cmdline.split()
    return engine, started, pid, words[words.index("--bind") + 1]


# -- 0. the faulty adapter, told to behave, is the real server -------------------------------
def test_faulty_adapter_in_normal_mode_runs_ex1(tmp_path) -> None:
    _, endpoint = free_endpoint()
    with faulty_adapter(endpoint, "normal") as adapter:
        run = ex1_against(endpoint, tmp_path, 10)
        assert adapter.wait(timeout=5) == 0           # shut down by the engine
    assert (run.rc, run.stderr) == (0, "")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["total_ns"] == 45681
    assert summary["cosim"]["network"]["endpoint"] == endpoint


# -- 1. adapter unreachable at start ----------------------------------------------------------
def test_unreachable_adapter_fails_after_the_timeout(tmp_path) -> None:
    _, endpoint = free_endpoint()
    run = ex1_against(endpoint, tmp_path, 2)
    assert 1.5 <= run.wall_s < 2 + 3, run
    assert_one_line_error(run, "network adapter", endpoint, "did not answer within 2 s")
    assert_nothing_left(endpoint)


# -- 2. adapter dies mid-run ------------------------------------------------------------------
def test_remote_adapter_dying_mid_run_is_reported(tmp_path) -> None:
    _, endpoint = free_endpoint()
    with faulty_adapter(endpoint, "dies-at-round", "3") as adapter:
        run = ex1_against(endpoint, tmp_path, 3)
        assert adapter.wait(timeout=5) == 17          # it did die at round 3
    assert run.wall_s < 3 + 3, run
    assert_one_line_error(run, "network adapter", endpoint, "simulated time")
    assert_nothing_left(endpoint)


def test_remote_adapter_death_is_noticed_before_the_timeout(tmp_path) -> None:
    _, endpoint = free_endpoint()
    with faulty_adapter(endpoint, "dies-at-round", "3"):
        run = ex1_against(endpoint, tmp_path, 5)
    assert run.rc != 0
    assert run.wall_s < 3, f"a dead adapter was noticed only after {run.wall_s:.1f} s"


def test_process_child_killed_mid_run(tmp_path) -> None:
    engine, started, child, endpoint = start_long_run(tmp_path)
    time.sleep(max(0.0, started + 1.0 - time.monotonic()))
    assert engine.poll() is None, "the long run ended before the child could be killed"
    os.kill(child, signal.SIGKILL)
    killed = time.monotonic()
    run = finish(engine, started)
    assert time.monotonic() - killed < 5, run
    assert_one_line_error(run, "network adapter", endpoint, "simulated time")
    assert_nothing_left(endpoint)


# -- 3. protocol version mismatch -------------------------------------------------------------
def test_wrong_protocol_version(tmp_path) -> None:
    _, endpoint = free_endpoint()
    with faulty_adapter(endpoint, "wrong-version"):
        run = ex1_against(endpoint, tmp_path, 5)
    assert run.wall_s < 5, run
    assert_one_line_error(run, "network adapter", endpoint, "version mismatch",
                          "peer speaks 99.7", f"this side {codec.PROTOCOL_MAJOR}."
                          f"{codec.PROTOCOL_MINOR}")
    assert_nothing_left(endpoint)


# -- 4. malformed and out-of-order replies ----------------------------------------------------
def test_malformed_reply(tmp_path) -> None:
    _, endpoint = free_endpoint()
    with faulty_adapter(endpoint, "garbage", "3"):
        run = ex1_against(endpoint, tmp_path, 5)
    assert run.wall_s < 5, run
    assert_one_line_error(run, "network adapter", endpoint, "malformed message")
    assert_nothing_left(endpoint)


def test_out_of_order_reply(tmp_path) -> None:
    _, endpoint = free_endpoint()
    with faulty_adapter(endpoint, "out-of-order", "3"):
        run = ex1_against(endpoint, tmp_path, 5)
    assert run.wall_s < 5, run
    # requests 1 and 2 are hello and configure, so round 3 is request 5
    assert_one_line_error(run, "network adapter", endpoint, "out of order",
                          "reply to request 4", "request 5 was waiting")
    assert_nothing_left(endpoint)


def test_adapter_error_reply_fails_promptly(tmp_path) -> None:
    _, endpoint = free_endpoint()
    with faulty_adapter(endpoint, "error-reply", "3"):
        run = ex1_against(endpoint, tmp_path, 5)
    assert_one_line_error(run, "network adapter", endpoint,
                          "reported: injected failure: the model raised")
    assert_nothing_left(endpoint)
    assert run.wall_s < 3, f"the reported error took {run.wall_s:.1f} s to surface"


# -- 5. stall ---------------------------------------------------------------------------------
def test_stalled_adapter_times_out(tmp_path) -> None:
    _, endpoint = free_endpoint()
    with faulty_adapter(endpoint, "stall", "3") as adapter:
        run = ex1_against(endpoint, tmp_path, 3)
        assert_nothing_left(endpoint, adapter)    # the stalled server is the test's own
    assert 2.5 <= run.wall_s < 3 + 3, run
    assert_one_line_error(run, "network adapter", endpoint, "did not answer within 3 s",
                          "simulated time")


# -- 6. engine killed -------------------------------------------------------------------------
def test_adapter_child_exits_when_the_engine_is_killed(tmp_path) -> None:
    engine, started, child, endpoint = start_long_run(tmp_path)
    time.sleep(max(0.0, started + 1.0 - time.monotonic()))
    assert engine.poll() is None, "the long run ended before the engine could be killed"
    engine.kill()
    engine.wait()        # reaped at once, as a shell would (communicate() would first wait
    try:                 # for EOF on stderr, which the child inherited and holds open)
        left = wait_gone(endpoint, 3)        # parent watch polls every 0.5 s
    finally:
        engine.stderr.close()
    assert not left, f"adapter child outlived its engine: {left}"


def test_adapter_child_exits_when_the_killed_engine_is_not_reaped(tmp_path) -> None:
    engine, started, child, endpoint = start_long_run(tmp_path)
    time.sleep(max(0.0, started + 1.0 - time.monotonic()))
    try:
        os.kill(engine.pid, signal.SIGKILL)   # no wait(): the engine stays a zombie
        left = wait_gone(endpoint, 3)
    finally:
        engine.wait()
        wait_gone(endpoint, 3)
        engine.stderr.close()
    assert not left, f"adapter child outlived its (unreaped) engine: {left}"


# -- 7. the server rejects requests out of protocol order --------------------------------------
def _ring8_config() -> str:
    with open(os.path.join(INPUTS, "ring8.json"), encoding="utf-8") as handle:
        return handle.read()


def _reply(server: AdapterServer, seq: int, body: str, message, session: bytes = b""
           ) -> tuple[str, object, int, bytes]:
    envelope, kind = codec.decode(server.handle(codec.encode(seq, body, message, session)))
    return kind, getattr(envelope, kind), envelope.seq, envelope.session


def _open(server: AdapterServer) -> bytes:
    """Hello and configure (ring8, analytical-v1); the session id."""
    kind, _, _, session = _reply(server, 1, "hello", codec.hello("engine"))
    assert kind == "hello" and len(session) == 16
    kind, body, _, _ = _reply(server, 2, "configure",
                              codec.configure("analytical-v1", _ring8_config()), session)
    assert kind == "configured" and body.lookahead_ns > 0
    return session


def test_server_rejects_a_round_before_configure() -> None:
    server = AdapterServer("network")
    kind, _, _, session = _reply(server, 1, "hello", codec.hello("engine"))
    assert kind == "hello"
    kind, body, seq, _ = _reply(server, 2, "round", codec.round_request(100, []), session)
    assert (kind, seq) == ("error", 2)
    assert "round before configure" in body.message
    assert server.sessions == {}              # the session that broke the protocol is closed


def test_server_rejects_a_round_without_a_handshake() -> None:
    server = AdapterServer("network")
    kind, body, seq, _ = _reply(server, 1, "round", codec.round_request(100, [(0, 0, 1, 64, 0)]))
    assert (kind, seq) == ("error", 1)
    assert "round before hello" in body.message
    assert server.exit_status is None         # and it keeps serving


def test_server_rejects_configure_before_hello() -> None:
    kind, body, seq, _ = _reply(AdapterServer("network"), 1, "configure",
                                codec.configure("analytical-v1", _ring8_config()))
    assert (kind, seq) == ("error", 1)
    assert "configure before hello" in body.message


def test_server_rejects_a_reply_sent_as_a_request() -> None:
    server = AdapterServer("network")
    session = _open(server)
    kind, body, _, _ = _reply(server, 3, "configured", pb.Configured(lookahead_ns=1), session)
    assert kind == "error"
    assert "unexpected configured request" in body.message


def test_server_rejects_garbage_and_other_versions() -> None:
    server = AdapterServer("network")
    envelope, kind = codec.decode(server.handle(b"garbage: not a protobuf envelope"))
    assert kind == "error" and "malformed message" in envelope.error.message
    other = pb.Envelope(major=1, minor=1, seq=1)     # a 1.x engine: no sessions
    other.hello.CopyFrom(codec.hello("engine"))
    envelope, kind = codec.decode(server.handle(other.SerializeToString()))
    assert kind == "error"
    assert f"peer speaks 1.1, this side {codec.PROTOCOL_MAJOR}.{codec.PROTOCOL_MINOR}" in \
        envelope.error.message
    assert server.sessions == {} and server.exit_status is None


def test_server_serves_the_protocol_in_order() -> None:
    server = AdapterServer("network", one_engine=True)
    session = _open(server)
    kind, body, seq, reply_session = _reply(
        server, 3, "round", codec.round_request(10**6, [(0, 0, 1, 64, 0)]), session)
    assert (kind, seq, reply_session) == ("round_reply", 3, session)
    assert [op for op, _ in codec.arrivals(body)] == [0]
    assert server.exit_status is None
    kind, body, _, _ = _reply(server, 4, "shutdown", codec.shutdown(), session)
    assert (kind, body.messages) == ("goodbye", 1)
    assert server.exit_status == 0 and server.sessions == {}
