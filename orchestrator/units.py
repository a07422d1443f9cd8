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


_SIZE_UNITS = {"": 1, "B": 1, "K": 1000, "KB": 1000, "M": 1000**2, "MB": 1000**2,
               "G": 1000**3, "GB": 1000**3, "KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30}


def parse_size(text: str) -> int:
    """``1MiB`` -> 1048576, ``64KiB``, ``2GB`` (decimal), ``4096``; ValueError otherwise."""
    stripped = text.strip()
    digits = len(stripped) - len(stripped.lstrip("0123456789"))
    number, unit = stripped[:digits], stripped[digits:].strip().upper()
    if not number or unit not in _SIZE_UNITS:
        raise ValueError(f"{text!r} is not a size like 4096, 64KiB, 1MiB or 2GB")
    return int(number) * _SIZE_UNITS[unit]
