"""The numeric range every input and result must stay inside, checked where inputs are read.

Upstream keeps times and sizes in 64-bit integers; astra-cosim's engine reserves ``NEVER``
(2^62 ns, about 146 years) as "no event". A size above int64, a time at or beyond ``NEVER`` or a
number that is not finite (JSON ``NaN``/``Infinity``, YAML ``.nan``/``.inf``) cannot give a
meaningful result, so it is refused when it is read - with the file, line and field - instead
of wrapping, hanging the synchronisation or turning into a traceback minutes later.
"""

from __future__ import annotations

import math
import re

from adapters.base import NEVER
from orchestrator.errors import InputError

INT64_MAX = (1 << 63) - 1
TIME_LIMIT_NS = NEVER          # the engine's "no event": every simulated time stays below it


def is_number(value: object) -> bool:
    """A finite int or float (bool is not a number here)."""
    return (isinstance(value, int) and not isinstance(value, bool)) or \
        (isinstance(value, float) and math.isfinite(value))


def check_bytes(value: int, what: str, path: str | None, line: int | None = None) -> int:
    """A size in bytes that fits int64 and is at least one byte."""
    if value < 1:
        raise InputError(f"{what}: found {value} bytes; expected a size >= 1 byte", path, line)
    if value > INT64_MAX:
        raise InputError(f"{what}: found {value} bytes; expected at most {INT64_MAX} "
                         "(2^63 - 1, int64)", path, line)
    return value


def check_time(value: int, what: str, path: str | None, line: int | None = None) -> int:
    """A duration in ns (cycles) the simulated clock can hold."""
    if value >= TIME_LIMIT_NS:
        raise InputError(f"{what}: found {value} ns; expected less than {TIME_LIMIT_NS} "
                         "(2^62 ns, the longest time a run can reach)", path, line)
    return value


def non_finite(value: object, where: str = "") -> tuple[str, float] | None:
    """The first NaN or infinity inside ``value`` (lists and mappings searched), as its
    position (``[2].bandwidth``) and the number; None when every number is finite."""
    if isinstance(value, float) and not math.isfinite(value):
        return where, value
    items = value.items() if isinstance(value, dict) else \
        enumerate(value) if isinstance(value, (list, tuple)) else ()
    for key, item in items:
        found = non_finite(item, f"{where}[{key}]" if isinstance(key, int) else f"{where}.{key}")
        if found is not None:
            return found
    return None


MAX_COUNT = (1 << 31) - 1     # upstream holds counts (NPUs, passes, queues) in an int
MAX_NPUS = MAX_COUNT


def check_npus(count: int, key: str, path: str | None) -> int:
    """The network's NPU count (the product over dimensions) fits upstream's int."""
    if count > MAX_NPUS:
        raise InputError(f"{key}: {count} NPUs in total; expected at most {MAX_NPUS} (2^31 - 1)",
                         path)
    return count


def time_overflow_message(now_ns: int) -> str:
    return (f"the simulated time passed {TIME_LIMIT_NS} ns (2^62 ns, about 146 years) at "
            f"{now_ns} ns: the inputs' sizes or compute times are too large to give a result")


_WHOLE = re.compile(r"[+-]?[0-9]+")


def whole_number(token: str) -> int:
    """``int(token)`` for ASCII digits with an optional sign, else ``ValueError``: Python's
    ``int`` also reads ``1_000``, ``' 7'`` and digits of other scripts (``١٠``), which the C++
    readers of these files do not - they stop at the ``_`` and misread the rest of the line."""
    if not _WHOLE.fullmatch(token):
        raise ValueError(f"not a whole number: {token!r}")
    return int(token)
