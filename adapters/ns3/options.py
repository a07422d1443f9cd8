"""The ns-3 adapter's options (the experiment YAML's ``network.options``), declared once with
their defaults and the reason for each.

Transport is TCP: one long-lived connection per ordered NPU pair, as collective libraries keep
theirs, so a connection's handshake and slow start are paid once. The defaults are chosen for
the analytical configs' links (tens of GB/s, hundreds of ns):

* jumbo frames keep header bytes (0.9%) and packet events low;
* 2 MiB buffers, ten times a bandwidth-delay product (50 GB/s x 4 us = 200 KB), never limit a
  window, yet keep windows from filling the NIC queues: with 16 MiB, a 16 MiB halving-doubling
  all-gather on an 8-NPU Switch queued so much in the NICs that round trips outgrew the
  retransmission timer, and 37 640 spurious retransmissions (no drop) made it 3.04 ms and
  444 s of wall time, against 2.28 ms and under 30 s;
* one ACK per segment and a 200 us minimum RTO suit microsecond RTTs (ns-3's defaults, a 1 s
  minimum RTO and 200 ms delayed ACKs, are tuned for the Internet and would turn one tail loss
  into a second of idle link).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from orchestrator.errors import InputError, expected_one_of

TRANSPORTS = ("tcp",)
TCP_VARIANTS = ("NewReno", "Cubic", "LinuxReno", "Bic", "HighSpeed", "Vegas")


@dataclass(frozen=True, slots=True)
class Ns3Options:
    topology_file: str | None = None     # an ASTRA-sim ns-3 topology file instead of dimensions
    transport: str = "tcp"
    tcp_variant: str = "NewReno"
    mtu_bytes: int = 9000                # link MTU (IP packet size)
    segment_bytes: int = 0               # TCP payload per segment; 0 = mtu - 80 (IP, TCP, options)
    tcp_buffer_bytes: int = 2 << 20      # send and receive buffer per connection
    switch_queue_packets: int = 1000     # drop-tail queue per switch port
    host_queue_packets: int = 100000     # per NPU port: a NIC does not drop its own traffic
    min_rto_ns: int = 200_000
    initial_cwnd_segments: int = 10      # RFC 6928's initial window; larger skips slow start
    flow_timeout_ns: int = 1_000_000_000  # simulated ns a message may stay undelivered

    @property
    def segment_size(self) -> int:
        return self.segment_bytes or self.mtu_bytes - 80


_INTEGER_BOUNDS = {"mtu_bytes": (576, 65535), "segment_bytes": (0, 65535),
                   "tcp_buffer_bytes": (1 << 16, 1 << 31), "switch_queue_packets": (1, 1 << 31),
                   "host_queue_packets": (1, 1 << 31), "min_rto_ns": (1, 10**12),
                   "initial_cwnd_segments": (1, 1 << 16),
                   "flow_timeout_ns": (1, 1 << 62)}


def parse_options(raw: Any, source: str) -> Ns3Options:
    """Validate ``network.options``; unknown keys and bad values are errors naming the key."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InputError(f"network.options: found {raw!r}; expected a mapping", source)
    names = [field.name for field in fields(Ns3Options)]
    for key in raw:
        if key not in names:
            raise InputError("network.options: unknown key: " + expected_one_of(key, names),
                             source)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _INTEGER_BOUNDS:
            low, high = _INTEGER_BOUNDS[key]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise InputError(f"network.options.{key}: found {value!r}; expected a whole "
                                 f"number from {low} to {high}", source)
        elif key == "topology_file":
            if not isinstance(value, str) or not value:
                raise InputError(f"network.options.topology_file: found {value!r}; expected a "
                                 "file path", source)
        elif key == "transport" and value not in TRANSPORTS:
            raise InputError("network.options.transport: " + expected_one_of(value, TRANSPORTS),
                             source)
        elif key == "tcp_variant" and value not in TCP_VARIANTS:
            raise InputError("network.options.tcp_variant: " +
                             expected_one_of(value, TCP_VARIANTS), source)
        values[key] = value
    options = Ns3Options(**values)
    if options.segment_size > options.mtu_bytes - 80:
        raise InputError(f"network.options.segment_bytes: {options.segment_size} does not fit "
                         f"an MTU of {options.mtu_bytes} with IP and TCP headers (at most "
                         f"{options.mtu_bytes - 80})", source)
    if options.segment_size < 64:
        raise InputError(f"network.options.segment_bytes: found {options.segment_size}; "
                         "expected at least 64", source)
    return options
