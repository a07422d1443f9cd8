"""Sizes as nccl-tests takes them: ``-b 8 -e 8G -f 2`` (or ``-i STEP``), suffixes K, M, G
meaning powers of 1024, and the data types that set an element's width."""

from __future__ import annotations

from orchestrator.errors import InputError
from orchestrator.limits import INT64_MAX

MAX_SIZES = 100_000     # a series longer than this is a typo (-i 1 up to 8G), not a sweep
_SUFFIX = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}

# nccl-tests' -d names and their width in bytes
TYPE_BYTES = {"int8": 1, "uint8": 1, "half": 2, "bfloat16": 2, "float": 4, "int32": 4,
              "uint32": 4, "double": 8, "int64": 8, "uint64": 8}


def parse_size(text: str, flag: str) -> int:
    """``8``, ``64K``, ``8G`` (also ``8GB``, ``8g``) -> bytes; an error names the flag."""
    value = text.strip().upper().removesuffix("B")
    digits = value.rstrip("KMGT")
    suffix = value[len(digits):]
    if not digits.isdigit() or suffix not in _SUFFIX:
        raise InputError(f"{flag}: found {text!r}; expected bytes like 8, 64K, 1M or 8G")
    size = int(digits) * _SUFFIX[suffix]
    if size > INT64_MAX:      # a collective's size is int64 bytes (a traceback in the trace)
        raise InputError(f"{flag}: found {text!r} = {size} bytes; expected at most {INT64_MAX} "
                         "(2^63 - 1, int64)")
    return size


def size_series(first: int, last: int, factor: int | None = None,
                step: int | None = None) -> list[int]:
    """nccl-tests' loop: from ``first`` to ``last`` inclusive, times ``factor`` or plus
    ``step`` (one of the two)."""
    if first <= 0:
        raise InputError(f"-b: found {first}; expected a size of at least 1 byte")
    if last < first:
        raise InputError(f"-e: found {last}; expected a size >= -b ({first})")
    if (factor is None) == (step is None):
        raise InputError("give one of -f FACTOR and -i STEP")
    if factor is not None and factor < 2:
        raise InputError(f"-f: found {factor}; expected an integer factor >= 2")
    if step is not None and step < 1:
        raise InputError(f"-i: found {step}; expected a step of at least 1 byte")
    if step is not None and (last - first) // step >= MAX_SIZES:
        raise InputError(f"-i: {step} bytes from {first} to {last} makes "
                         f"{(last - first) // step + 1} sizes; expected at most {MAX_SIZES}")
    sizes = []
    size = first
    while size <= last:
        sizes.append(size)
        size = size * factor if factor is not None else size + step
    return sizes
