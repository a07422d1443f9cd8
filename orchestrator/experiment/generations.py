"""Refuse a mix of ASTRA-sim generations up front, saying which file belongs to which.

A 2.x trace run given a 1.0 ``key: value`` system file would otherwise fail deep in the JSON
reader ("not valid JSON"), which does not tell a newcomer that 2.x wants a JSON system file;
the other mixes fail as obscurely. Only files are checked: inline mappings have no format.
"""

from __future__ import annotations

import json

from orchestrator.errors import InputError
from orchestrator.experiment.model import Experiment

_WORKLOAD = {"v1": "a 1.0 text workload", "v2": "2.x Chakra traces (PREFIX.<npu>.et)"}
_RULE = {"v1": "1.0 workloads need", "v2": "2.x traces need"}
_SYSTEM = {"v1": "a 1.0 system file (key: value lines)", "v2": "a JSON system file"}
_NETWORK = {"v1": "a 1.0 analytical network JSON (dimensions-count, units-count, ...)",
            "v2": "a 2.x network YAML (topology, npus_count, bandwidth, latency)"}


def _head(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as handle:
            return handle.read(1 << 16)
    except OSError:
        return None              # the reader of that file reports it


def system_generation(path: str) -> str | None:
    text = _head(path)
    if text is None or not text.strip():
        return None
    return "v2" if text.lstrip().startswith("{") else "v1"


def network_generation(path: str) -> str | None:
    text = _head(path)
    if text is None or not text.strip():
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        if text.lstrip().startswith("{"):
            return None          # broken JSON: its reader says where
        import yaml              # not at module level: only a file that is not JSON needs it
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError:
            return None
    if isinstance(doc, dict) and ("units-count" in doc or "dimensions-count" in doc):
        return "v1"
    return "v2" if isinstance(doc, dict) and "npus_count" in doc else None


def check_generations(workload_generation: str, experiment: Experiment) -> None:
    """An ``InputError`` naming the file when the system or network file is of the other
    generation than the workload."""
    for spec, kind, tell, words in ((experiment.system, "system", system_generation, _SYSTEM),
                                    (experiment.network, "network", network_generation,
                                     _NETWORK)):
        if not isinstance(spec, str):
            continue
        found = tell(spec)
        if found is not None and found != workload_generation:
            raise InputError(f"this is {words[found]}, but the workload is "
                             f"{_WORKLOAD[workload_generation]}: "
                             f"{_RULE[workload_generation]} {words[workload_generation]}",
                             spec)
