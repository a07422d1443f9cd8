"""A served adapter (``astra-cosim adapter serve``) shared by engines: sessions, garbage, keys.

Each test starts a real server in a subprocess on a free loopback port (it watches this test
process, so none outlives the run) and drives it with real engines (``python -m orchestrator
run``) or a raw ZeroMQ socket. Results are checked against the tutorial's expected totals or an
in-process run of the same experiment.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time

import pytest

from orchestrator.cosim import codec
from orchestrator.cosim import cosim_pb2 as pb
from orchestrator.cosim.server import AdapterServer
from tests.cosim.test_faults import (EX1, INPUTS, REPO, Run, _ring8_config, assert_one_line_error,
                                     finish, free_endpoint, run_engine, wait_gone)

zmq = pytest.importorskip("zmq")

EXPECTED = json.loads(open(os.path.join(REPO, "experiments", "tutorial", "expected.json"),
                           encoding="utf-8").read())
EX2_SWITCH = os.path.join(REPO, "experiments", "tutorial", "ex2_2_switch.yaml")


@contextlib.contextmanager
def served(*extra: str, kind: str = "network"):
    """A running ``adapter serve KIND`` on a free port; yields (process, endpoint)."""
    _, endpoint = free_endpoint()
    process = subprocess.Popen(
        [sys.executable, "-m", "orchestrator", "adapter", "serve", kind, "--bind", endpoint,
         "--parent-pid", str(os.getpid()), "--idle-timeout", "60", *extra],
        cwd=REPO, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _wait_listening(endpoint, process)
        yield process, endpoint
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=10)
        process.stderr.close()
        assert not wait_gone(endpoint, 3), "the adapter server outlived its test"


def _wait_listening(endpoint: str, process: subprocess.Popen) -> None:
    port = int(endpoint.rsplit(":", 1)[1])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the server exited: {process.stderr.read()}"
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    pytest.fail("the adapter server did not start listening")


def _total(out: str) -> int:
    with open(os.path.join(out, "summary.json"), encoding="utf-8") as handle:
        return json.load(handle)["total_ns"]


def _long_run_args(tmp_path, passes: int) -> list[str]:
    """A 64-NPU ring all-reduce, every NPU simulated: a few seconds against a served adapter
    (a reduced run is over in well under a second)."""
    with open(os.path.join(INPUTS, "ring8.json"), encoding="utf-8") as handle:
        network = json.load(handle)
    network["units-count"] = [64]
    path = tmp_path / "ring64.json"
    path.write_text(json.dumps(network))
    return ["--workload", os.path.join(INPUTS, "allreduce_1MiB.txt"),
            "--system", os.path.join(INPUTS, "sys_ring.txt"), "--network", str(path),
            "--comm-scale", "16", "--num-passes", str(passes), "--symmetry", "off"]


# -- sessions ---------------------------------------------------------------------------------
def test_a_second_engine_during_a_run_gets_a_session_of_its_own(tmp_path) -> None:
    reference = run_engine(*_long_run_args(tmp_path, 20), "--out", str(tmp_path / "here"))
    assert reference.rc == 0, reference.stderr
    with served() as (server, endpoint):
        started = time.monotonic()
        first = subprocess.Popen(
            [sys.executable, "-m", "orchestrator", "run", *_long_run_args(tmp_path, 20),
             "--out", str(tmp_path / "first"), "--adapter", f"network={endpoint}", "--quiet"],
            cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)                          # the first is under way
        second = run_engine(EX1, "--out", str(tmp_path / "second"),
                            "--adapter", f"network={endpoint}")
        assert first.poll() is None, "the first run ended before the second one started"
        first_run = finish(first, started)
        assert server.poll() is None
    assert (second.rc, second.stderr) == (0, "")
    assert _total(str(tmp_path / "second")) == EXPECTED["ex1"]["total_ns"]
    assert (first_run.rc, first_run.stderr) == (0, "")
    assert _total(str(tmp_path / "first")) == _total(str(tmp_path / "here"))


def _handle(server: AdapterServer, seq: int, body: str, message, session: bytes = b""
            ) -> tuple[str, object, bytes]:
    envelope, kind = codec.decode(server.handle(codec.encode(seq, body, message, session)))
    return kind, getattr(envelope, kind), envelope.session


def _open_session(server: AdapterServer) -> bytes:
    kind, _, session = _handle(server, 1, "hello", codec.hello("engine"))
    assert kind == "hello", session
    kind, _, _ = _handle(server, 2, "configure", codec.configure("analytical-v1",
                                                                  _ring8_config()), session)
    assert kind == "configured"
    return session


def test_interleaved_sessions_see_only_their_own_messages() -> None:
    """Two engines' rounds interleaved on one server give each the arrivals it gets alone."""
    rounds_a = [(10_000, [(0, 0, 1, 1 << 20, 0), (1, 2, 3, 4096, 5)]), (10 ** 9, [])]
    rounds_b = [(20_000, [(7, 0, 1, 1 << 20, 0)]), (10 ** 9, [(8, 1, 0, 64, 20_000)])]

    def alone(rounds) -> list[list[tuple[int, int]]]:
        server = AdapterServer("network")
        session = _open_session(server)
        return [codec.arrivals(_handle(server, 3 + i, "round", codec.round_request(grant, inj),
                                       session)[1])
                for i, (grant, inj) in enumerate(rounds)]

    shared = AdapterServer("network")
    a, b = _open_session(shared), _open_session(shared)
    assert a != b
    got_a, got_b = [], []
    for i, ((grant_a, inj_a), (grant_b, inj_b)) in enumerate(zip(rounds_a, rounds_b)):
        kind, reply, session = _handle(shared, 3 + i, "round",
                                       codec.round_request(grant_a, inj_a), a)
        assert (kind, session) == ("round_reply", a)
        got_a.append(codec.arrivals(reply))
        _, reply, _ = _handle(shared, 3 + i, "round", codec.round_request(grant_b, inj_b), b)
        got_b.append(codec.arrivals(reply))
    assert got_a == alone(rounds_a) and got_b == alone(rounds_b)
    assert sorted(op for arrivals in got_a for op, _ in arrivals) == [0, 1]
    # one engine's goodbye closes its session alone
    kind, goodbye, _ = _handle(shared, 9, "shutdown", codec.shutdown(), a)
    assert (kind, goodbye.messages) == ("goodbye", 2)
    assert list(shared.sessions) == [b]


@pytest.mark.parametrize("grant,injections,fragment", [
    (10_000, [(0, 0, 99, 64, 0)], "NPUs up to 99; the model has 8 NPUs"),
    (10_000, [(0, (1 << 64) - 1, 1, 64, 0)], f"NPUs up to {(1 << 64) - 1}"),
    (10 ** 9, [(0, 0, 1, 1 << 63, 0)], f"a message of {1 << 63} bytes"),
    (10_000, [(0, 0, 1, 64, 1 << 62)], f"injects at {1 << 62} ns"),
    ((1 << 62) + 1, [], f"grants {(1 << 62) + 1} ns"),
])
def test_a_round_no_engine_could_send_is_answered_with_an_error(grant, injections,
                                                                fragment) -> None:
    """Injections naming NPUs the model lacks, sizes past int64 or times past the
    engine's NEVER were answered with arrivals computed from them (issue 14: garbage to that
    peer is an error); the session ends, the server and other sessions go on."""
    server = AdapterServer("network")
    other, bad = _open_session(server), _open_session(server)
    kind, reply, _ = _handle(server, 3, "round", codec.round_request(grant, injections), bad)
    assert kind == "error" and fragment in reply.message, reply
    assert list(server.sessions) == [other]
    kind, reply, _ = _handle(server, 3, "round",
                             codec.round_request(10 ** 9, [(5, 0, 1, 1 << 20, 0)]), other)
    assert kind == "round_reply" and [op for op, _ in codec.arrivals(reply)] == [5]


def test_a_one_engine_server_refuses_a_second_engine_as_busy() -> None:
    server = AdapterServer("network", one_engine=True)
    first = _open_session(server)
    kind, error, _ = _handle(server, 1, "hello", codec.hello("engine"))
    assert kind == "error" and "adapter busy with another engine" in error.message
    kind, _, _ = _handle(server, 3, "round", codec.round_request(10_000, []), first)
    assert kind == "round_reply" and server.exit_status is None


def test_sessions_beyond_the_limit_are_refused_and_idle_ones_expire() -> None:
    server = AdapterServer("network", max_sessions=2, session_timeout_s=10)
    assert _handle(server, 1, "hello", codec.hello("engine"))[0] == "hello"
    server.handle(codec.encode(1, "hello", codec.hello("engine")), now=time.monotonic() + 5)
    kind, error, _ = _handle(server, 1, "hello", codec.hello("engine"))
    assert kind == "error" and "2 sessions open, at most 2" in error.message
    # 11 s later the first (silent since) has expired: a new engine is admitted
    envelope, kind = codec.decode(server.handle(codec.encode(1, "hello", codec.hello("engine")),
                                                now=time.monotonic() + 11))
    assert kind == "hello" and len(server.sessions) == 2


def test_a_session_id_from_another_server_is_refused() -> None:
    kind, error, _ = _handle(AdapterServer("network"), 2, "configure",
                             codec.configure("analytical-v1", _ring8_config()), b"x" * 16)
    assert kind == "error" and "unknown session" in error.message


# -- garbage ----------------------------------------------------------------------------------
def _ask(endpoint: str, *frames: bytes, timeout_s: float = 5) -> bytes | None:
    """One request on a fresh REQ socket; the reply, or None when none came."""
    sock = zmq.Context.instance().socket(zmq.REQ)
    sock.setsockopt(zmq.LINGER, 0)
    try:
        sock.connect(endpoint)
        sock.send_multipart(list(frames))
        if sock.poll(timeout_s * 1000):
            return sock.recv()
        return None
    finally:
        sock.close(linger=0)


def _error_of(reply: bytes | None) -> str:
    assert reply is not None, "no reply"
    envelope, kind = codec.decode(reply)
    assert kind == "error", kind
    return envelope.error.message


def test_garbage_is_answered_and_the_server_keeps_serving(tmp_path) -> None:
    with served() as (server, endpoint):
        for _ in range(3):        # not even ZeroMQ's greeting: read as legacy ZMTP 1.0 frames
            with socket.create_connection(("127.0.0.1", int(endpoint.rsplit(":", 1)[1]))) as raw:
                raw.sendall(os.urandom(1 << 16))
        assert "malformed message" in _error_of(_ask(endpoint, os.urandom(4096)))
        assert "malformed message" in _error_of(_ask(endpoint, b"\xff" * 64))
        wrong = pb.Hello(role="engine", pid=1).SerializeToString()   # another message type
        assert "version mismatch" in _error_of(_ask(endpoint, wrong))
        assert "round before hello" in _error_of(
            _ask(endpoint, codec.encode(1, "round", codec.round_request(5, [(0, 0, 1, 8, 0)]))))
        assert "several frames" in _error_of(_ask(endpoint, b"a", b"b"))
        old = pb.Envelope(major=1, minor=1, seq=1)
        old.hello.CopyFrom(codec.hello("engine"))
        assert "peer speaks 1.1" in _error_of(_ask(endpoint, old.SerializeToString()))
        # over the cap: ZeroMQ drops the connection before the message is read
        assert _ask(endpoint, b"\0" * (64 << 20), timeout_s=3) is None
        assert server.poll() is None
        run = run_engine(EX1, "--out", str(tmp_path / "out"), "--adapter",
                         f"network={endpoint}")
        assert (run.rc, run.stderr) == (0, "")
        assert _total(str(tmp_path / "out")) == EXPECTED["ex1"]["total_ns"]
        assert server.poll() is None


# -- keys -------------------------------------------------------------------------------------
def _keygen(directory) -> str:
    done = subprocess.run([sys.executable, "-m", "orchestrator", "adapter", "keygen",
                           str(directory)], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    path = os.path.join(str(directory), "adapter.key_secret")
    assert os.stat(path).st_mode & 0o777 == 0o600
    return path


def test_curve_keys_admit_the_key_holder_and_refuse_others_with_one_line(tmp_path) -> None:
    key, other = _keygen(tmp_path / "a"), _keygen(tmp_path / "b")
    with served("--curve-secret-key", key) as (server, endpoint):
        for args, needle in (((), "refused the connection"),
                             (("--adapter-key", other), "refused the connection"),
                             (("--adapter-key", str(tmp_path / "a" / "adapter.key")),
                              "holds no secret key")):
            run = run_engine(EX1, "--out", str(tmp_path / "refused"), "--adapter",
                             f"network={endpoint}", "--adapter-timeout", "20", *args)
            assert run.wall_s < 8, run
            assert_one_line_error(run, needle)
            assert run.rc == 2
            assert not (tmp_path / "refused" / "summary.json").exists()
        ok = run_engine(EX1, "--out", str(tmp_path / "ok"), "--adapter", f"network={endpoint}",
                        "--adapter-key", key)
        assert (ok.rc, ok.stderr) == (0, "")
        assert _total(str(tmp_path / "ok")) == EXPECTED["ex1"]["total_ns"]
        # the experiment file's key: (relative to the file), and a ping with the key
        experiment = tmp_path / "a" / "ex1.yaml"
        experiment.write_text(json.dumps({
            "name": "keyed", "workload": os.path.join(INPUTS, "allreduce_1MiB.txt"),
            "system": os.path.join(INPUTS, "sys_ring.txt"),
            "network": {"backend": "analytical", "config": os.path.join(INPUTS, "ring8.json"),
                        "endpoint": endpoint, "key": "adapter.key_secret"}}))
        keyed = run_engine(str(experiment), "--out", str(tmp_path / "keyed"))
        assert (keyed.rc, keyed.stderr) == (0, "")
        assert _total(str(tmp_path / "keyed")) == EXPECTED["ex1"]["total_ns"]
        ping = subprocess.run([sys.executable, "-m", "orchestrator", "adapter", "ping", endpoint,
                               "--timeout", "5"], cwd=REPO, capture_output=True, text=True,
                              timeout=30, env=os.environ | {"ASTRA_ADAPTER_KEY": key})
        assert ping.returncode == 0 and ping.stdout.startswith("network adapter at "), ping
        # a bad key is reported where it was given: the file's field, or the variable
        experiment.write_text(experiment.read_text().replace("adapter.key_secret",
                                                             "adapter.key"))
        wrong = run_engine(str(experiment), "--out", str(tmp_path / "wrong"))
        assert_one_line_error(wrong, f"{experiment}: network.key ")
        assert "holds no secret key" in wrong.stderr and "--adapter-key" not in wrong.stderr
        public = str(tmp_path / "a" / "adapter.key")
        ping = subprocess.run([sys.executable, "-m", "orchestrator", "adapter", "ping", endpoint,
                               "--timeout", "5"], cwd=REPO, capture_output=True, text=True,
                              timeout=30, env=os.environ | {"ASTRA_ADAPTER_KEY": public})
        assert ping.returncode == 2
        assert ping.stderr.startswith(f"astra-cosim: error: $ASTRA_ADAPTER_KEY {public}: holds")
        assert server.poll() is None


def test_a_key_for_a_server_without_one_is_refused(tmp_path) -> None:
    key = _keygen(tmp_path / "a")
    with served() as (_, endpoint):
        run = run_engine(EX1, "--out", str(tmp_path / "out"), "--adapter",
                         f"network={endpoint}", "--adapter-key", key, "--adapter-timeout", "20")
    assert run.wall_s < 8, run
    assert_one_line_error(run, "refused the connection")


def test_a_bad_key_file_stops_the_server_with_one_line(tmp_path) -> None:
    bad = tmp_path / "bad.key_secret"
    bad.write_text("not a certificate\n")
    _, endpoint = free_endpoint()
    done = subprocess.run([sys.executable, "-m", "orchestrator", "adapter", "serve", "network",
                           "--bind", endpoint, "--curve-secret-key", str(bad)], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"astra-cosim: error: --curve-secret-key {bad}: cannot read the key file "
        f"(No public key found in {bad})"]


def test_spawned_adapters_ignore_the_stack_key(tmp_path) -> None:
    """A child this engine starts listens on loopback for it alone: $ASTRA_ADAPTER_KEY (the
    compose stacks set it) must not make the child demand a key the engine does not send."""
    key = _keygen(tmp_path / "a")
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "orchestrator", "run", EX1, "--out", str(tmp_path / "out"),
         "--placement", "process", "--quiet"], cwd=REPO, stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env=os.environ | {"ASTRA_ADAPTER_KEY": key})
    run: Run = finish(process, started)
    assert (run.rc, run.stderr) == (0, "")
    assert _total(str(tmp_path / "out")) == EXPECTED["ex1"]["total_ns"]


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_a_killed_engine_leaves_no_adapter_and_no_scratch_folder(tmp_path, how) -> None:
    """The spawned adapter notices its engine is gone, exits and removes its scratch folder
    (the engine, killed, cannot)."""
    import signal

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    engine = subprocess.Popen(
        [sys.executable, "-m", "orchestrator", "run", *_long_run_args(tmp_path, 40),
         "--out", str(tmp_path / "out"), "--placement", "process", "--quiet"],
        cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, env=os.environ | {"TMPDIR": str(scratch)})
    deadline = time.monotonic() + 15
    while not any(name.startswith("astra-cosim-adapter-") for name in os.listdir(scratch)):
        assert engine.poll() is None and time.monotonic() < deadline, "no adapter was spawned"
        time.sleep(0.05)
    time.sleep(1.0)
    assert engine.poll() is None, "the run ended before the engine could be killed"
    engine.send_signal(getattr(signal, how))
    engine.wait(timeout=10)
    killed = time.monotonic()
    assert not wait_gone(f"--parent-pid {engine.pid}", 3), "the adapter outlived its engine"
    while os.listdir(scratch) and time.monotonic() - killed < 3:
        time.sleep(0.05)
    assert os.listdir(scratch) == []


def _engine_under_way(tmp_path, endpoint: str) -> subprocess.Popen:
    """A long full run against the served adapter at ``endpoint``, two seconds in."""
    engine = subprocess.Popen(
        [sys.executable, "-m", "orchestrator", "run", *_long_run_args(tmp_path, 400),
         "--out", str(tmp_path / "out"), "--adapter", f"network={endpoint}", "--quiet"],
        cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True)
    time.sleep(2.0)
    assert engine.poll() is None, "the run ended before the adapter could be stopped"
    return engine


def test_a_stopped_served_adapter_lets_its_engine_say_so_before_it_exits(tmp_path) -> None:
    """``docker stop`` of an adapter container: SIGTERM to a server with no parent engine. It
    closes its socket at once and exits a moment later, so the engine has already ended with
    one line naming the adapter when the container's exit makes compose stop the rest."""
    import signal

    from orchestrator.cosim.server import STOP_GRACE_S

    _, endpoint = free_endpoint()
    adapter = subprocess.Popen(
        [sys.executable, "-m", "orchestrator", "adapter", "serve", "network", "--bind",
         endpoint, "--idle-timeout", "60"],
        cwd=REPO, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _wait_listening(endpoint, adapter)
        started = time.monotonic()
        engine = _engine_under_way(tmp_path, endpoint)
        adapter.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        run = finish(engine, started)
        engine_done = time.monotonic()
        adapter.wait(timeout=10)
        adapter_done = time.monotonic()
    finally:
        if adapter.poll() is None:
            adapter.kill()
            adapter.wait()
        adapter.stderr.close()
    assert_one_line_error(run, "network adapter", endpoint, "closed the connection")
    assert engine_done - stopped < STOP_GRACE_S
    assert adapter_done > engine_done and adapter.returncode == 128 + signal.SIGTERM
    assert not (tmp_path / "out" / "summary.json").exists()


def test_the_container_entry_point_passes_a_stop_on_to_its_server(tmp_path) -> None:
    """``docker stop`` signals docker/serve-adapter.sh alone: it must hand SIGTERM to the
    server and wait for it, or the container ends the server before it closes its socket."""
    import signal

    script = os.path.join(REPO, "docker", "serve-adapter.sh")
    _, endpoint = free_endpoint()
    path = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    shell = subprocess.Popen(["sh", script, "network", "--bind", endpoint, "--idle-timeout",
                              "60"], cwd=tmp_path, stdin=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True, env=os.environ | {"PATH": path})
    try:
        _wait_listening(endpoint, shell)
        started = time.monotonic()
        engine = _engine_under_way(tmp_path, endpoint)
        shell.send_signal(signal.SIGTERM)
        run = finish(engine, started)
        engine_done = time.monotonic()
        shell.wait(timeout=10)
        shell_done = time.monotonic()
    finally:
        if shell.poll() is None:
            shell.kill()
            shell.wait()
        shell.stderr.close()
    assert_one_line_error(run, "network adapter", endpoint, "closed the connection")
    assert shell.returncode == 128 + signal.SIGTERM and shell_done > engine_done
    assert not wait_gone(endpoint, 3), "the server outlived its entry point"


def test_keygen_keeps_a_pair_unless_forced_and_shares_it_on_request(tmp_path) -> None:
    from orchestrator.cosim import keys

    secret, public, written = keys.generate(str(tmp_path))
    first = keys.load(secret, "--adapter-key")
    assert written and os.stat(secret).st_mode & 0o777 == 0o600
    assert open(public, encoding="ascii").read().count(first[0].decode()) == 1
    assert keys.generate(str(tmp_path))[2] is False and keys.load(secret, "k") == first
    _, _, written = keys.generate(str(tmp_path), force=True, shared=True)
    assert written and keys.load(secret, "k") != first
    assert os.stat(secret).st_mode & 0o777 == 0o644


def test_a_request_over_the_size_limit_fails_before_it_is_sent(monkeypatch) -> None:
    from orchestrator.cosim.client import AdapterError, ZmqClient

    monkeypatch.setattr(codec, "MAX_MESSAGE_BYTES", 200)
    _, endpoint = free_endpoint()
    client = ZmqClient(endpoint, "network", 1.0)
    try:
        with pytest.raises(AdapterError, match=r"a round request of \d+ bytes exceeds the "
                                               r"protocol's limit of 200"):
            client.round(10, [(op, 0, 1, 64, 0) for op in range(50)])
    finally:
        client.close()
