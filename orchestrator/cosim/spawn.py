"""Starting the adapter child of ``--placement process``: ``astra-cosim adapter serve KIND``.

A fresh interpreter pays its own start-up and imports (ZeroMQ, protobuf, the models): about
0.1 s per run on a 2-CPU machine, more than a symmetry-reduced simulation takes. So when the
engine is a single thread (the CLI's ``run``, a benchmark, a test) the child is *forked*: it
starts with everything the engine has imported and runs the very command line an exec'd child
would run (``orchestrator.cli.main.main``), labelled with it (setproctitle) so that process
listings and the fault tests find it as before. It is still a process of its own, with its own
socket, ZeroMQ context and model, reached over the same protocol; only the interpreter start-up
is gone. An engine with other threads (a sweep worker, a program embedding the engine) execs a
new interpreter instead, because a fork copies only the forking thread and any lock another
thread held (the standard streams' included) would stay locked in the child.

Either way the child reports on a pipe when it is listening (``--ready-fd``), so the engine
connects once, at the right moment, instead of retrying against a port nobody has bound yet.
With ``transport: pipe`` there is nothing to connect to: the child gets one end of a socket
pair (``--bind fd:N``), the engine keeps the other, and its hello waits in the socket until the
child reads it.
"""

from __future__ import annotations

import gc
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from orchestrator.cosim import keys
from orchestrator.errors import InputError
from orchestrator.processes import alive

START_UP_S = 600.0       # longest wait for a spawned adapter to load its backend and listen


def _free_tcp_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ForkedAdapter:
    """A forked adapter child, with the part of ``subprocess.Popen``'s interface the engine
    uses to watch and stop it (poll, wait, terminate, kill, returncode)."""

    def __init__(self, pid: int, args: list[str]) -> None:
        self.pid = pid
        self.args = args
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid == self.pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if timeout is None:
            if self.returncode is None:
                _, status = os.waitpid(self.pid, 0)
                self.returncode = os.waitstatus_to_exitcode(status)
            return self.returncode
        deadline = time.monotonic() + timeout
        if self.poll() is None:
            self._wait_exit(timeout)
        delay = 0.0005
        while self.poll() is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise subprocess.TimeoutExpired(self.args, timeout)
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, 0.05)
        return self.returncode

    def _wait_exit(self, timeout: float) -> None:
        """Sleep until the child exits or ``timeout`` passes, woken by its exit itself (a
        pidfd, Linux 5.3+) rather than by polling, which would add up to the polling step to
        every run's shutdown. Where pidfds are missing it returns at once and the caller polls."""
        try:
            pidfd = os.pidfd_open(self.pid)
        except (AttributeError, OSError):
            return
        try:
            select.select([pidfd], [], [], timeout)
        finally:
            os.close(pidfd)

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def _command(kind: str, endpoint: str, workdir: str, timeout_s: float, preload: str | None,
             ready_fd: int | None) -> list[str]:
    """The ``adapter serve`` arguments of a spawned child (after ``-m orchestrator``)."""
    return ["adapter", "serve", kind, "--bind", endpoint, "--one-engine", "--scratch",
            workdir, "--parent-pid", str(os.getpid()),
            "--idle-timeout", str(max(timeout_s * 4, 60)),
            *(("--ready-fd", str(ready_fd)) if ready_fd is not None else ()),
            *(("--preload", preload) if preload else ())]


_STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}
# the engine's ends of its pipe-transport adapters: a child forked later must not hold them
# open, or an adapter would not see its engine's connection close when the engine dies
_ENGINE_ENDS: set[socket.socket] = set()


def forget_channel(channel: socket.socket) -> None:
    """The engine closed this pipe end (its adapter is stopped)."""
    _ENGINE_ENDS.discard(channel)


def _run_forked(argv: list[str], title: str, workdir: str, ready_fd: int | None,
                mask: set[signal.Signals]) -> None:
    """The forked child: become ``adapter serve`` as an exec'd child would be (its folder, no
    standard input, no engine key, no profiler the engine ran under) and never return into
    the engine's code; ``os._exit`` skips the engine's exit handlers."""
    status = 1
    try:
        # the engine's objects are never freed here: keep the collector off them, so that it
        # neither spends time on them nor copies their pages by touching them
        gc.freeze()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)     # the engine's run unwinds on it
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        sys.setprofile(None)
        sys.settrace(None)
        os.chdir(workdir)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        os.environ.pop(keys.ENV_KEY, None)
        for channel in _ENGINE_ENDS:
            channel.close()
        import setproctitle
        setproctitle.setproctitle(title)
        from orchestrator.cli.main import main
        status = main(argv, _PARSER[0])
    except SystemExit as exc:          # the server's SIGTERM handler exits this way
        status = exc.code if isinstance(exc.code, int) else 1
    except BaseException:              # noqa: BLE001 - reported, then the child ends
        import traceback
        traceback.print_exc()
    finally:
        try:
            sys.stderr.flush()
        finally:
            os._exit(status)


_PARSER: list = []      # the CLI's parser of ``adapter``, built once per engine process


def _prepare_fork(kind: str, model: str | None, transport: str) -> None:
    """Import and build what the child runs while still one process, so the child starts
    with it (and every later child too): the server, the CLI's parser that starts it, ZeroMQ
    unless it serves a pipe and, when it is the project's own Python, the model."""
    import setproctitle  # noqa: F401
    if transport != "pipe":
        import zmq  # noqa: F401

    from adapters.registry import MODELS_BY_KIND, OWN_MODELS, import_model
    from orchestrator.cli.main import build_parser

    if not _PARSER:
        _PARSER.append(build_parser(["adapter"]))

    if model in OWN_MODELS and model in MODELS_BY_KIND.get(kind, {}):
        import_model(kind, model)


def spawn_adapter(kind: str, timeout_s: float, transport: str = "tcp",
                  preload: str | None = None
                  ) -> tuple[str, subprocess.Popen | ForkedAdapter, socket.socket | None]:
    """Start ``astra-cosim adapter serve KIND`` as a child and return (its endpoint, the
    child, the engine's end of the connection for ``transport`` pipe, else None). Over tcp
    (a loopback port) or ipc (a Unix socket in its scratch folder) it returns once the child
    listens (or has died: the handshake then reports it); over pipe at once. The child exits
    when this process does (parent watch). With ``preload`` the child loads that model's
    backend (ns-3 takes seconds) before it serves."""
    forking = hasattr(os, "fork") and threading.active_count() == 1
    if forking:
        # the slow imports first: an engine killed (SIGKILL) meanwhile leaves no folder yet
        _prepare_fork(kind, preload, transport)
    _remove_orphans()
    workdir = tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-")
    channel = child_end = None
    read_end = write_end = -1
    process: subprocess.Popen | ForkedAdapter | None = None
    try:
        if transport == "pipe":
            channel, child_end = socket.socketpair()
            endpoint = f"fd:{child_end.fileno()}"
        else:
            endpoint = (_ipc_endpoint(workdir) if transport == "ipc"
                        else f"tcp://127.0.0.1:{_free_tcp_port()}")
            read_end, write_end = os.pipe()
        argv = _command(kind, endpoint, workdir, timeout_s, preload,
                        write_end if write_end >= 0 else None)
        args = [sys.executable, "-m", "orchestrator", *argv]
        if forking:
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
            # a SIGTERM/SIGINT between fork and the child's own handlers would unwind the
            # engine's code in the child: both wait until each side is ready for them
            blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
            pid = os.fork()
            if pid == 0:
                if read_end >= 0:
                    os.close(read_end)
                if channel is not None:
                    channel.close()
                _run_forked(argv, " ".join(args), workdir,
                            write_end if write_end >= 0 else None, blocked)
            process = ForkedAdapter(pid, args)
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        else:
            process = subprocess.Popen(
                args, cwd=workdir, stdin=subprocess.DEVNULL,
                pass_fds=(child_end.fileno(),) if child_end is not None else (write_end,),
                env={name: value for name, value in os.environ.items()
                     if name != keys.ENV_KEY})
        process.workdir = workdir     # removed by stop_process
        if channel is not None:
            _ENGINE_ENDS.add(channel)
            return f"pipe:{process.pid}", process, channel
        os.close(write_end)
        write_end = -1
        _await_listening(read_end, process)
    except BaseException:
        # e.g. Ctrl-C or SIGTERM while the backend is imported or the child loads it: the
        # scratch folder exists from the first line on and is removed whatever the moment
        if channel is not None:
            channel.close()
        if process is not None:
            process.kill()
            process.wait()
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    finally:
        for fd in (read_end, write_end):
            if fd >= 0:
                os.close(fd)
        if child_end is not None:
            child_end.close()
    return endpoint, process, None


SCRATCH_PREFIX = "astra-cosim-adapter-"     # + the engine's pid + "-" + random
SOCKET_PATH_MAX = 107     # bytes of a Unix socket path (sockaddr_un.sun_path less its NUL)


def _ipc_endpoint(workdir: str) -> str:
    """The Unix socket of an ipc child: a file in its scratch folder when the path fits the
    kernel's limit; under a deep TMPDIR (a CI checkout, pytest's folders) a Linux abstract
    name made of the folder's unique name instead, which needs no file at all."""
    path = os.path.join(workdir, "adapter.sock")
    if len(os.fsencode(path)) <= SOCKET_PATH_MAX:
        return f"ipc://{path}"
    if sys.platform.startswith("linux"):
        return f"ipc://@{os.path.basename(workdir)}"
    raise InputError(f"transport ipc: the socket path {path} is longer than "
                     f"{SOCKET_PATH_MAX} bytes; set TMPDIR to a shorter folder or use "
                     f"transport tcp or pipe")


def _remove_orphans() -> None:
    """Remove the scratch folders of engines that are gone. The adapter child removes its
    own when its engine dies, but an engine killed (SIGKILL) in the instant between making
    the folder and starting the child leaves one nobody else knows about."""
    parent = tempfile.gettempdir()
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        owner = name[len(SCRATCH_PREFIX):].split("-", 1)[0]
        if name.startswith(SCRATCH_PREFIX) and owner.isdigit() and not alive(int(owner)):
            shutil.rmtree(os.path.join(parent, name), ignore_errors=True)


def _await_listening(read_end: int, process) -> None:
    """Wait until the child says it listens, closes the pipe (it died) or has taken
    START_UP_S: the handshake that follows then reports what happened."""
    deadline = time.monotonic() + START_UP_S
    while time.monotonic() < deadline:
        ready, _, _ = select.select([read_end], [], [], 0.5)
        if ready:
            os.read(read_end, 1)      # b"1": listening; b"": the child is gone
            return
        if process.poll() is not None:
            return
