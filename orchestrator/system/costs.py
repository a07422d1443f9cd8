"""Per-message costs charged inside the system layer (SEMANTICS §4.3).

* Every packet bundle crosses the NPU's memory bus once: ``endpoint-delay`` cycles, scaled by
  ``--injection-scale`` and truncated to an int as 1.0 does (an unset delay is 10, unscaled).
* A bundle that reduces data costs three memory accesses (one write, two reads), each
  truncated: ``floor(bytes / B)`` cycles with B = 500 000 bytes per cycle in 1.0 (its
  analytical main builds the memory model so; invisible for small messages, 201 ns per step
  for the 1 GiB tutorial all-reduces) and B = ``local-mem-bw`` in 2.x (GB/s with 1 GB = 1e9
  bytes, so bytes / (GB/s) is ns).
"""

from __future__ import annotations

from orchestrator.errors import InputError
from orchestrator.limits import check_time
from orchestrator.system.config import SystemConfig
from orchestrator.units import scale_float32

V1_MEMORY_BYTES_PER_CYCLE = 500_000


DEFAULT_ENDPOINT_DELAY = 10


def endpoint_delay_cycles(endpoint_delay: int | None, injection_scale: float) -> int:
    """1.0 scales the delay only when the system file sets it; its default stays 10. The
    product is an int times a float, so single precision: 15 x 4.2 is 62.999996 -> 62."""
    if endpoint_delay is None:
        return DEFAULT_ENDPOINT_DELAY
    return scale_float32(endpoint_delay, injection_scale)


def check_endpoint_delay(system: SystemConfig, injection_scale: float) -> int:
    """The scaled delay, refused (naming the system file) when it leaves the float32 range
    the product is taken in or the simulated clock."""
    what = f"endpoint-delay ({system.endpoint_delay} x injection-scale {injection_scale:g})"
    line = system.line_of("endpoint-delay")
    try:
        delay = endpoint_delay_cycles(system.endpoint_delay, injection_scale)
    except OverflowError:
        raise InputError(f"{what}: beyond the 32-bit float ASTRA-sim scales it in", system.path,
                         line) from None
    return check_time(delay, what, system.path, line)


class ReductionCost:
    """Cycles a reducing bundle of ``size_bytes`` costs: 3 * floor(size / bytes_per_cycle)."""

    __slots__ = ("bytes_per_cycle",)

    def __init__(self, bytes_per_cycle: float) -> None:
        if bytes_per_cycle <= 0:
            raise ValueError("memory bandwidth must be > 0")
        self.bytes_per_cycle = bytes_per_cycle

    def __call__(self, size_bytes: int) -> int:
        return 3 * int(size_bytes / self.bytes_per_cycle)


V1_REDUCTION = ReductionCost(V1_MEMORY_BYTES_PER_CYCLE)
