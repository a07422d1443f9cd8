"""The Garnet (gem5) cycle-level network behind the adapter spec (adapters/base.py).

The model lives wherever the engine puts its adapter (in the engine's process or in an
``adapter serve`` process speaking protos/cosim.proto, exactly like ns-3), and runs gem5 as a
child process: ``gem5.opt gem5_driver.py`` builds the Garnet network (``plan.py``) and the
project's ``CosimInjector`` SimObject (``gem5_extras/``), then answers rounds over two pipes.
gem5's embedded Python is the system's, without the project's packages (pyzmq, protobuf), and
gem5 owns its process (signals, exit), so this thin bridge keeps every placement, the
handshake, sessions and fault handling in the one adapter server the other backends use.

Timing (docs/garnet.md): a message injected at t enters gem5 at t + d, d =
``injection_latency_ns``, and arrives when its last packet is delivered to the destination's
interface. Garnet knows an arrival only when it happens, so the model runs gem5 d ahead of
its own clock: granted G, it runs gem5's events before G + d, but no further than d past the
first delivery A it meets; its clock is then T = min(G, A) and every delivery it has not
reported lies at or after T + d. That makes d the lookahead, and gem5 never receives an
injection in its past: the engine injects at or after T, which enters gem5 at or after T + d.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import weakref
from typing import IO, Any

from adapters.analytical.config_v1 import parse_v1_network
from adapters.analytical.config_v2 import parse_v2_network
from adapters.base import NEVER, NetworkModel, undelivered_text
from adapters.garnet.locate import DRIVER, find_gem5
from adapters.garnet.options import GarnetOptions, parse_options
from adapters.garnet.plan import TICKS_PER_NS, GarnetPlan, make_plan
from adapters.ns3.topology import Topology, from_dimensions
from adapters.ns3.topology_file import load_topology_file
from orchestrator.errors import InputError, SimulationError

_LOG_TAIL = 600          # characters of gem5's log quoted when it fails


def _shutdown(process: subprocess.Popen, pipes: list[IO[str]], scratch: str) -> None:
    """Stop gem5 and remove its scratch folder (the model's finaliser)."""
    for pipe in pipes:
        try:
            pipe.close()
        except OSError:
            pass
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    shutil.rmtree(scratch, ignore_errors=True)


class GarnetNetworkModel(NetworkModel):
    def __init__(self, plan: GarnetPlan, options: GarnetOptions) -> None:
        self.plan = plan
        self.options = options
        gem5 = find_gem5(options.gem5)
        self._lead = options.injection_latency_ns
        self._scratch = tempfile.mkdtemp(prefix="astra-garnet-")
        config = os.path.join(self._scratch, "network.json")
        with open(config, "w", encoding="utf-8") as handle:
            json.dump(plan.driver_config(), handle)
        self._log_path = os.path.join(self._scratch, "gem5.log")
        to_gem5_read, to_gem5_write = os.pipe()
        from_gem5_read, from_gem5_write = os.pipe()
        started = time.perf_counter()
        with open(self._log_path, "w", encoding="utf-8") as log:
            self._process = subprocess.Popen(
                [str(gem5), "--listener-mode=off", "-d", os.path.join(self._scratch, "m5out"),
                 str(DRIVER), config, str(to_gem5_read), str(from_gem5_write)],
                pass_fds=(to_gem5_read, from_gem5_write), stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, cwd=self._scratch)
        os.close(to_gem5_read)
        os.close(from_gem5_write)
        self._to = open(to_gem5_write, "w", encoding="ascii")
        self._from = open(from_gem5_read, "r", encoding="ascii")
        self._finalizer = weakref.finalize(self, _shutdown, self._process,
                                           [self._to, self._from], self._scratch)
        ready = self._read_line()
        if ready != "READY":
            self._fail(f"gem5 did not start the Garnet network: {ready}")
        self.startup_s = time.perf_counter() - started
        self._lines: list[str] = []
        # undelivered messages in injection order: op -> (src, dst, bytes, injected at)
        self._pending: dict[int, tuple[int, int, int, int]] = {}
        self._clock = 0                 # T: every event of the model before it is done
        self._busy = False
        self.messages = 0
        self.bytes_sent = 0
        self.flits = 0
        self.rounds = 0
        self.advance_s = 0.0

    @property
    def gem5_pid(self) -> int:
        return self._process.pid

    # -- the adapter spec -------------------------------------------------------------------
    @property
    def lookahead_ns(self) -> int:
        return self._lead

    def inject(self, op: int, src: int, dst: int, size_bytes: int, time_ns: int) -> None:
        npus = self.plan.npus
        if not (0 <= src < npus and 0 <= dst < npus):
            raise SimulationError(f"message {op}: NPU {src} -> {dst} is outside the garnet "
                                  f"network's {npus} NPUs")
        if src == dst:
            raise SimulationError(f"message {op}: NPU {src} sends to itself; the garnet "
                                  "network carries messages between distinct NPUs")
        if size_bytes < 0:
            raise SimulationError(f"message {op}: NPU {src} -> {dst} of {size_bytes} bytes")
        if time_ns < self._clock:
            raise SimulationError(f"message {op} injected at {time_ns} ns, before the garnet "
                                  f"network's time {self._clock} ns (the engine must not "
                                  "inject before its last grant)")
        out_port, in_port = self.plan.route_ports(src, dst)
        full, single = self.plan.packets(size_bytes)
        tick = (time_ns + self._lead) * TICKS_PER_NS
        self._lines.append(f"{op} {out_port} {in_port} {full} {single} {tick}\n")
        self._pending[op] = (src, dst, size_bytes, time_ns)
        self.messages += 1
        self.bytes_sent += size_bytes
        self.flits += full * self.plan.flits_per_packet + single

    def advance(self, grant_ns: int) -> list[tuple[int, int]]:
        if not self._pending:
            return []
        started = time.perf_counter()
        oldest = next(iter(self._pending.values()))[3]
        watchdog = oldest + self.options.message_timeout_ns
        limit = min(grant_ns, watchdog)
        lines, self._lines = self._lines, []
        self._send(f"R {(limit + self._lead) * TICKS_PER_NS} {self._lead * TICKS_PER_NS} "
                   f"{len(lines)}\n" + "".join(lines))
        head = self._read_line().split()
        if not head or head[0] != "A":
            self._fail(f"gem5 answered a round with {' '.join(head)!r}")
        arrivals = []
        for _ in range(int(head[1])):
            op, tick = map(int, self._read_line().split())
            arrivals.append((op, -(-tick // TICKS_PER_NS)))
            self._pending.pop(op)
        self._busy = head[2] == "1"
        self._clock = min([limit] + [time_ns for _, time_ns in arrivals])
        self.rounds += 1
        self.advance_s += time.perf_counter() - started
        if self._pending and self._clock >= watchdog:
            raise SimulationError(
                f"garnet network at {self._clock} ns: message(s) undelivered after "
                f"{self.options.message_timeout_ns} ns of simulated time (message_timeout_ns; "
                f"a deadlock?): {undelivered_text(self._pending)}")
        return arrivals

    def next_event_ns(self) -> int:
        return self._clock if self._pending else NEVER

    def stats(self) -> dict[str, float]:
        return {"messages": self.messages, "bytes": self.bytes_sent, "flits": self.flits,
                "rounds": self.rounds, "advance_s": round(self.advance_s, 6),
                "gem5_startup_s": round(self.startup_s, 3),
                "flit_bytes": self.plan.flit_bytes, "clock_period_ps": self.plan.period_ps,
                "buffers_per_vc": self.plan.buffers_per_vc}

    def close(self) -> None:
        """Stop gem5 now (it is also stopped when the model is garbage collected)."""
        if self._finalizer.alive:
            try:
                self._to.write("Q\n")
                self._to.flush()
            except OSError:
                pass
            self._finalizer()

    # -- the pipe to gem5 -------------------------------------------------------------------
    def _send(self, text: str) -> None:
        try:
            self._to.write(text)
            self._to.flush()
        except OSError:
            self._fail("gem5 exited")

    def _read_line(self) -> str:
        line = self._from.readline()
        if not line:
            self._fail("gem5 exited")
        if line.startswith("E "):
            self._fail(f"gem5 reported: {line[2:].strip()}")
        return line.strip()

    def _fail(self, what: str) -> None:
        try:            # gem5 closing its pipe is usually gem5 exiting: give it a moment
            code = self._process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            code = None
        try:
            with open(self._log_path, encoding="utf-8", errors="replace") as log:
                tail = " ".join(log.read()[-_LOG_TAIL:].split())
        except OSError:
            tail = ""
        status = "" if code is None else f" (exit status {code})"
        raise SimulationError(f"garnet network: {what}{status}; gem5 log ends: {tail}")


def _topology(doc: dict[str, Any], options: GarnetOptions, source: str) -> Topology:
    if options.topology_file is not None:
        topology = load_topology_file(options.topology_file)
        if doc.get("network") is not None:
            parse = parse_v1_network if doc.get("format") == "v1" else parse_v2_network
            expected = parse(doc["network"], source).npus_count
            if expected != topology.hosts:
                raise InputError(f"the topology file has {topology.hosts} NPUs but the "
                                 f"network config has {expected}", options.topology_file)
        return topology
    network_format = doc.get("format")
    if network_format == "v1":
        return from_dimensions(parse_v1_network(doc.get("network"), source))
    if network_format == "v2":
        return from_dimensions(parse_v2_network(doc.get("network"), source))
    raise InputError(f"garnet configuration: format: found {network_format!r}; expected v1 "
                     "or v2", source)


def build_plan(doc: dict[str, Any], source: str) -> tuple[GarnetPlan, GarnetOptions]:
    """The plan and options of a configuration document (no gem5 needed)."""
    if not isinstance(doc, dict):
        raise InputError("garnet configuration: expected a mapping with format, network, "
                         "options", source)
    unknown = sorted(set(doc) - {"format", "network", "options"}, key=str)
    if unknown:
        raise InputError(f"garnet configuration: unknown key {unknown[0]!r}; expected format, "
                         "network, options", source)
    options = parse_options(doc.get("options"), source)
    return make_plan(_topology(doc, options, source), options), options


def build_garnet(doc: dict[str, Any], source: str) -> NetworkModel:
    """The registry's builder: ``doc = {"format", "network", "options"}``."""
    plan, options = build_plan(doc, source)
    return GarnetNetworkModel(plan, options)
