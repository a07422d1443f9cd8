"""The ASTRA-sim 2.x system file: JSON (SEMANTICS §4.1).

Upstream reads the keys it knows and ignores every other one silently; we read the same keys
and warn, naming them, about keys that have no effect in 2.x (``boost-mode``, the dimension
schedulers, the LogGP bus, ...) and about keys nobody knows. Values are checked like the 1.0
file's, with errors naming the key.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

from orchestrator.documents import DuplicateKey, load_json
from orchestrator.errors import InputError, not_text
from orchestrator.experiment.system_file import IgnoredKeyWarning, parse_system_items
from orchestrator.limits import is_number
from orchestrator.system.config import SystemConfig

_SHARED_KEYS = ("scheduling-policy", "endpoint-delay", "active-chunks-per-dimension",
                "preferred-dataset-splits", "collective-optimization",
                "all-reduce-implementation", "all-gather-implementation",
                "reduce-scatter-implementation", "all-to-all-implementation")
_V2_ONLY = ("local-mem-bw", "peak-perf", "roofline-enabled", "trace-enabled", "replay-only")
# 2.x parses these but nothing reads them, or they only drive models we do not have.
_NO_EFFECT = {
    "boost-mode": "not read by ASTRA-sim 2.x",
    "intra-dimension-scheduling": "not read by ASTRA-sim 2.x (always FIFO)",
    "inter-dimension-scheduling": "not read by ASTRA-sim 2.x (always ascending)",
    "model-shared-bus": "LogGP shared-bus model, not modelled",
    "local-reduction-delay": "LogGP shared-bus model, not modelled",
    "L": "LogGP", "o": "LogGP", "g": "LogGP", "G": "LogGP",
    "seprate-log": "1.0 CSV control", "gap-denominator": "1.0 CSV control",
}


def _scalar(value: Any) -> str:
    if isinstance(value, list):
        return "_".join(str(item) for item in value)
    return str(value)


def _positive_number(doc: dict[str, Any], key: str, path: str) -> float | None:
    if key not in doc:
        return None
    value = doc[key]
    if not is_number(value) or value <= 0:       # json reads NaN and Infinity
        raise InputError(f"{key}: found {value!r}; expected a finite number > 0", path)
    return float(value)


def _flag(doc: dict[str, Any], key: str, path: str) -> bool:
    value = doc.get(key, 0)
    if isinstance(value, bool) or value in (0, 1):
        return bool(value)
    raise InputError(f"{key}: found {value!r}; expected 0 or 1", path)


def load_v2_system(path: str) -> SystemConfig:
    return parse_v2_system(read_v2_system_doc(path), path)


def read_v2_system_doc(path: str) -> dict[str, Any]:
    """The system JSON as a document, unchecked beyond being an object."""
    try:
        with open(path, encoding="utf-8-sig") as handle:   # a BOM is skipped
            text = handle.read()
    except OSError as exc:
        raise InputError(f"cannot read system file ({exc.strerror})", path) from None
    except UnicodeDecodeError as exc:
        raise InputError(not_text(exc), path) from None
    try:
        doc = load_json(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg} (column {exc.colno})", path,
                         exc.lineno) from None
    except DuplicateKey as exc:
        raise InputError(str(exc), path) from None
    if not isinstance(doc, dict):
        raise InputError("expected a JSON object of system keys", path)
    return doc


# JSON types upstream's reader takes for these keys (nlohmann::json refuses a string where it
# reads a number, and a list where it reads a string)
_WHOLE_KEYS = ("endpoint-delay", "active-chunks-per-dimension", "preferred-dataset-splits")
_NAME_KEYS = ("collective-optimization",)


def parse_v2_system(doc: dict[str, Any], path: str) -> SystemConfig:
    for key in ("all-reduce-implementation", "all-gather-implementation",
                "reduce-scatter-implementation", "all-to-all-implementation"):
        if key in doc and not isinstance(doc[key], list):
            raise InputError(f"{key}: found {doc[key]!r}; expected a list with one algorithm "
                             "per dimension, e.g. [\"ring\"]", path)
    for key in _WHOLE_KEYS:
        value = doc.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InputError(f"{key}: found {value!r}; expected a whole number (a JSON number, "
                             "not a string or list)", path)
    for key in _NAME_KEYS:
        if key in doc and not isinstance(doc[key], str):
            raise InputError(f"{key}: found {doc[key]!r}; expected a string", path)
    policy = doc.get("scheduling-policy")
    items = [(key, _scalar(doc[key]), None) for key in _SHARED_KEYS
             if key in doc and key != "scheduling-policy"]
    # 2.x adds EXPLICIT (the node's comm_priority); the 1.0 parser knows LIFO/FIFO only.
    if policy is not None and policy not in ("LIFO", "FIFO", "EXPLICIT"):
        raise InputError(f"scheduling-policy: found {policy!r}; expected one of EXPLICIT, "
                         "FIFO, LIFO", path)
    if policy is not None:   # absent: the required-key check names it
        items.append(("scheduling-policy", "LIFO" if policy == "EXPLICIT" else policy, None))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IgnoredKeyWarning)
        base = parse_system_items(items, path)
    ignored = [key for key in doc if key in _NO_EFFECT]
    unknown = [key for key in doc if key not in _SHARED_KEYS and key not in _V2_ONLY
               and key not in _NO_EFFECT]
    if ignored or unknown:
        notes = [f"{key} ({_NO_EFFECT[key]})" for key in ignored] + \
                [f"{key} (unknown; ASTRA-sim 2.x ignores it silently)" for key in unknown]
        warnings.warn(f"{path}: keys without effect: {', '.join(notes)}", IgnoredKeyWarning,
                      stacklevel=2)
    fields = {name: getattr(base, name) for name in base.__dataclass_fields__}
    fields.update(
        scheduling_policy=policy or base.scheduling_policy,
        local_mem_bw_gb_per_s=_positive_number(doc, "local-mem-bw", path),
        peak_perf_tflops=_positive_number(doc, "peak-perf", path),
        roofline_enabled=_flag(doc, "roofline-enabled", path),
        replay_only=_flag(doc, "replay-only", path),
    )
    return SystemConfig(**fields)
