"""The analytical network adapter's configuration in ASTRA-sim 2.x form: YAML (SEMANTICS §5.2).

```yaml
topology: [ Ring, Switch ]      # per dimension: Ring | FullyConnected | Switch
npus_count: [ 8, 4 ]            # each > 1; total NPUs = product
bandwidth: [ 50.0, 25.0 ]       # GB/s per link
latency: [ 500.0, 1000.0 ]      # ns per hop
```
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


from orchestrator.documents import DocumentError, load_yaml
from orchestrator.errors import InputError, expected_one_of, not_text
from orchestrator.limits import check_npus

TOPOLOGIES = ("Ring", "FullyConnected", "Switch")
KEYS = ("topology", "npus_count", "bandwidth", "latency")


@dataclass(frozen=True, slots=True)
class DimensionV2:
    topology: str
    npus: int
    bandwidth_gb_per_s: float
    latency_ns: float


@dataclass(frozen=True, slots=True)
class NetworkConfigV2:
    path: str
    dims: tuple[DimensionV2, ...]

    @property
    def npus_count(self) -> int:
        return math.prod(dim.npus for dim in self.dims)


def read_v2_network_doc(path: str) -> Any:
    """The network YAML as a document (what a remote adapter is configured with)."""
    import yaml        # not at module level: 1.0 runs read JSON networks only
    try:
        with open(path, encoding="utf-8") as handle:
            return load_yaml(handle)
    except OSError as exc:
        raise InputError(f"cannot read network file ({exc.strerror})", path) from None
    except UnicodeDecodeError as exc:
        raise InputError(not_text(exc), path) from None
    except DocumentError as exc:     # a key twice, an alias bomb
        raise InputError(str(exc), path, exc.line) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(f"not valid YAML: {getattr(exc, 'problem', exc)}", path,
                         mark.line + 1 if mark else None) from None


def load_v2_network(path: str) -> NetworkConfigV2:
    return parse_v2_network(read_v2_network_doc(path), path)


def _number(value: Any, key: str, index: int, path: str, *, integer: bool, minimum: float,
            strict: bool) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and \
            not math.isfinite(value):       # YAML reads .nan and .inf
        raise InputError(f"{key}[{index}]: found {value!r}; expected a finite number", path)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            (integer and not float(value).is_integer()):
        kind = "a whole number" if integer else "a number"
        raise InputError(f"{key}[{index}]: found {value!r}; expected {kind}", path)
    if value < minimum or (strict and value == minimum):
        raise InputError(f"{key}[{index}]: found {value!r}; expected a number "
                         f"{'>' if strict else '>='} {minimum:g}", path)
    return value


def parse_v2_network(doc: Any, path: str) -> NetworkConfigV2:
    if not isinstance(doc, dict):
        raise InputError("expected a mapping with keys " + ", ".join(KEYS), path)
    unknown = sorted(set(doc) - set(KEYS), key=str)
    if unknown:
        raise InputError("unknown key: " + expected_one_of(unknown[0], KEYS), path)
    missing = [key for key in KEYS if key not in doc]
    if missing:
        raise InputError(f"missing key(s) {', '.join(missing)}", path)
    lists = {key: doc[key] for key in KEYS}
    count = len(lists["topology"]) if isinstance(lists["topology"], list) else 0
    if count == 0:
        raise InputError("topology: expected a non-empty list, one entry per dimension", path)
    for key, value in lists.items():
        if not isinstance(value, list) or len(value) != count:
            raise InputError(f"{key}: expected a list of {count} entries (one per dimension), "
                             f"found {value!r}", path)
    dims = []
    for index in range(count):
        topology = lists["topology"][index]
        if topology not in TOPOLOGIES:
            raise InputError(f"topology[{index}]: " + expected_one_of(topology, TOPOLOGIES), path)
        dims.append(DimensionV2(
            topology=topology,
            npus=int(_number(lists["npus_count"][index], "npus_count", index, path,
                             integer=True, minimum=1, strict=True)),
            bandwidth_gb_per_s=float(_number(lists["bandwidth"][index], "bandwidth", index,
                                             path, integer=False, minimum=0, strict=True)),
            latency_ns=float(_number(lists["latency"][index], "latency", index, path,
                                     integer=False, minimum=0, strict=False)),
        ))
    config = NetworkConfigV2(path, tuple(dims))
    check_npus(config.npus_count, "npus_count", path)
    return config
