"""Workloads a sweep generates where its trial runs, instead of shipping them.

In a sweep (base or axis), ``workload`` may be ``{generate: {...}}``, the options of
``astra-cosim workload generate`` with underscores::

    workload: {generate: {model: vgg16, parallelism: DATA, npus: 8, compute: roofline}}
    # axes: {workload.generate.npus: [8, 16]}

The trial's config and key hold that small mapping, not a file, so nothing travels but the
mapping: the first trial on a machine that needs the workload writes it into the machine's
input cache (``inputs.cache_dir()``: ``generated/<sha256 of the mapping>/workload.txt``), and
every later trial there reads it. The generator is deterministic, so every machine writes the
same file and results are those of a workload generated once on the driver. The compute model
runs in the trial's process (``compute_config`` is a mapping of its keys).
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from orchestrator import __version__
from orchestrator.errors import InputError, expected_one_of

KEYS = ("model", "parallelism", "npus", "packages", "tp", "pp", "compute", "compute_config")
_REQUIRED = ("model", "parallelism", "npus", "compute")


def generator_of(workload: Any) -> dict[str, Any] | None:
    """The generator mapping when ``workload`` is ``{generate: {...}}``, else None."""
    if isinstance(workload, dict) and set(workload) == {"generate"} and \
            isinstance(workload["generate"], dict):
        return workload["generate"]
    return None


def check(workload: Any, origin_dir: str, where: str) -> dict[str, Any]:
    """``{generate: {...}}`` checked, a model file made absolute; one-line errors."""
    spec = generator_of(workload)
    if spec is None:
        raise InputError(f"workload: found {workload!r}; expected a file path or "
                         "{generate: {model, parallelism, npus, compute}}", where)
    for key in spec:
        if key not in KEYS:
            raise InputError("workload.generate: unknown key: " + expected_one_of(key, KEYS),
                             where)
    for key in _REQUIRED:
        if key not in spec:
            raise InputError(f"workload.generate: missing {key}; expected "
                             + ", ".join(_REQUIRED), where)
    spec = dict(spec)
    model = spec["model"]
    if isinstance(model, str) and os.path.isfile(os.path.join(origin_dir, model)):
        spec["model"] = os.path.normpath(os.path.join(origin_dir, model))
    return {"generate": spec}


def digest(spec: dict[str, Any]) -> str:
    """sha256 of the generator mapping (a model file by its content) and the version."""
    keyed = dict(spec)
    model = keyed.get("model")
    if isinstance(model, str) and os.path.isabs(model) and os.path.isfile(model):
        with open(model, "rb") as handle:
            keyed["model"] = {"sha256": hashlib.file_digest(handle, "sha256").hexdigest()}
    text = json.dumps({"generate": keyed, "astra_cosim": __version__}, sort_keys=True,
                      separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def generated_path(spec: dict[str, Any], root: str | None = None) -> str:
    """The workload file for ``spec`` on this machine, generated on first use."""
    from orchestrator.cosim.placement import AdapterPlacement, open_compute
    from orchestrator.sweep.inputs import _write_atomic, cache_dir
    from orchestrator.workload.generate.generator import generate
    from orchestrator.workload.generate.model_file import load_model
    from orchestrator.workload.generate.recipes import Parallel
    from orchestrator.workload.generate.writer import format_workload

    path = os.path.join(root or cache_dir(), "generated", digest(spec), "workload.txt")
    if os.path.isfile(path):
        return path
    config = spec.get("compute_config") or {}
    if not isinstance(config, dict):
        raise InputError(f"workload.generate.compute_config: found {config!r}; expected a "
                         "mapping of the compute model's keys")
    compute = open_compute(str(spec["compute"]), config, AdapterPlacement(),
                           "workload.generate.compute")
    try:
        workload = generate(load_model(str(spec["model"])), str(spec["parallelism"]),
                            Parallel(spec["npus"], spec.get("packages"), spec.get("tp"),
                                     spec.get("pp", 1)), compute)
    finally:
        close = getattr(compute, "close", None)
        if close is not None:
            close()
    _write_atomic(path, format_workload(workload).encode("utf-8"))
    return path
