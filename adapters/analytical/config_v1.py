"""The analytical network adapter's configuration: ASTRA-sim 1.0's network JSON (SEMANTICS §5.3).

```json
{"dimensions-count": 2, "topologies-per-dim": ["Switch", "Switch"], "units-count": [16, 16],
 "links-count": [6, 1], "link-latency": [500, 500], "link-bandwidth": [25, 6.25]}
```

Optional keys change only the dollar cost model (``dimension-type``), name the only topology
1.0 builds (``topology-name``: ``Hierarchical``) or add per-message terms that default to zero
(``nic-latency``, ``router-latency``; the HBM term applies only when ``hbm-scale`` > 0).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from orchestrator.documents import DuplicateKey, load_json
from orchestrator.errors import InputError, expected_one_of, not_text
from orchestrator.limits import check_npus

TOPOLOGIES = ("Ring", "FullyConnected", "Switch")
TOPOLOGY_NAME = "Hierarchical"     # the only value 1.0 builds; others would be a silent guess

_REQUIRED = ("topologies-per-dim", "units-count", "links-count", "link-latency", "link-bandwidth")
_PER_DIM_OPTIONAL = ("nic-latency", "router-latency", "hbm-latency", "hbm-bandwidth", "hbm-scale",
                     "dimension-type")
_OTHER_OPTIONAL = ("dimensions-count", "topology-name", "use-fast-version")


@dataclass(frozen=True, slots=True)
class NetworkDim:
    """One physical dimension of the analytical network."""

    topology: str
    npus: int
    links: int
    latency_ns: float
    bandwidth_gb_per_s: float
    nic_latency_ns: float = 0.0
    router_latency_ns: float = 0.0
    hbm_latency_ns: float = 0.0
    hbm_bandwidth_gb_per_s: float = 0.0
    hbm_scale: float = 0.0


@dataclass(frozen=True, slots=True)
class NetworkConfig:
    path: str
    dims: tuple[NetworkDim, ...]

    @property
    def npus_count(self) -> int:
        return math.prod(dim.npus for dim in self.dims)


def _number(value: object, path: str, key: str, index: int, *, integer: bool, minimum: float,
            strict: bool) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{key}[{index}]: found {value!r}; expected a number", path)
    if not math.isfinite(value):        # json reads NaN and Infinity
        raise InputError(f"{key}[{index}]: found {value!r}; expected a finite number", path)
    if integer and (not isinstance(value, int) and not float(value).is_integer()):
        raise InputError(f"{key}[{index}]: found {value!r}; expected a whole number", path)
    if (value <= minimum) if strict else (value < minimum):
        bound = f"> {minimum:g}" if strict else f">= {minimum:g}"
        raise InputError(f"{key}[{index}]: found {value!r}; expected a number {bound}", path)
    return int(value) if integer else float(value)


def read_v1_network_doc(path: str) -> dict:
    """The network JSON as a document (what a remote adapter is configured with)."""
    try:
        with open(path, encoding="utf-8-sig") as handle:   # a BOM is skipped
            text = handle.read()
    except OSError as exc:
        raise InputError(f"cannot read network file ({exc.strerror})", path) from None
    except UnicodeDecodeError as exc:
        raise InputError(not_text(exc), path) from None
    try:
        doc = load_json(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg} (column {exc.colno})", path,
                         exc.lineno) from None
    except DuplicateKey as exc:
        raise InputError(str(exc), path) from None
    return doc


def load_v1_network(path: str) -> NetworkConfig:
    """Read and validate a 1.0 network JSON file; errors name the key and index at fault."""
    return parse_v1_network(read_v1_network_doc(path), path)


def parse_v1_network(doc: object, path: str) -> NetworkConfig:
    """Validate the keys of a 1.0 network (from a file or an experiment's inline mapping)."""
    if not isinstance(doc, dict):
        raise InputError("expected a JSON object with the 1.0 network keys", path)
    unknown = set(doc) - set(_REQUIRED) - set(_PER_DIM_OPTIONAL) - set(_OTHER_OPTIONAL)
    if unknown:
        key = sorted(unknown, key=str)[0]
        valid = _REQUIRED + _PER_DIM_OPTIONAL + _OTHER_OPTIONAL
        raise InputError("unknown key: " + expected_one_of(key, valid), path)
    missing = [key for key in _REQUIRED if key not in doc]
    if missing:
        raise InputError(f"missing key {missing[0]!r} (required: {', '.join(_REQUIRED)})", path)
    topologies = doc["topologies-per-dim"]
    if not isinstance(topologies, list) or not topologies:
        raise InputError("topologies-per-dim: expected a non-empty list", path)
    count = len(topologies)
    declared = doc.get("dimensions-count", count)
    if isinstance(declared, bool) or declared != count:     # true == 1 in Python, not in JSON
        raise InputError(f"dimensions-count is {declared!r} but topologies-per-dim has {count} "
                         "entries", path)
    for key in _REQUIRED[1:] + tuple(k for k in _PER_DIM_OPTIONAL if k in doc):
        value = doc[key]
        if not isinstance(value, list) or len(value) != count:
            found = f"{len(value)} entries" if isinstance(value, list) else repr(value)
            raise InputError(f"{key}: found {found}; expected a list of {count} (one per "
                             f"dimension, dimensions-count {count})", path)
    name = doc.get("topology-name", TOPOLOGY_NAME)
    if name != TOPOLOGY_NAME:
        raise InputError("topology-name: " + expected_one_of(name, (TOPOLOGY_NAME,)), path)
    dims = []
    for index, topology in enumerate(topologies):
        if topology not in TOPOLOGIES:
            raise InputError(f"topologies-per-dim[{index}]: " + expected_one_of(topology, TOPOLOGIES),
                             path)
        npus = _number(doc["units-count"][index], path, "units-count", index, integer=True,
                       minimum=1, strict=False)
        links = _number(doc["links-count"][index], path, "links-count", index, integer=True,
                        minimum=0, strict=True)
        if topology == "Ring" and links % 2:
            raise InputError(f"links-count[{index}]: a Ring needs an even number of links "
                             f"(one per direction), found {links}", path)
        optional = {key: _number(doc[key][index], path, key, index, integer=False, minimum=0,
                                 strict=False)
                    for key in _PER_DIM_OPTIONAL if key in doc and key != "dimension-type"}
        if optional.get("hbm-scale", 0.0) > 0 and not optional.get("hbm-bandwidth", 0.0) > 0:
            found = doc["hbm-bandwidth"][index] if "hbm-bandwidth" in doc else "nothing"
            raise InputError(f"hbm-bandwidth[{index}]: found {found}; expected a bandwidth > 0 "
                             f"GB/s when hbm-scale[{index}] is > 0 (the HBM term divides by it)",
                             path)
        dims.append(NetworkDim(
            topology=topology,
            npus=npus,
            links=links,
            latency_ns=_number(doc["link-latency"][index], path, "link-latency", index,
                               integer=False, minimum=0, strict=False),
            bandwidth_gb_per_s=_number(doc["link-bandwidth"][index], path, "link-bandwidth", index,
                                       integer=False, minimum=0, strict=True),
            nic_latency_ns=optional.get("nic-latency", 0.0),
            router_latency_ns=optional.get("router-latency", 0.0),
            hbm_latency_ns=optional.get("hbm-latency", 0.0),
            hbm_bandwidth_gb_per_s=optional.get("hbm-bandwidth", 0.0),
            hbm_scale=optional.get("hbm-scale", 0.0),
        ))
    config = NetworkConfig(path=path, dims=tuple(dims))
    check_npus(config.npus_count, "units-count", path)
    return config
