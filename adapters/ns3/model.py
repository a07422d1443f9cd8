"""The ns-3 packet-level network behind the adapter spec (adapters/base.py).

Each message is a flow of bytes over the TCP connection from its source NPU to its
destination NPU in a real ns-3 3.44 simulation (``build.py``); ``flow_tracker.cpp`` decides its
arrival when its last byte starts down the last link, which is at least one link delay before
it reaches the receiver, and checks the decision against the receiver's socket.

Driving ns-3 incrementally:

* ``inject`` schedules the flow's start at its injection time (never in ns-3's past: ns-3
  never runs past a grant, nor past an arrival it has reported);
* ``advance(grant)`` runs ns-3 up to ``grant`` with ``Simulator::Stop`` (``Run`` resumes
  where it stopped), but stops at the earliest arrival it decides on the way: the engine acts
  on an arrival at its time and may inject then, which can be before the grant (a decision at
  d >= the last next-event time lands at >= d + lookahead, not necessarily >= the grant), and
  ns-3 cannot schedule into its past;
* ``next_event_ns`` is the time of ns-3's next event while some message is undecided (an
  arrival can only be decided by an event, at least a link delay before it happens, which is
  the lookahead), ``NEVER`` when every message is decided.

ns-3's simulator is a process-wide singleton, so one model is live per process: building a
second retires the first (ns-3 is reset with ``Simulator::Destroy``), and any later call on the
retired model is an error saying so. Runs one after another in one process (tests, a sweep
worker) thus pay the import once. A message still undelivered after ``flow_timeout_ns`` of
simulated time, or when ns-3 runs out of events, is an error naming it; so is a TCP
connection that gives up.
"""

from __future__ import annotations

import time
from typing import Any

from adapters.analytical.config_v1 import parse_v1_network
from adapters.analytical.config_v2 import parse_v2_network
from adapters.base import NEVER, NetworkModel, undelivered_text
from adapters.ns3.build import BuiltNetwork, build_network
from adapters.ns3.loader import load_ns3, load_roce
from adapters.ns3.options import Ns3Options, parse_options
from adapters.ns3.roce_build import build_roce_network
from adapters.ns3.topology import Topology, from_dimensions
from adapters.ns3.topology_file import load_topology_file
from orchestrator.errors import AstraCosimError, InputError, SimulationError

_live: "Ns3Network | None" = None


def preload() -> None:
    """Import ns-3 and compile the tracker now (an adapter server, before its handshake)."""
    load_ns3()


class Ns3Network(NetworkModel):
    def __init__(self, topology: Topology, options: Ns3Options) -> None:
        global _live
        lookahead = topology.min_delay_ns()
        if lookahead < 1:
            raise InputError("the smallest link delay is 0 ns, so the ns3 network has no "
                             "lookahead to synchronise on; give every link a delay of at "
                             "least 1 ns", topology.source)
        started = time.perf_counter()
        self.roce = options.transport == "roce"
        self.ns3 = load_roce() if self.roce else load_ns3()
        self.import_s = time.perf_counter() - started
        if _live is not None:
            _live.retire()
        _live = self
        self.retired = False
        self.topology = topology
        self.options = options
        self._lookahead = lookahead
        if self.roce:
            self.net: BuiltNetwork = build_roce_network(self.ns3.ns, self.ns3.roce, topology,
                                                        options)
        else:
            self.net = build_network(self.ns3.ns, self.ns3.tracker, topology, options)
        self.build_s = time.perf_counter() - started - self.import_s
        self.tracker = self.net.tracker
        self._simulator = self.ns3.ns.Simulator
        self._nanoseconds = self.ns3.ns.NanoSeconds
        self.messages = 0
        self.bytes_sent = 0
        # undecided messages, oldest first (injections come in time order): op -> (src, dst,
        # bytes, injected at)
        self._pending: dict[int, tuple[int, int, int, int]] = {}
        self._decided: list[tuple[int, int]] = []
        self.run_s = 0.0        # wall seconds inside Simulator::Run
        self.calls_s = 0.0      # wall seconds in advance() (Run included)
        self.runs = 0

    def retire(self) -> None:
        """Reset ns-3 for a new model in this process; this one can no longer be used."""
        ns = self.ns3.ns
        self.retired = True
        self.net = None
        self.tracker = None
        ns.Simulator.Destroy()
        ns.Ipv4AddressGenerator.Reset()

    def _check_live(self) -> None:
        if self.retired:
            raise AstraCosimError("this ns3 network was retired: ns-3's simulator is one per "
                                  "process and a newer ns3 network was built in this process")

    # -- the adapter spec -------------------------------------------------------------------
    @property
    def lookahead_ns(self) -> int:
        return self._lookahead

    def inject(self, op: int, src: int, dst: int, size_bytes: int, time_ns: int) -> None:
        self._check_live()
        hosts = self.topology.hosts
        if not (0 <= src < hosts and 0 <= dst < hosts):
            raise SimulationError(f"message {op}: NPU {src} -> {dst} is outside the ns3 "
                                  f"network's {hosts} NPUs")
        if size_bytes < 0:
            raise SimulationError(f"message {op}: NPU {src} -> {dst} of {size_bytes} bytes")
        now = self._now()
        if time_ns < now:
            raise SimulationError(f"message {op} injected at {time_ns} ns, before the ns3 "
                                  f"network's time {now} ns (the engine must not inject "
                                  "before its last grant)")
        if src == dst:
            raise SimulationError(f"message {op}: NPU {src} sends to itself; the ns3 network "
                                  "carries messages between distinct NPUs")
        self.messages += 1
        self.bytes_sent += size_bytes
        self._pending[op] = (src, dst, size_bytes, time_ns)
        # an empty message (1.0 sends them for tiny chunks) still needs a packet to say it
        # arrived: it travels as one byte
        self.tracker.Inject(op, src, dst, max(size_bytes, 1), time_ns)

    def advance(self, grant_ns: int) -> list[tuple[int, int]]:
        self._check_live()
        started = time.perf_counter()
        try:
            self._run_to(grant_ns)
            return self._collect()
        finally:
            self.calls_s += time.perf_counter() - started

    def next_event_ns(self) -> int:
        self._check_live()
        if not self._pending:
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

    def _run_to(self, grant_ns: int) -> None:
        """Run ns-3 over the events before ``grant_ns``, but no further than the earliest
        arrival decided on the way: the engine may act on that arrival, and inject, at its
        time, which may be before the grant. Each decision stops ``Run`` so that the stop
        can be pulled in; the watchdog bounds an unbounded grant."""
        tracker = self.tracker
        if not self._pending:
            if grant_ns < NEVER and grant_ns > self._now() and tracker.NextEventNs() >= 0:
                self._simulator.Stop(self._nanoseconds(grant_ns - self._now()))
                self._run()
                self._check()
            return      # nothing to decide; with no grant, ns-3's idle timers wait
        tracker.ResetEarliestDecided()
        tracker.SetStopOnDecision(True)
        try:
            watchdog = self._oldest_pending_ns() + self.options.flow_timeout_ns
            bound = NEVER
            stop = None
            while tracker.NextEventNs() >= 0:
                decided = tracker.EarliestDecidedNs()
                limit = min(decided if decided >= 0 else NEVER, watchdog, grant_ns)
                now = self._now()
                if limit <= now:
                    break
                if limit < bound:
                    if stop is not None:
                        self._simulator.Remove(stop)
                    bound = limit
                    stop = self._simulator.Stop(self._nanoseconds(bound - now))
                self._run()
                self._check()
                if self._now() >= bound:
                    break
        finally:
            tracker.SetStopOnDecision(False)
        if tracker.NextEventNs() < 0:
            self._idle_check()

    def _oldest_pending_ns(self) -> int:
        return next(iter(self._pending.values()))[3] if self._pending else NEVER

    def _check(self) -> None:
        """Raise on anything the tracker saw go wrong, or on a message older than the
        watchdog allows; either way naming the undelivered messages."""
        errors = [str(error) for error in self.tracker.TakeErrors()]
        self._collect_into_pending()
        if not errors and self._now() - self._oldest_pending_ns() >= self.options.flow_timeout_ns:
            errors.append(f"message(s) undelivered after {self.options.flow_timeout_ns} ns of "
                          "simulated time (flow_timeout_ns)")
        if errors:
            raise SimulationError(f"ns3 network at {self._now()} ns: {'; '.join(errors)}; "
                                  f"undelivered: {undelivered_text(self._pending)}")

    def _idle_check(self) -> None:
        self._collect_into_pending()
        if self._pending:
            raise SimulationError(f"ns3 network: ns-3 has no events left at {self._now()} ns "
                                  "but message(s) are undelivered: "
                                  f"{undelivered_text(self._pending)}")

    def _collect_into_pending(self) -> None:
        """Move newly decided arrivals out of the tracker (they stay queued for advance)."""
        flat = list(self.tracker.TakeDecided())
        for index in range(0, len(flat), 2):
            op, time_ns = flat[index], flat[index + 1]
            self._pending.pop(op, None)
            self._decided.append((op, time_ns))

    def _collect(self) -> list[tuple[int, int]]:
        self._collect_into_pending()
        decided, self._decided = self._decided, []
        return decided

    # -- counters ---------------------------------------------------------------------------
    def link_stats(self) -> dict[str, dict[str, float]]:
        """Per link direction: bytes carried (headers included), packets, and utilisation
        (busy time over the simulated time so far); with RoCE also PFC pauses the link's
        sender sent back over it (its ingress filled) and received (its egress was paused),
        the time its egress was paused, ECN marks and drops at its egress, and the egress
        queue's maximum and time-averaged depth in bytes."""
        self._check_live()
        elapsed = max(self._now(), 1)
        tracker = self.tracker
        links = {}
        for i, name in enumerate(self.net.link_names):
            if not tracker.LinkPackets(i):
                continue
            link = {"bytes": int(tracker.LinkBytes(i)), "packets": int(tracker.LinkPackets(i)),
                    "utilisation": tracker.LinkBusyNs(i) / elapsed}
            if self.roce:
                link.update({
                    "pauses_sent": int(tracker.LinkPausesSent(i)),
                    "pauses_received": int(tracker.LinkPausesReceived(i)),
                    "paused_ns": int(tracker.LinkPausedNs(i)),
                    "ecn_marks": int(tracker.LinkEcnMarks(i)),
                    "drops": int(tracker.LinkDrops(i)),
                    "max_queue_bytes": int(tracker.LinkMaxQueueBytes(i)),
                    "mean_queue_bytes": round(tracker.LinkQueueByteNs(i) / elapsed, 1)})
            links[name] = link
        return links

    def stats(self) -> dict[str, float]:
        """Flat numbers, as Goodbye carries them: totals, then ``link_bytes/<a>-><b>`` and
        ``link_utilisation/<a>-><b>`` per link direction that carried anything."""
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
            "advance_s": round(self.calls_s, 6),
            "ns3_import_s": round(self.import_s, 3), "ns3_build_s": round(self.build_s, 3)}
        if self.roce:
            tracker = self.tracker
            result.update({
                "transport_roce": 1, "queue_pairs": int(tracker.Connections()),
                "timeouts": int(tracker.Timeouts()), "nacks": int(tracker.Nacks()),
                "cnps": int(tracker.Cnps()), "rate_cuts": int(tracker.RateCuts()),
                **{key: sum(link[key] for link in links.values())
                   for key in ("pauses_sent", "ecn_marks")},
                "max_queue_bytes": max((link["max_queue_bytes"] for link in links.values()),
                                       default=0)})
        for name, link in links.items():
            for key, value in link.items():
                if key == "packets":
                    continue
                result[f"link_{key}/{name}"] = round(value, 6) if key == "utilisation" \
                    else value
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
    unknown = sorted(set(doc) - {"format", "network", "options"}, key=str)
    if unknown:
        raise InputError(f"ns3 configuration: unknown key {unknown[0]!r}; expected format, "
                         "network, options", source)
    options = parse_options(doc.get("options"), source)
    topology = _topology(doc, options, source)
    if options.topology_file is not None and doc.get("network") is not None:
        expected = _npus(doc, source)
        if expected != topology.hosts:
            raise InputError(f"the topology file has {topology.hosts} NPUs but the network "
                             f"config has {expected}", options.topology_file)
    return Ns3Network(topology, options)


def _npus(doc: dict[str, Any], source: str) -> int:
    parse = parse_v1_network if doc.get("format") == "v1" else parse_v2_network
    return parse(doc["network"], source).npus_count
