"""A GPU platform preset: which GPU, how many per node, and the two network tiers, turned into
the multi-dimensional network every network backend reads (2.x YAML: Switch per dimension).

Inside a node the GPUs meet at an NVLink switch: one Switch dimension of ``gpus_per_node``.
Between nodes each GPU has its own NIC. A *rail* network joins NIC i of every node (GPU i's
rail), which is exactly the second Switch dimension of the analytical addressing (NPUs with the
same local index); a non-blocking *fat-tree* gives a GPU the same bandwidth to any other node,
so for a per-GPU NIC the two are the same dimensions here; ``oversubscription`` > 1 divides the
inter-node bandwidth (a tapered fat-tree). Bandwidths are the line rate times ``achievable``
(the fraction NCCL reaches, see the preset files), per direction, in GB/s.

A communicator group of ranks ``first + i * stride`` gets its own network (``group_network``):
the dimensions its members span, so a whole-system collective on it runs ASTRA-sim's
hierarchical algorithm (inside the node first, then across nodes, each GPU on its own NIC),
as NCCL does with one ring per NIC.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import yaml

from orchestrator.errors import InputError, expected_one_of, not_text

PRESET_DIR = os.path.join(os.path.dirname(__file__), "presets")
GPUS_FILE = os.path.join(os.path.dirname(__file__), "gpus.yaml")
INTER_NODE_TOPOLOGIES = ("rail", "fat-tree")


@dataclass(frozen=True, slots=True)
class Gpu:
    name: str
    arch: str
    sms: int
    peak_tflops: dict[str, float]
    hbm_gb_per_s: float
    hbm_gb: float

    def peak(self, dtype: str) -> float:
        if dtype not in self.peak_tflops:
            raise InputError(f"GPU {self.name} has no {dtype} peak; "
                             + expected_one_of(dtype, self.peak_tflops))
        return self.peak_tflops[dtype]


@dataclass(frozen=True, slots=True)
class Tier:
    fabric: str
    bandwidth_gb_per_s: float      # line rate per GPU, per direction
    achievable: float
    latency_ns: float
    topology: str = "switch"
    oversubscription: float = 1.0

    @property
    def effective_gb_per_s(self) -> float:
        return self.bandwidth_gb_per_s * self.achievable / self.oversubscription


@dataclass(frozen=True, slots=True)
class Platform:
    name: str
    gpu: Gpu
    gpus_per_node: int
    intra: Tier
    inter: Tier

    def network_doc(self, npus: int) -> dict[str, Any]:
        """The whole machine of ``npus`` GPUs as a 2.x network document."""
        return self.group_network(npus, 1)

    def group_network(self, size: int, stride: int) -> dict[str, Any]:
        """The network of a group of ``size`` ranks ``first + i * stride`` (first aligned)."""
        per_node = self.gpus_per_node
        if stride < per_node and per_node % stride:
            raise InputError(f"a group of stride {stride} does not align with "
                             f"{per_node} GPUs per node")
        in_node = max(1, min(size, per_node // stride)) if stride < per_node else 1
        if size % in_node:
            raise InputError(f"a group of {size} ranks does not split evenly over nodes of "
                             f"{in_node} of its members")
        dims = []
        if in_node > 1:
            dims.append(("Switch", in_node, self.intra))
        if size // in_node > 1:
            dims.append(("Switch", size // in_node, self.inter))
        if not dims:
            raise InputError("a communicator group needs at least two ranks")
        return {"topology": [d[0] for d in dims], "npus_count": [d[1] for d in dims],
                "bandwidth": [round(d[2].effective_gb_per_s, 6) for d in dims],
                "latency": [float(d[2].latency_ns) for d in dims]}


def platform_names() -> list[str]:
    return sorted(name[:-5] for name in os.listdir(PRESET_DIR) if name.endswith(".yaml"))


def _read(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except OSError as exc:
        raise InputError(f"cannot read platform file ({exc.strerror})", path) from None
    except UnicodeDecodeError as exc:
        raise InputError(not_text(exc), path) from None
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}", path) from None


def load_gpu(name: str) -> Gpu:
    doc = _read(GPUS_FILE)
    if name not in doc:
        raise InputError("unknown GPU: " + expected_one_of(name, doc), GPUS_FILE)
    entry = doc[name]
    try:
        return Gpu(name, entry["arch"], int(entry["sms"]),
                   {k: float(v) for k, v in entry["peak_tflops"].items()},
                   float(entry["hbm_gb_per_s"]), float(entry["hbm_gb"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"GPU {name}: bad or missing field ({exc})", GPUS_FILE) from None


def _tier(doc: Any, key: str, path: str) -> Tier:
    entry = doc.get(key) if isinstance(doc, dict) else None
    if not isinstance(entry, dict):
        raise InputError(f"{key}: expected a mapping (fabric, bandwidth_gb_per_s, achievable, "
                         "latency_ns)", path)
    try:
        tier = Tier(str(entry["fabric"]), float(entry["bandwidth_gb_per_s"]),
                    float(entry.get("achievable", 1.0)), float(entry["latency_ns"]),
                    str(entry.get("topology", "switch")),
                    float(entry.get("oversubscription", 1.0)))
    except KeyError as exc:
        raise InputError(f"{key}: missing field {exc.args[0]}", path) from None
    except (TypeError, ValueError) as exc:
        raise InputError(f"{key}: {exc}", path) from None
    if key == "inter_node" and tier.topology not in INTER_NODE_TOPOLOGIES:
        raise InputError(f"{key}.topology: " + expected_one_of(tier.topology,
                                                               INTER_NODE_TOPOLOGIES), path)
    if not 0 < tier.achievable <= 1 or tier.bandwidth_gb_per_s <= 0 or \
            tier.oversubscription < 1:
        raise InputError(f"{key}: expected bandwidth > 0, 0 < achievable <= 1, "
                         "oversubscription >= 1", path)
    return tier


def load_platform(name_or_path: str) -> Platform:
    """A preset name (dgx-a100, dgx-h100) or the path of a platform YAML file."""
    path = name_or_path if os.path.isfile(name_or_path) else \
        os.path.join(PRESET_DIR, f"{name_or_path}.yaml")
    if not os.path.isfile(path):
        raise InputError("unknown platform: " + expected_one_of(name_or_path, platform_names())
                         + " (or a platform YAML file)")
    doc = _read(path)
    if not isinstance(doc, dict):
        raise InputError("expected a mapping with name, gpu, gpus_per_node, intra_node, "
                         "inter_node", path)
    try:
        gpu = load_gpu(str(doc["gpu"]))
        per_node = int(doc["gpus_per_node"])
    except KeyError as exc:
        raise InputError(f"missing field {exc.args[0]}", path) from None
    return Platform(str(doc.get("name", name_or_path)), gpu, per_node,
                    _tier(doc, "intra_node", path), _tier(doc, "inter_node", path))
