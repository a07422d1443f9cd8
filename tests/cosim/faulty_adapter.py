"""A network adapter server that misbehaves on cue (after Jupyter's ``problemkernel``).

    python tests/cosim/faulty_adapter.py --bind tcp://127.0.0.1:PORT --mode MODE [K]
                                         [--parent-pid PID] [--idle-timeout S]

It binds a ZeroMQ REP socket like ``astra-cosim adapter serve network`` and answers through the
real :class:`orchestrator.cosim.server.AdapterServer`, except where MODE says otherwise. K
counts round requests (1 = the first round after the handshake; 0 = the hello request):

* ``normal``              behaves like the real server;
* ``dies-at-round K``     exits abruptly (``os._exit``, no reply, no cleanup) on round K;
* ``wrong-version [K]``   from request K on (default 0, the hello) every reply says major 99;
* ``garbage [K]``         answers round K (default 3) with bytes that are not a protobuf;
* ``out-of-order [K]``    answers round K (default 3) with the previous request's seq;
* ``stall [K]``           never answers round K (default 3) or anything after it;
* ``error-reply [K]``     answers round K (default 3) with an Error envelope and exits, as the
                          real server does after any failure (e.g. the model raised).

After a one-shot fault (garbage, out-of-order) it behaves normally again, so the engine's
shutdown request is answered. It prints ``ready`` once bound, and exits when ``--parent-pid``
is gone or after ``--idle-timeout`` seconds without a request (default 60), so a test that
forgets it does not leave it running for long.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))

import zmq  # noqa: E402

from orchestrator.cosim import codec  # noqa: E402
from orchestrator.cosim import cosim_pb2 as pb  # noqa: E402
from orchestrator.cosim.server import AdapterServer, _alive  # noqa: E402

MODES = {"normal": None, "dies-at-round": None, "wrong-version": 0, "garbage": 3,
         "out-of-order": 3, "stall": 3, "error-reply": 3}
ERROR_TEXT = "injected failure: the model raised"
GARBAGE = b"garbage: not a protobuf envelope"   # 'g' = field 12 with wire type 7: invalid
WRONG_MAJOR = 99
WRONG_MINOR = 7


def parse_mode(words: list[str]) -> tuple[str, int | None]:
    mode = words[0]
    if mode not in MODES or len(words) > 2:
        raise SystemExit(f"faulty_adapter: bad --mode {' '.join(words)!r}; expected one of "
                         f"{', '.join(MODES)} [K]")
    if len(words) == 2:
        return mode, int(words[1])
    if mode == "dies-at-round":
        raise SystemExit("faulty_adapter: dies-at-round needs K")
    return mode, MODES[mode]


def _patch(reply: bytes, **fields) -> bytes:
    envelope = pb.Envelope()
    envelope.ParseFromString(reply)
    for name, value in fields.items():
        setattr(envelope, name, value)
    return envelope.SerializeToString()


def _seq_and_body(data: bytes) -> tuple[int, str | None]:
    envelope = pb.Envelope()
    try:
        envelope.ParseFromString(data)
    except Exception:
        return 0, None
    return envelope.seq, envelope.WhichOneof("body")


def _idle_until_gone(parent_pid: int | None, idle_timeout_s: float) -> int:
    """The stall: hold the request unanswered until the parent or the idle timeout ends it."""
    started = time.monotonic()
    while time.monotonic() - started < idle_timeout_s:
        if parent_pid is not None and not _alive(parent_pid):
            return 1
        time.sleep(0.2)
    return 1


def serve(bind: str, mode: str, k: int | None, parent_pid: int | None,
          idle_timeout_s: float) -> int:
    context = zmq.Context.instance()
    sock = context.socket(zmq.REP)
    sock.setsockopt(zmq.LINGER, 0)
    sock.bind(bind)
    print("ready", flush=True)
    server = AdapterServer("network", one_engine=True)
    rounds = 0
    last_request = time.monotonic()
    try:
        while True:
            if not sock.poll(200):
                if parent_pid is not None and not _alive(parent_pid):
                    return 1
                if time.monotonic() - last_request > idle_timeout_s:
                    return 1
                continue
            data = sock.recv()
            last_request = time.monotonic()
            seq, body = _seq_and_body(data)
            if body == "round":
                rounds += 1
            at_cue = k is not None and ((k == 0 and body == "hello") or
                                        (k > 0 and body == "round" and rounds == k))
            past_cue = k is not None and (k == 0 or rounds >= k)
            if mode == "dies-at-round" and at_cue:
                os._exit(17)
            if mode == "stall" and at_cue:
                return _idle_until_gone(parent_pid, idle_timeout_s)
            if mode == "error-reply" and at_cue:
                sock.send(codec.encode(seq, "error", pb.Error(message=ERROR_TEXT)))
                return 1
            reply = server.handle(data)
            if mode == "wrong-version" and past_cue:
                reply = _patch(reply, major=WRONG_MAJOR, minor=WRONG_MINOR)
            elif mode == "garbage" and at_cue:
                reply = GARBAGE
            elif mode == "out-of-order" and at_cue:
                reply = _patch(reply, seq=max(seq - 1, 0))
            sock.send(reply)
            if server.exit_status is not None:
                return server.exit_status
    finally:
        sock.close(linger=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bind", required=True)
    parser.add_argument("--mode", nargs="+", required=True, metavar="MODE [K]")
    parser.add_argument("--parent-pid", type=int, default=None)
    parser.add_argument("--idle-timeout", type=float, default=60.0)
    args = parser.parse_args(argv)
    mode, k = parse_mode(args.mode)
    return serve(args.bind, mode, k, args.parent_pid, args.idle_timeout)


if __name__ == "__main__":
    sys.exit(main())
