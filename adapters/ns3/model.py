"""The ns-3 packet-level network behind the adapter spec (adapters/base.py).

Each message is a flow of bytes over the TCP connection from its source NPU to its
destination NPU in a real ns-3 3.44 simulation (``build.py``); ``flow_tracker.cpp`` decides its
arrival when its last byte starts down the last link, which is at least one link delay before
it reaches the receiver, and checks the decision against the receiver's socket.

Driving ns-3 incrementally:

* ``inject`` schedules the flow's start at its injection time (never in ns-3's past: the
  engine never injects before its last grant, and ns-3 never runs past a grant);
* ``advance(grant)`` runs ns-3 up to ``grant`` with ``Simulator::Stop`` (``Run`` resumes
  where it stopped); an unbounded grant (the engine has nothing of its own left) runs until
  the earliest arrival decided so far, so that the engine can inject again at that time;
* ``next_event_ns`` is the time of ns-3's next event while some message is undecided (an
  arrival can only be decided by an event, at least a link delay before it happens, which is
  the lookahead), ``NEVER`` when every message is decided.

ns-3's simulator is a process-wide singleton, so one model can be built per process; a second
is refused. A message that is still undelivered after ``flow_timeout_ns`` of simulated time,
or when ns-3 runs out of events, is an error naming it; so is a TCP connection that gives up.
"""

from __future__ import annotations

import time
from typing import Any

from adapters.analytical.config_v1 import parse_v1_network
from adapters.analytical.config_v2 import parse_v2_network
from adapters.base import NEVER, NetworkModel
from adapters.ns3.build import BuiltNetwork, build_network
from adapters.ns3.loader import load_ns3
from adapters.ns3.options import Ns3Options, parse_options
from adapters.ns3.topology import Topology, from_dimensions
from adapters.ns3.topology_file import load_topology_file
from orchestrator.errors import AstraCosimError, InputError, SimulationError

_built = False


class Ns3Network(NetworkModel):
    def __init__(self, topology: Topology, options: Ns3Options) -> None:
        global _built
        lookahead = topology.min_delay_ns()
        if lookahead < 1:
            raise InputError("the smallest link delay is 0 ns, so the ns3 network has no "
                             "lookahead to synchronise on; give every link a delay of at "
                             "least 1 ns", topology.source)
        if _built:
            raise AstraCosimError("ns-3's simulator is one per process and this process "
                                  "already built an ns3 network; run each ns3 experiment in "
                                  "its own process (e.g. --placement process)")
        started = time.perf_counter()
        self.ns3 = load_ns3()
        self.import_s = time.perf_counter() - started
        _built = True
        self.topology = topology
        self.options = options
        self._lookahead = lookahead
        self.net: BuiltNetwork = build_network(self.ns3.ns, self.ns3.tracker, topology, options)
        self.build_s = time.perf_counter() - started - self.import_s
        self.tracker = self.net.tracker
        self._simulator = self.ns3.ns.Simulator
        self._nanoseconds = self.ns3.ns.NanoSeconds
        self.messages = 0
        self.bytes_sent = 0
        self._undecided = 0
        self.run_s = 0.0        # wall seconds inside Simulator::Run
        self.runs = 0

    # -- the adapter spec -------------------------------------------------------------------
    @property
    def lookahead_ns(self) -> int:
        return self._lookahead

    def inject(self, op: int, src: int, dst: int, size_bytes: int, time_ns: int) -> None:
        hosts = self.topology.hosts
        if not (0 <= src < hosts and 0 <= dst < hosts):
            raise SimulationError(f"message {op}: NPU {src} -> {dst} is outside the ns3 "
                                  f"network's {hosts} NPUs")
        if size_bytes < 1:
            raise SimulationError(f"message {op}: NPU {src} -> {dst} of {size_bytes} bytes; "
                                  "the ns3 network carries messages of at least one byte")
        now = self._now()
        if time_ns < now:
            raise SimulationError(f"message {op} injected at {time_ns} ns, before the ns3 "
                                  f"network's time {now} ns (the engine must not inject "
                                  "before its last grant)")
        self.messages += 1
        self.bytes_sent += size_bytes
        if src == dst:
            raise SimulationError(f"message {op}: NPU {src} sends to itself; the ns3 network "
                                  "carries messages between distinct NPUs")
        self._undecided += 1
        self.tracker.Inject(op, src, dst, size_bytes, time_ns)

    def advance(self, grant_ns: int) -> list[tuple[int, int]]:
        if grant_ns >= NEVER:
            self._run_unbounded()
        else:
            self._run_until(grant_ns)
        return self._collect()

    def next_event_ns(self) -> int:
        if self._undecided == 0:
            return NEVER
        pending = self.tracker.NextEventNs()
        return NEVER if pending < 0 else pending

    # -- running ns-3 -----------------------------------------------------------------------
    def _now(self) -> int:
        return self._simulator.Now().GetNanoSeconds()

    def _run(self) -> None:
        started = time.perf_counter()
        self._simulator.Run()
        self.run_s += time.perf_counter() - started
        self.runs += 1

    def _run_until(self, limit_ns: int) -> None:
        now = self._now()
        if limit_ns <= now or self.tracker.NextEventNs() < 0:
            return
        self._simulator.Stop(self._nanoseconds(limit_ns - now))
        self._run()
        self._check(limit_ns)

    def _run_unbounded(self) -> None:
        """Run until the earliest decided arrival (the engine's next event), stopping at each
        decision to pull the bound in, or until ns-3 has nothing left to do."""
        tracker = self.tracker
        tracker.ResetEarliestDecided()
        tracker.SetStopOnDecision(True)
        try:
            oldest = tracker.OldestOutstandingNs()
            watchdog = oldest + self.options.flow_timeout_ns if oldest >= 0 else NEVER
            bound = NEVER
            stop = None
            while tracker.NextEventNs() >= 0:
                decided = tracker.EarliestDecidedNs()
                limit = min(decided if decided >= 0 else NEVER, watchdog)
                now = self._now()
                if limit <= now:
                    break
                if limit < bound:
                    if stop is not None:
                        self._simulator.Remove(stop)
                    bound = limit
                    stop = self._simulator.Stop(self._nanoseconds(bound - now))
                self._run()
                self._check(bound)
                if self._now() >= bound:
                    break
        finally:
            tracker.SetStopOnDecision(False)
        if self.tracker.NextEventNs() < 0:
            self._idle_check()

    def _check(self, limit_ns: int) -> None:
        errors = list(self.tracker.TakeErrors())
        if errors:
            raise SimulationError("ns3 network: " + "; ".join(str(e) for e in errors))
        oldest = self.tracker.OldestOutstandingNs()
        if oldest >= 0 and self._now() - oldest >= self.options.flow_timeout_ns:
            raise SimulationError(
                f"ns3 network: message(s) undelivered after {self.options.flow_timeout_ns} "
                f"ns of simulated time (flow_timeout_ns): {self._outstanding_text()}")

    def _idle_check(self) -> None:
        if self.tracker.OldestOutstandingNs() >= 0 and self._undecided_left():
            raise SimulationError("ns3 network: ns-3 has no events left but message(s) are "
                                  f"undelivered: {self._outstanding_text()}")

    def _undecided_left(self) -> bool:
        return self._undecided > 0

    def _outstanding_text(self, limit: int = 5) -> str:
        flat = list(self.tracker.Outstanding())
        rows = [flat[i:i + 5] for i in range(0, len(flat), 5)]
        text = ", ".join(f"op {op} NPU {src} -> {dst} ({size} bytes, injected at {at} ns)"
                         for op, src, dst, size, at in rows[:limit])
        more = len(rows) - limit
        return text + (f" and {more} more" if more > 0 else "")

    def _collect(self) -> list[tuple[int, int]]:
        flat = self.tracker.TakeDecided()
        count = len(flat)
        if not count:
            return []
        values = list(flat)
        self._undecided -= count // 2
        return list(zip(values[0::2], values[1::2]))

    # -- counters ---------------------------------------------------------------------------
    def link_stats(self) -> dict[str, dict[str, float]]:
        """Per link direction: bytes carried (headers included), packets, and utilisation
        (busy time over the simulated time so far)."""
        elapsed = max(self._now(), 1)
        tracker = self.tracker
        return {name: {"bytes": int(tracker.LinkBytes(i)), "packets": int(tracker.LinkPackets(i)),
                       "utilisation": tracker.LinkBusyNs(i) / elapsed}
                for i, name in enumerate(self.net.link_names) if tracker.LinkPackets(i)}

    def stats(self) -> dict[str, float]:
        """Flat numbers, as Goodbye carries them: totals, then ``link_bytes:<a>-><b>`` and
        ``link_utilisation:<a>-><b>`` per link direction that carried anything."""
        links = self.link_stats()
        result: dict[str, float] = {
            "messages": self.messages, "bytes": self.bytes_sent,
            "flows": int(self.tracker.Flows()), "connections": int(self.tracker.Connections()),
            "drops": int(self.tracker.Drops()),
            "retransmissions": int(self.tracker.Retransmissions()),
            "links_used": len(links),
            "wire_bytes": sum(int(link["bytes"]) for link in links.values()),
            "max_link_utilisation": max((link["utilisation"] for link in links.values()),
                                        default=0.0),
            "ns3_run_s": round(self.run_s, 6), "ns3_runs": self.runs,
            "ns3_import_s": round(self.import_s, 3), "ns3_build_s": round(self.build_s, 3)}
        for name, link in links.items():
            result[f"link_bytes:{name}"] = link["bytes"]
            result[f"link_utilisation:{name}"] = round(link["utilisation"], 6)
        return result


def _topology(doc: dict[str, Any], options: Ns3Options, source: str) -> Topology:
    if options.topology_file is not None:
        return load_topology_file(options.topology_file)
    network_format = doc.get("format")
    if network_format == "v1":
        return from_dimensions(parse_v1_network(doc.get("network"), source))
    if network_format == "v2":
        return from_dimensions(parse_v2_network(doc.get("network"), source))
    raise InputError(f"ns3 configuration: format: found {network_format!r}; expected v1 or v2",
                     source)


def build_ns3(doc: dict[str, Any], source: str) -> NetworkModel:
    """The registry's builder: ``doc = {"format", "network", "options"}``."""
    if not isinstance(doc, dict):
        raise InputError("ns3 configuration: expected a mapping with format, network, options",
                         source)
    unknown = sorted(set(doc) - {"format", "network", "options"})
    if unknown:
        raise InputError(f"ns3 configuration: unknown key {unknown[0]!r}; expected format, "
                         "network, options", source)
    options = parse_options(doc.get("options"), source)
    topology = _topology(doc, options, source)
    if options.topology_file is not None and doc.get("network") is not None:
        expected = _npus(doc, source)
        if expected is not None and expected != topology.hosts:
            raise InputError(f"the topology file has {topology.hosts} NPUs but the network "
                             f"config has {expected}", options.topology_file)
    return Ns3Network(topology, options)


def _npus(doc: dict[str, Any], source: str) -> int | None:
    parse = parse_v1_network if doc.get("format") == "v1" else parse_v2_network
    return parse(doc["network"], source).npus_count
