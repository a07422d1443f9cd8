"""The ASTRA-sim 1.0 system file: ``key: value`` lines (SEMANTICS §4.1).

Every key 1.0 accepts is declared once below with its default and what we do with it. Keys we
parse but whose effect we do not model give a warning naming them (upstream would use them);
an unknown key is an error naming the file, the line and the valid keys (1.0 exits too).
"""

from __future__ import annotations

import warnings
from typing import Any

from orchestrator.errors import InputError, expected_one_of, not_text
from orchestrator.limits import INT64_MAX, whole_number
from orchestrator.system.config import SystemConfig
from orchestrator.system.scheduling.policies import (
    INTER_ALIASES, INTER_POLICIES, INTRA_ALIASES, INTRA_POLICIES, resolve)

ALGORITHMS = ("ring", "direct", "halvingDoubling", "doubleBinaryTree", "oneRing", "oneDirect",
              "oneHalvingDoubling")
COLLECTIVE_KEYS = {
    "all-reduce-implementation": "all_reduce",
    "all-gather-implementation": "all_gather",
    "reduce-scatter-implementation": "reduce_scatter",
    "all-to-all-implementation": "all_to_all",
}


class IgnoredKeyWarning(UserWarning):
    """A key upstream accepts whose effect astra-cosim does not model."""


# 1.0 panics when one of these is missing.
REQUIRED_KEYS = ("scheduling-policy", "collective-optimization", *COLLECTIVE_KEYS)


def _positive_int(value: str, key: str, path: str, line: int | None, *, allow_zero: bool) -> int:
    try:
        number = whole_number(value)
    except ValueError:
        raise InputError(f"{key}: found {value!r}; expected a whole number", path, line) from None
    if number < 0 or (number == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else ">= 1"
        raise InputError(f"{key}: found {number}; expected a whole number {bound}", path, line)
    if number > INT64_MAX:
        raise InputError(f"{key}: found {number}; expected at most {INT64_MAX} (int64)", path,
                         line)
    return number


def _choice(value: str, key: str, valid: tuple[str, ...], path: str, line: int | None) -> str:
    if value not in valid:
        raise InputError(f"{key}: " + expected_one_of(value, valid), path, line)
    return value


def _algorithms(value: str, key: str, path: str, line: int | None) -> tuple[str, ...]:
    names = tuple(value.split("_"))
    for name in names:
        base = name
        for direct in ("direct", "oneDirect"):
            if name.startswith(direct) and name[len(direct):].isdigit():
                base = direct      # directN / oneDirectN: a window of N
                if int(name[len(direct):]) < 1:   # 1.0 would send nothing and never finish
                    raise InputError(f"{key}: found {name!r}; expected {direct}N with a window "
                                     "N >= 1", path, line)
        _choice(base, key, ALGORITHMS, path, line)
    return names


def _policy(value: str, key: str, valid: tuple[str, ...], aliases: dict[str, str], path: str,
            line: int | None) -> str:
    """A dimension-scheduling policy; an ASPLOS'23 alias is mapped to its 1.0 name (noted)."""
    _choice(value, key, valid + tuple(aliases), path, line)
    return resolve(value, aliases, key, path if line is None else f"{path}:{line}")


# key -> (field name, parser); parser(value, key, path, line) -> parsed value
_PARSERS: dict[str, tuple[str, Any]] = {
    "scheduling-policy": ("scheduling_policy",
                          lambda v, k, p, n: _choice(v, k, ("LIFO", "FIFO"), p, n)),
    "endpoint-delay": ("endpoint_delay",
                       lambda v, k, p, n: _positive_int(v, k, p, n, allow_zero=True)),
    "active-chunks-per-dimension": ("active_chunks_per_dimension",
                                    lambda v, k, p, n: _positive_int(v, k, p, n,
                                                                     allow_zero=False)),
    "preferred-dataset-splits": ("preferred_dataset_splits",
                                 lambda v, k, p, n: _positive_int(v, k, p, n, allow_zero=False)),
    "boost-mode": ("boost_mode", lambda v, k, p, n: int(_choice(v, k, ("0", "1"), p, n))),
    "collective-optimization": ("collective_optimization",
                                lambda v, k, p, n: _choice(v, k, ("baseline", "localBWAware"),
                                                           p, n)),
    "intra-dimension-scheduling": ("intra_dimension_scheduling",
                                   lambda v, k, p, n: _policy(v, k, INTRA_POLICIES,
                                                              INTRA_ALIASES, p, n)),
    "inter-dimension-scheduling": ("inter_dimension_scheduling",
                                   lambda v, k, p, n: _policy(v, k, INTER_POLICIES,
                                                              INTER_ALIASES, p, n)),
    **{key: (name, _algorithms) for key, name in COLLECTIVE_KEYS.items()},
}

# Keys 1.0 accepts whose effect we do not model: accepted with a warning.
IGNORED_KEYS = {
    "seprate-log": "CSV output control of 1.0",
    "gap-denominator": "CSV output control of 1.0",
    "local-reduction-delay": "LogGP shared-bus model (model-shared-bus 0 disables it)",
    "model-shared-bus": "LogGP shared-bus model",
    "L": "LogGP shared-bus model", "o": "LogGP shared-bus model",
    "g": "LogGP shared-bus model", "G": "LogGP shared-bus model",
}


def parse_system_items(items: list[tuple[str, str, int | None]], path: str) -> SystemConfig:
    """Build a ``SystemConfig`` from ``(key, value, line)`` triples."""
    values: dict[str, Any] = {}
    ignored: list[str] = []
    lines: dict[str, int] = {}
    given: dict[str, int | None] = {}
    for key, value, line in items:
        if key in given:     # 1.0 keeps the last one silently; which was meant is a guess
            first = f" (first on line {given[key]})" if given[key] is not None else ""
            raise InputError(f"key {key!r} is given twice{first}; expected each key once",
                             path, line)
        given[key] = line
        if key in _PARSERS:
            name, parse = _PARSERS[key]
            values[name] = parse(value, key, path, line)
            if line is not None:
                lines[key] = line
        elif key in IGNORED_KEYS:
            ignored.append(key)
        else:
            raise InputError("unknown system key: "
                             + expected_one_of(key, list(_PARSERS) + list(IGNORED_KEYS)),
                             path, line)
    if ignored:
        warnings.warn(f"{path}: keys accepted but not modelled by astra-cosim: "
                      + ", ".join(f"{k} ({IGNORED_KEYS[k]})" for k in ignored),
                      IgnoredKeyWarning, stacklevel=2)
    missing = [key for key in REQUIRED_KEYS if _PARSERS[key][0] not in values]
    if missing:
        raise InputError(f"missing required key(s) {', '.join(missing)} (ASTRA-sim 1.0 needs "
                         f"{', '.join(REQUIRED_KEYS)})", path)
    return SystemConfig(path=path, lines=lines, **values)


def read_v1_system_items(path: str) -> list[tuple[str, str, int]]:
    """The file's ``(key, value, line)`` triples, unchecked (a sweep edits them as a mapping)."""
    try:
        with open(path, encoding="utf-8-sig") as handle:   # a BOM is skipped
            lines = handle.read().splitlines()
    except OSError as exc:
        raise InputError(f"cannot read system file ({exc.strerror})", path) from None
    except UnicodeDecodeError as exc:
        raise InputError(not_text(exc), path) from None
    items = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        key, sep, value = text.partition(":")
        if not sep or not value.strip():
            raise InputError(f"found {text.strip()!r}; expected 'key: value'", path, number)
        items.append((key.strip(), value.strip(), number))
    return items


def load_v1_system(path: str) -> SystemConfig:
    return parse_system_items(read_v1_system_items(path), path)


def system_from_mapping(mapping: dict[str, Any], source: str) -> SystemConfig:
    """Inline system keys from an experiment YAML (same keys and checks as the file)."""
    return parse_system_items([(str(k), str(v), None) for k, v in mapping.items()], source)
