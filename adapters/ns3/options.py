"""The ns-3 adapter's options (the experiment YAML's ``network.options``), declared once with
their defaults and the reason for each.

Transport is TCP by default; ``transport: roce`` gives RDMA over a lossless fabric with PFC
and DCQCN (docs/roce.md), configured by the ``roce_``, ``pfc``, ``buffer_``, ``ecn_``, ``cnp_``
and ``dcqcn_`` options (TCP's are then unused). TCP uses one long-lived connection per ordered
NPU pair, as collective libraries keep theirs, so a connection's handshake and slow start are
paid once. The defaults are chosen for
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

TRANSPORTS = ("tcp", "roce")
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
    # transport: roce (docs/roce.md); defaults from RoCEv2 NICs and the DCQCN paper
    roce_mtu_bytes: int = 4096           # payload per packet (RoCE's path MTU)
    roce_ack_interval: int = 16          # an ACK per this many packets (and the last)
    roce_rto_ns: int = 1_000_000         # go-back-N timeout; PFC makes losses impossible
    roce_nack_interval_ns: int = 20_000  # a gap still open this long after its NACK: again
    pfc: bool = True                     # IEEE 802.1Qbb lossless class for data and control
    buffer_bytes_per_port: int = 1 << 20  # a node's shared buffer is this times its ports
    pfc_dynamic_alpha: float = 0.0       # > 0: XOFF = alpha x free shared buffer; 0: static
    dcqcn: bool = True
    ecn_kmin_bytes: int = 5 * 1024       # DCQCN paper: Kmin 5 KB, Kmax 200 KB, Pmax 1%
    ecn_kmax_bytes: int = 200 * 1024
    ecn_pmax: float = 0.01
    dcqcn_g: float = 1 / 256             # alpha's gain
    cnp_interval_ns: int = 50_000        # at most one CNP per flow per 50 us
    dcqcn_alpha_timer_ns: int = 55_000
    dcqcn_rate_timer_ns: int = 55_000
    dcqcn_byte_counter_bytes: int = 10_000_000
    dcqcn_fast_recovery_steps: int = 5
    dcqcn_rai_mbps: float = 0.0          # 0: the paper's 40 Mb/s per 40 Gb/s of line rate
    dcqcn_rhai_mbps: float = 0.0         # 0: ten times the additive step
    dcqcn_min_rate_mbps: float = 100.0

    @property
    def segment_size(self) -> int:
        return self.segment_bytes or self.mtu_bytes - 80


_INTEGER_BOUNDS = {"mtu_bytes": (576, 65535), "segment_bytes": (0, 65535),
                   "tcp_buffer_bytes": (1 << 16, 1 << 31), "switch_queue_packets": (1, 1 << 31),
                   "host_queue_packets": (1, 1 << 31), "min_rto_ns": (1, 10**12),
                   "initial_cwnd_segments": (1, 1 << 16),
                   "flow_timeout_ns": (1, 1 << 62), "roce_mtu_bytes": (256, 4096),
                   "roce_ack_interval": (1, 1 << 16), "roce_rto_ns": (1000, 10**12),
                   "roce_nack_interval_ns": (1, 10**12),
                   "buffer_bytes_per_port": (1 << 12, 1 << 34),
                   "ecn_kmin_bytes": (0, 1 << 34), "ecn_kmax_bytes": (1, 1 << 34),
                   "cnp_interval_ns": (0, 10**12), "dcqcn_alpha_timer_ns": (1000, 10**12),
                   "dcqcn_rate_timer_ns": (1000, 10**12),
                   "dcqcn_byte_counter_bytes": (1 << 10, 1 << 40),
                   "dcqcn_fast_recovery_steps": (0, 1000)}
_FLOAT_BOUNDS = {"pfc_dynamic_alpha": (0.0, 64.0), "ecn_pmax": (0.0, 1.0), "dcqcn_g": (0.0, 1.0),
                 "dcqcn_rai_mbps": (0.0, 1e7), "dcqcn_rhai_mbps": (0.0, 1e7),
                 "dcqcn_min_rate_mbps": (0.001, 1e7)}
_BOOLEANS = ("pfc", "dcqcn")
_TCP_ONLY = ("tcp_variant", "mtu_bytes", "segment_bytes", "tcp_buffer_bytes",
             "switch_queue_packets", "host_queue_packets", "min_rto_ns", "initial_cwnd_segments")
# an option of the other transport would be silently unused: an error instead
_TRANSPORT_OF = {**{key: "tcp" for key in _TCP_ONLY},
                 **{field.name: "roce" for field in fields(Ns3Options)
                    if field.name.startswith(("roce_", "ecn_", "cnp_", "dcqcn"))
                    or field.name.startswith("pfc") or field.name == "buffer_bytes_per_port"}}


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
        elif key in _FLOAT_BOUNDS:
            low, high = _FLOAT_BOUNDS[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                    not low <= value <= high:
                raise InputError(f"network.options.{key}: found {value!r}; expected a number "
                                 f"from {low:g} to {high:g}", source)
            value = float(value)
        elif key in _BOOLEANS:
            if not isinstance(value, bool):
                raise InputError(f"network.options.{key}: found {value!r}; expected true or "
                                 "false", source)
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
    for key in values:
        owner = _TRANSPORT_OF.get(key)
        if owner is not None and owner != values.get("transport", "tcp"):
            raise InputError(f"network.options.{key} applies to transport {owner}, not "
                             f"{values.get('transport', 'tcp')}", source)
    options = Ns3Options(**values)
    if options.segment_size > options.mtu_bytes - 80:
        raise InputError(f"network.options.segment_bytes: {options.segment_size} does not fit "
                         f"an MTU of {options.mtu_bytes} with IP and TCP headers (at most "
                         f"{options.mtu_bytes - 80})", source)
    if options.ecn_kmin_bytes >= options.ecn_kmax_bytes:
        raise InputError(f"network.options.ecn_kmin_bytes: {options.ecn_kmin_bytes} is not "
                         f"below ecn_kmax_bytes ({options.ecn_kmax_bytes})", source)
    if options.segment_size < 64:
        raise InputError(f"network.options.segment_bytes: found {options.segment_size}; "
                         "expected at least 64", source)
    return options
