"""Per-message costs charged inside the system layer (SEMANTICS §4.3).

* Every packet bundle crosses the NPU's memory bus once: ``endpoint-delay`` cycles, scaled by
  ``--injection-scale`` and truncated to an int as 1.0 does (an unset delay is 10, unscaled).
* A bundle that reduces data costs three memory accesses of ``floor(bytes / 500000)`` cycles
  each: 1.0's analytical main builds its memory model with 500 000 bytes per cycle. Invisible
  for small messages, 201 ns per step for the 1 GiB tutorial all-reduces.
"""

from __future__ import annotations

V1_MEMORY_BYTES_PER_CYCLE = 500_000


DEFAULT_ENDPOINT_DELAY = 10


def endpoint_delay_cycles(endpoint_delay: int | None, injection_scale: float) -> int:
    """1.0 scales the delay only when the system file sets it; its default stays 10."""
    if endpoint_delay is None:
        return DEFAULT_ENDPOINT_DELAY
    return int(endpoint_delay * injection_scale)


def reduction_cycles_v1(size_bytes: int) -> int:
    return 3 * (size_bytes // V1_MEMORY_BYTES_PER_CYCLE)
