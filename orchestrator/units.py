"""Unit conversions and upstream's numeric truncations, kept in one place.

Inside the engine every time is an ``int`` of nanoseconds (1 cycle = 1 ns) and every size an
``int`` of bytes. Floats appear only here and at the output edge, reproducing exactly where
ASTRA-sim rounds:

* bandwidths are given in GB/s and converted as ``GB/s * 2**30 / 1e9`` bytes per ns
  (SEMANTICS §0, §5.2, §5.3);
* ASTRA-sim 1.0 scales compute times and communication sizes in 32-bit float and truncates
  (SEMANTICS §3.1): a compute time of 41 838 182 cycles becomes 41 838 184 even at scale 1.
"""

from __future__ import annotations

import struct

_F32 = struct.Struct("<f")


def to_float32(value: float) -> float:
    """Round a Python float (double) to the nearest IEEE-754 single, as C++ ``float`` does."""
    return _F32.unpack(_F32.pack(value))[0]


def scale_float32(value: int, scale: float) -> int:
    """``(uint64)(value * (float)scale)`` computed as 1.0 does it: both operands rounded to
    float32, the product rounded to float32 (exact in double first, so one rounding), then
    truncated towards zero.
    """
    product = to_float32(to_float32(float(value)) * to_float32(scale))
    return int(product)


def gb_per_s_to_bytes_per_ns(bandwidth_gb_per_s: float) -> float:
    """ASTRA-sim's bandwidth unit: 1 GB/s = 2**30 bytes per 1e9 ns."""
    return bandwidth_gb_per_s * (1 << 30) / 1e9


def ns_to_us_text(time_ns: int) -> str:
    """A time in µs with three decimals, as upstream's CSV files print it."""
    return f"{time_ns / 1000:.3f}"
