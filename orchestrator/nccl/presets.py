"""Platform presets: a named system and network, so a question like "how fast is an
all-reduce on an 8-NPU ring?" needs no input files.

Every preset is an ASTRA-sim 2.x system (JSON keys) and network (YAML keys), so it runs on every
network backend (analytical, analytical-aware, ns3). The values are the MLSys'22 tutorial's
(50 GB/s and 500 ns links, LIFO, endpoint delay 10, four chunks per collective, one active
chunk per dimension) unless the summary says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from orchestrator.errors import InputError, expected_one_of


@dataclass(frozen=True, slots=True)
class Platform:
    name: str
    summary: str
    system: dict[str, Any]
    network: dict[str, Any]

    @property
    def npus_count(self) -> int:
        count = 1
        for npus in self.network["npus_count"]:
            count *= npus
        return count


def _system(algorithm: str, dims: int) -> dict[str, Any]:
    algorithms = [algorithm] * dims
    return {"scheduling-policy": "LIFO", "endpoint-delay": 10,
            "active-chunks-per-dimension": 1, "preferred-dataset-splits": 4,
            "all-reduce-implementation": algorithms, "all-gather-implementation": algorithms,
            "reduce-scatter-implementation": algorithms,
            "all-to-all-implementation": ["direct"] * dims,
            "collective-optimization": "localBWAware", "local-mem-bw": 1600}


def _network(topologies: list[str], npus: list[int], bandwidth: list[float],
             latency: list[float]) -> dict[str, Any]:
    return {"topology": topologies, "npus_count": npus, "bandwidth": bandwidth,
            "latency": latency}


PLATFORMS: dict[str, Platform] = {p.name: p for p in (
    Platform("ring8", "8 NPUs on a Ring, 50 GB/s 500 ns links, ring algorithm",
             _system("ring", 1), _network(["Ring"], [8], [50.0], [500.0])),
    Platform("switch8", "8 NPUs on one Switch, 50 GB/s 500 ns links, halvingDoubling",
             _system("halvingDoubling", 1), _network(["Switch"], [8], [50.0], [500.0])),
    Platform("fc8", "8 NPUs FullyConnected, 50 GB/s 500 ns links, direct algorithm",
             _system("direct", 1), _network(["FullyConnected"], [8], [50.0], [500.0])),
    Platform("ring16", "16 NPUs on a Ring, 50 GB/s 500 ns links, ring algorithm",
             _system("ring", 1), _network(["Ring"], [16], [50.0], [500.0])),
    Platform("ring4x4", "4 x 4 NPUs, Ring x Ring (a 2-D torus), 50 GB/s 500 ns, ring",
             _system("ring", 2), _network(["Ring", "Ring"], [4, 4], [50.0, 50.0],
                                          [500.0, 500.0])),
    Platform("switch8x4", "8 x 4 NPUs: Switch of 8 at 150 GB/s 500 ns, then Switch of 4 at "
                          "25 GB/s 2000 ns (scale-up then scale-out), ring",
             _system("ring", 2), _network(["Switch", "Switch"], [8, 4], [150.0, 25.0],
                                          [500.0, 2000.0])),
)}


def platform(name: str) -> Platform:
    """The preset of this name; an unknown name is an error listing the presets."""
    found = PLATFORMS.get(name)
    if found is None:
        raise InputError("--platform: " + expected_one_of(name, PLATFORMS))
    return found
