"""Experiment YAML -> ``Experiment``, with errors that name the file and the key.

```yaml
name: ex1-ring-allreduce
workload: workloads/allreduce_1MiB.txt        # relative to this file
system: systems/ring.txt                      # or a mapping of system keys
network:
  backend: analytical                         # which network model
  config: networks/ring8.json                 # or a mapping of network keys
  placement: inprocess                        # or process (a child process over ZeroMQ)
  endpoint: tcp://host:5555                   # optional: an adapter server already running
options: {num_passes: 1, comm_scale: 1, compute_scale: 1, injection_scale: 1}
```
"""

from __future__ import annotations

import os
from typing import Any

import yaml

from orchestrator.cosim.placement import PLACEMENTS, AdapterPlacement
from orchestrator.errors import InputError, expected_one_of
from orchestrator.experiment.model import NETWORK_BACKENDS, Experiment, RunOptions

_TOP_KEYS = ("name", "description", "workload", "system", "network", "options", "comm_group")
_OPTION_KEYS = ("num_passes", "comm_scale", "compute_scale", "injection_scale")


def _resolve(base_dir: str, value: Any, key: str, path: str) -> str | dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value:
        return os.path.normpath(os.path.join(base_dir, value))
    raise InputError(f"{key}: found {value!r}; expected a file path or a mapping of keys", path)


def validate_options(values: dict[str, Any], where: str | None) -> RunOptions:
    """Options from YAML or the command line: passes a whole number >= 1, scales > 0."""
    unknown = set(values) - set(_OPTION_KEYS)
    if unknown:
        key = sorted(unknown)[0]
        raise InputError("options: " + expected_one_of(key, _OPTION_KEYS), where)
    passes = values.get("num_passes", 1)
    if isinstance(passes, bool) or not isinstance(passes, int) or passes < 1:
        raise InputError(f"num_passes: found {passes!r}; expected a whole number >= 1", where)
    scales = {}
    for key in _OPTION_KEYS[1:]:
        value = values.get(key, 1.0)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise InputError(f"{key}: found {value!r}; expected a number > 0", where)
        scales[key] = float(value)
    return RunOptions(num_passes=passes, **scales)


def load_experiment(path: str) -> Experiment:
    try:
        with open(path, encoding="utf-8") as handle:
            doc = yaml.safe_load(handle)
    except OSError as exc:
        raise InputError(f"cannot read experiment file ({exc.strerror})", path) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(f"not valid YAML: {getattr(exc, 'problem', exc)}", path,
                         mark.line + 1 if mark else None) from None
    return experiment_from_mapping(doc, path, os.path.dirname(os.path.abspath(path)))


def experiment_from_mapping(doc: Any, path: str, base_dir: str) -> Experiment:
    """An experiment document already read (from a YAML file, or built by a sweep), checked
    exactly as a file would be; relative paths are taken from ``base_dir`` and errors name
    ``path``."""
    if not isinstance(doc, dict):
        raise InputError("expected a mapping with keys " + ", ".join(_TOP_KEYS), path)
    unknown = set(doc) - set(_TOP_KEYS)
    if unknown:
        key = sorted(unknown)[0]
        raise InputError("unknown key: " + expected_one_of(key, _TOP_KEYS), path)
    for key in ("workload", "system", "network"):
        if key not in doc:
            raise InputError(f"missing key {key!r}; expected workload, system and network",
                             path)
    workload = _resolve(base_dir, doc["workload"], "workload", path)
    if not isinstance(workload, str):
        raise InputError("workload: expected the path of a workload file", path)
    network = doc["network"]
    backend = "analytical"
    placement = AdapterPlacement()
    if isinstance(network, dict) and "config" in network:
        keys = ("backend", "config", "placement", "endpoint", "timeout_s")
        extra = set(network) - set(keys)
        if extra:
            raise InputError("network: " + expected_one_of(sorted(extra)[0], keys), path)
        backend = network.get("backend", "analytical")
        placement = AdapterPlacement(network.get("placement", "inprocess"),
                                     network.get("endpoint"),
                                     float(network.get("timeout_s", 30.0)))
        if placement.placement not in PLACEMENTS:
            raise InputError("network.placement: " + expected_one_of(placement.placement,
                                                                     PLACEMENTS), path)
        network = network["config"]
    if backend not in NETWORK_BACKENDS:
        raise InputError("network.backend: " + expected_one_of(backend, NETWORK_BACKENDS), path)
    return Experiment(
        name=str(doc.get("name") or os.path.splitext(os.path.basename(path))[0]),
        workload=workload,
        system=_resolve(base_dir, doc["system"], "system", path),
        network=_resolve(base_dir, network, "network", path),
        network_backend=backend,
        options=validate_options(doc.get("options") or {}, path),
        source=path,
        comm_group=_comm_group(base_dir, doc.get("comm_group"), path),
        placement=placement,
    )


def _comm_group(base_dir: str, value: Any, path: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise InputError(f"comm_group: found {value!r}; expected the path of a groups JSON file",
                         path)
    return os.path.normpath(os.path.join(base_dir, value))
