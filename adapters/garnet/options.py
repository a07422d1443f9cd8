"""The Garnet adapter's options (the experiment YAML's ``network.options``), declared once with
their defaults and the reason for each.

Bandwidth becomes link width x clock: every link carries one flit of ``flit_bytes`` per cycle,
so links of B GB/s (2**30 bytes per second, as the analytical backend) run at a clock of
B / flit_bytes; the period is rounded to a whole picosecond (gem5's tick), an error under 0.1%
for the configs' tens of GB/s. ``clock_ghz`` fixes the clock instead, and the width becomes
the nearest whole number of bytes per cycle. Latencies become whole cycles (at least one).
One clock and one width serve the whole network (Garnet would need clock-domain crossings and
serialisers between links of different widths), so every dimension must have the same
bandwidth.

* ``flit_bytes`` 64: a wide on-package link; wider flits mean fewer events per byte.
* ``packet_bytes`` 4096: payload of one packet; a packet also carries one head flit (its
  header), so a full packet is 1 + 4096/64 = 65 flits and headers cost 1.5% of the bandwidth.
  Bytes left over after the full packets travel as single-flit packets of ``flit_bytes``.
* ``vcs_per_vnet`` 0 and ``buffers_per_vc`` 0 = sized to the links. Credit-based flow control
  stops a sender until credits return, and Garnet hands a virtual channel to one packet at a
  time: measured on this build, a link whose credit round trip is R cycles carries packets of
  P flits at P / (P + R / V) of its rate with V VCs (4 VCs on the tutorial's 500 ns, 50 GB/s
  links: 4.2 cycles a flit instead of 1). So the default gives each VC a round trip of
  buffers and enough VCs that R / V is at most 5% of a packet (``VC_SHARE``); on short links
  that is Garnet's own 4. Many VCs make gem5 slower per cycle; a larger ``packet_bytes``
  needs fewer.
* ``router_latency_cycles`` 1: Garnet's single-cycle router pipeline.
* ``injection_latency_ns`` 1: the time a message takes from the NPU into its network interface.
  It is the adapter's lookahead: Garnet knows an arrival only when the last flit is ejected, so
  the adapter runs gem5 this far ahead of the engine, which it may because no injection can
  reach gem5 sooner (docs/garnet.md).
* ``message_timeout_ns``: simulated time a message may stay undelivered (a deadlock guard).
* ``topology_file``: an ASTRA-sim ns-3 topology file (Clos, fat trees; read as the ns-3 adapter
  reads it) instead of the network config's dimensions; its links must share one rate.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from orchestrator.errors import InputError


@dataclass(frozen=True, slots=True)
class GarnetOptions:
    flit_bytes: int = 64
    clock_ghz: float | None = None       # None: from the links' bandwidth and flit_bytes
    packet_bytes: int = 4096
    vcs_per_vnet: int = 0                # 0: enough that credits never throttle a link
    buffers_per_vc: int = 0              # 0: enough for the longest link's round trip
    router_latency_cycles: int = 1
    injection_latency_ns: int = 1
    message_timeout_ns: int = 1_000_000_000
    gem5: str | None = None              # gem5.opt to run; else $ASTRA_GEM5 or the default
    topology_file: str | None = None     # an ASTRA-sim ns-3 topology file instead of dimensions


_INTEGER_BOUNDS = {"flit_bytes": (1, 1 << 16), "packet_bytes": (1, 1 << 20),
                   "vcs_per_vnet": (0, 1024), "buffers_per_vc": (0, 1 << 20),
                   "router_latency_cycles": (1, 1000), "injection_latency_ns": (1, 10**9),
                   "message_timeout_ns": (1, 10**13)}


def parse_options(raw: Any, source: str) -> GarnetOptions:
    """Validate ``network.options``; unknown keys and bad values are errors naming the key."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InputError(f"network.options: found {raw!r}; expected a mapping", source)
    names = [field.name for field in fields(GarnetOptions)]
    for key, value in raw.items():
        if key not in names:
            raise InputError(f"network.options: unknown key {key!r} for the garnet backend; "
                             f"expected one of {', '.join(names)}", source)
        if key in _INTEGER_BOUNDS:
            low, high = _INTEGER_BOUNDS[key]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise InputError(f"network.options.{key}: found {value!r}; expected a whole "
                                 f"number from {low} to {high}", source)
        elif key == "clock_ghz":
            if value is not None and (isinstance(value, bool) or
                                      not isinstance(value, (int, float)) or
                                      not 0.001 <= value <= 1000):
                raise InputError(f"network.options.clock_ghz: found {value!r}; expected a "
                                 "clock from 0.001 to 1000 GHz", source)
        elif key == "gem5" and (not isinstance(value, str) or not value):
            raise InputError(f"network.options.gem5: found {value!r}; expected the path of a "
                             "gem5.opt built with the adapter's extras", source)
        elif key == "topology_file" and (not isinstance(value, str) or not value):
            raise InputError(f"network.options.topology_file: found {value!r}; expected a "
                             "file path", source)
    return GarnetOptions(**raw)
