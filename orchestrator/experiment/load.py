"""Experiment YAML -> ``Experiment``, with errors that name the file and the key.

```yaml
name: ex1-ring-allreduce
workload: workloads/allreduce_1MiB.txt        # relative to this file
system: systems/ring.txt                      # or a mapping of system keys
network:
  backend: analytical                         # analytical, analytical-aware or ns3 (or: adapter:)
  config: networks/ring8.json                 # or a mapping of network keys
  options: {}                                 # backend-specific settings (ns3)
  placement: inprocess                        # or process (a child process over ZeroMQ)
  transport: tcp                              # process placement over tcp loopback, ipc or pipe
  endpoint: tcp://host:5555                   # optional: an adapter server already running
  key: keys/adapter.key_secret                # its CURVE key (astra-cosim adapter keygen)
  timeout_s: 30
compute:                                      # optional: time shaped operations online
  backend: roofline                           # or scalesim (or: adapter:)
  config: {peak_tflops: 900, local_mem_bw_gb_per_s: 2039}   # mapping, or a YAML/JSON file
  placement: inprocess                        # transport, endpoint, timeout_s as for network
options: {num_passes: 1, comm_scale: 1, compute_scale: 1, injection_scale: 1}
```
"""

from __future__ import annotations

import os
from typing import Any


from orchestrator.cosim.placement import PLACEMENTS, TRANSPORTS, AdapterPlacement
from orchestrator.documents import DocumentError, load_yaml
from orchestrator.errors import InputError, expected_one_of, not_text
from orchestrator.experiment.model import (COMPUTE_BACKENDS, NETWORK_BACKENDS, ComputeChoice,
                                           Experiment, RunOptions)
from orchestrator.limits import MAX_COUNT, is_number
from orchestrator.units import to_float32

_TOP_KEYS = ("name", "description", "workload", "system", "network", "compute", "options",
             "comm_group", "symmetry")
_WHERE_KEYS = ("placement", "transport", "endpoint", "timeout_s", "key")
OPTION_KEYS = ("num_passes", "comm_scale", "compute_scale", "injection_scale",
                "num_queues_per_dim")
_SCALE_KEYS = ("comm_scale", "compute_scale", "injection_scale")
FLOAT32_TINY = 2.0 ** -149      # the smallest float32 above 0 (a subnormal)


def _resolve(base_dir: str, value: Any, key: str, path: str) -> str | dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value:
        return os.path.normpath(os.path.join(base_dir, value))
    raise InputError(f"{key}: found {value!r}; expected a file path or a mapping of keys", path)


def validate_options(values: dict[str, Any], where: str | None) -> RunOptions:
    """Options from YAML or the command line: passes and queues per dimension whole numbers
    >= 1, scales > 0."""
    if not isinstance(values, dict):
        raise InputError(f"options: found {values!r}; expected a mapping of "
                         f"{', '.join(OPTION_KEYS)}", where)
    unknown = set(values) - set(OPTION_KEYS)
    if unknown:
        key = sorted(unknown, key=str)[0]
        raise InputError("options: " + expected_one_of(key, OPTION_KEYS), where)
    counts = {}
    for key in ("num_passes", "num_queues_per_dim"):
        count = values.get(key, 1)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise InputError(f"{key}: found {count!r}; expected a whole number >= 1", where)
        if count > MAX_COUNT:
            # upstream holds both in an int; 10^20 passes would run for ever, not fail
            raise InputError(f"{key}: found {count}; expected at most {MAX_COUNT} (2^31 - 1)",
                             where)
        counts[key] = count
    scales = {}
    for key in _SCALE_KEYS:
        value = values.get(key, 1.0)
        if not is_number(value) or not value > 0:
            raise InputError(f"{key}: found {value!r}; expected a finite number > 0", where)
        if value < 1 and to_float32(value) == 0:     # 1e-320: 0 as a float32, as 1.0 scales
            raise InputError(f"{key}: found {value!r}, which is 0 as a 32-bit float; expected "
                             f"a number >= {FLOAT32_TINY:.4g}", where)
        scales[key] = float(value)
    return RunOptions(**counts, **scales)


def read_yaml(path: str, what: str) -> Any:
    """A YAML file's document; unreadable or malformed files are InputErrors naming it."""
    import yaml        # not at module level: a run from plain files does not need it
    try:
        with open(path, encoding="utf-8") as handle:
            return load_yaml(handle)
    except OSError as exc:
        raise InputError(f"cannot read {what} ({exc.strerror})", path) from None
    except UnicodeDecodeError as exc:
        raise InputError(not_text(exc), path) from None
    except DocumentError as exc:     # a key twice, an alias bomb
        raise InputError(str(exc), path, exc.line) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(f"not valid YAML: {getattr(exc, 'problem', exc)}", path,
                         mark.line + 1 if mark else None) from None


def load_experiment(path: str) -> Experiment:
    doc = read_yaml(path, "experiment file")
    return experiment_from_mapping(doc, path, os.path.dirname(os.path.abspath(path)))


def experiment_from_mapping(doc: Any, path: str, base_dir: str) -> Experiment:
    """An experiment document already read (from a YAML file, or built by a sweep), checked
    exactly as a file would be; relative paths are taken from ``base_dir`` and errors name
    ``path``."""
    if not isinstance(doc, dict):
        raise InputError("expected a mapping with keys " + ", ".join(_TOP_KEYS), path)
    unknown = set(doc) - set(_TOP_KEYS)
    if unknown:
        key = sorted(unknown, key=str)[0]
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
    network_options: dict[str, Any] = {}
    placement = AdapterPlacement()
    if isinstance(network, dict) and "config" in network:
        _check_keys(network, ("backend", "adapter", "config", "options") + _WHERE_KEYS,
                    "network", path)
        backend = _backend(network, "network", NETWORK_BACKENDS, "analytical", path)
        network_options = network.get("options") or {}
        if not isinstance(network_options, dict):
            raise InputError(f"network.options: found {network_options!r}; expected a mapping",
                             path)
        for key in network_options:
            if not isinstance(key, str):
                raise InputError(f"network.options: found the key {key!r}; expected option "
                                 "names (strings)", path)
        # a file named by an option (ns-3's topology_file) is relative to this file, as every
        # path here is; an adapter in another process has another working directory
        network_options = {key: os.path.normpath(os.path.join(base_dir, value))
                           if str(key).endswith("_file") and isinstance(value, str) else value
                           for key, value in network_options.items()}
        placement = _placement(network, "network", path, base_dir)
        network = network["config"]
    return Experiment(
        name=plain_name(doc.get("name"), path),
        workload=workload,
        system=_resolve(base_dir, doc["system"], "system", path),
        network=_resolve(base_dir, network, "network", path),
        network_backend=backend,
        network_options=network_options,
        compute=_compute(doc.get("compute"), base_dir, path),
        options=validate_options({} if doc.get("options") is None else doc["options"], path),
        source=path,
        comm_group=_comm_group(base_dir, doc.get("comm_group"), path),
        placement=placement,
        symmetry=_symmetry(doc.get("symmetry", "auto"), path),
    )


def plain_name(value: Any, path: str) -> str:
    """The run's name; it becomes the folder ``results/<name>``, so it must be one plain
    folder name - ``../x`` or ``a/b`` would write elsewhere than ``results/``."""
    if value is None or value == "":
        return os.path.splitext(os.path.basename(path))[0]
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise InputError(f"name: found {value!r}; expected a plain name (a string): it names "
                         "the folder results/<name>", path)
    name = str(value)
    if name in (".", "..") or "/" in name or "\\" in name or \
            any(ord(char) < 32 for char in name):
        raise InputError(f"name: found {name!r}; expected a plain name (letters, digits, "
                         "'-', '_', '.'; no '/' or '..'): it names the folder results/<name>",
                         path)
    return name


def _symmetry(value: Any, path: str) -> str:
    if value not in ("auto", "off"):
        raise InputError(f"symmetry: found {value!r}; expected auto or off", path)
    return value


def _check_keys(section: dict[str, Any], keys: tuple[str, ...], name: str, path: str) -> None:
    extra = set(section) - set(keys)
    if extra:
        raise InputError(f"{name}: " + expected_one_of(sorted(extra, key=str)[0], keys), path)
    if "backend" in section and "adapter" in section:
        raise InputError(f"{name}: give backend or adapter (the same thing), not both", path)


def _backend(section: dict[str, Any], name: str, choices: tuple[str, ...], default: str,
             path: str) -> str:
    backend = section.get("backend", section.get("adapter", default))
    if backend not in choices:
        raise InputError(f"{name}.backend: " + expected_one_of(str(backend), choices), path)
    return backend


def _placement(section: dict[str, Any], name: str, path: str, base_dir: str
               ) -> AdapterPlacement:
    key = section.get("key")
    if key is not None and (not isinstance(key, str) or not key):
        raise InputError(f"{name}.key: found {key!r}; expected the path of a key file", path)
    placement = AdapterPlacement(section.get("placement", "inprocess"), section.get("endpoint"),
                                 section.get("timeout_s", 30.0),
                                 section.get("transport", "tcp"),
                                 os.path.normpath(os.path.join(base_dir, key)) if key else None,
                                 f"{path}: {name}.key")
    if placement.placement not in PLACEMENTS:
        raise InputError(f"{name}.placement: " + expected_one_of(str(placement.placement),
                                                                 PLACEMENTS), path)
    if placement.transport not in TRANSPORTS:
        raise InputError(f"{name}.transport: " + expected_one_of(str(placement.transport),
                                                                 TRANSPORTS), path)
    if placement.endpoint is not None and (not isinstance(placement.endpoint, str) or
                                           "://" not in placement.endpoint):
        raise InputError(f"{name}.endpoint: found {placement.endpoint!r}; expected e.g. "
                         "tcp://host:5555 or ipc:///path/socket", path)
    timeout = placement.timeout_s
    if not is_number(timeout) or timeout <= 0:
        raise InputError(f"{name}.timeout_s: found {timeout!r}; expected a finite number of "
                         "seconds > 0", path)
    return placement


def _compute(section: Any, base_dir: str, path: str) -> ComputeChoice | None:
    if section is None:
        return None
    if not isinstance(section, dict):
        raise InputError(f"compute: found {section!r}; expected a mapping with backend and "
                         "config", path)
    _check_keys(section, ("backend", "adapter", "config") + _WHERE_KEYS, "compute", path)
    config = section.get("config") or {}
    if isinstance(config, str):
        config = read_mapping(os.path.normpath(os.path.join(base_dir, config)), "compute.config")
    if not isinstance(config, dict):
        raise InputError(f"compute.config: found {config!r}; expected a mapping or the path of "
                         "a YAML/JSON file holding one", path)
    return ComputeChoice(_backend(section, "compute", COMPUTE_BACKENDS, "roofline", path),
                         config, _placement(section, "compute", path, base_dir))


def read_mapping(path: str, what: str) -> dict[str, Any]:
    """A YAML (or JSON, a subset of YAML) file holding one mapping."""
    doc = read_yaml(path, f"{what} file")
    if not isinstance(doc, dict):
        raise InputError(f"{what}: expected a mapping of keys", path)
    return doc


def _comm_group(base_dir: str, value: Any, path: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise InputError(f"comm_group: found {value!r}; expected the path of a groups JSON file",
                         path)
    return os.path.normpath(os.path.join(base_dir, value))
