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

``workload: {llm: {...}}`` does the same with the LLM generator (``astra-cosim workload llm``'s
options with underscores: model, platform, tp, pp, dp, cp, ep, global_batch, micro_batch, ...)::

    workload: {llm: {model: llama3-8b, platform: dgx-h100, tp: 2, pp: 2, dp: 2,
                     global_batch: 8}}
    # axes: {workload.llm.tp: [2, 4]}

Its Chakra trace set, system, network and communicator groups are written together into
``generated/<sha256>/`` of the machine's cache. The experiment's ``system``, ``network``
(``config``) and ``comm_group`` may then be left out: the generator's are used (a ``network``
of only ``backend:`` and the like picks the backend for the generator's network).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
from typing import Any

from orchestrator import __version__
from orchestrator.errors import InputError, expected_one_of
from orchestrator.workload.generate.llm.parallel import ParallelConfig

KEYS = ("model", "parallelism", "npus", "packages", "tp", "pp", "compute", "compute_config")
_REQUIRED = ("model", "parallelism", "npus", "compute")
GENERATE, LLM = "generate", "llm"
# the LLM generator's options: the job's model, platform and dtype, and its parallel split
LLM_KEYS = ("model", "platform", "dtype",
            *(field.name for field in dataclasses.fields(ParallelConfig)))
_LLM_REQUIRED = ("model", "platform", "global_batch")
LLM_STEM = "llm"            # generated/<sha256>/llm.<rank>.et, llm.system.json, ...


def kind_of(workload: Any) -> tuple[str, dict[str, Any]] | None:
    """(``generate`` or ``llm``, its options) when ``workload`` is a generator, else None."""
    if isinstance(workload, dict) and len(workload) == 1:
        ((kind, spec),) = workload.items()
        if kind in (GENERATE, LLM) and isinstance(spec, dict):
            return kind, spec
    return None


def generator_of(workload: Any) -> dict[str, Any] | None:
    """The generator mapping when ``workload`` is ``{generate: {...}}``, else None."""
    found = kind_of(workload)
    return found[1] if found is not None and found[0] == GENERATE else None


def check(workload: Any, origin_dir: str, where: str) -> dict[str, Any]:
    """``{generate: {...}}`` or ``{llm: {...}}`` checked, model (and platform) files made
    absolute; one-line errors."""
    found = kind_of(workload)
    if found is None:
        raise InputError(f"workload: found {workload!r}; expected a file path, "
                         "{generate: {model, parallelism, npus, compute}} or "
                         "{llm: {model, platform, global_batch, tp, pp, dp, ...}}", where)
    if found[0] == LLM:
        return {LLM: _check_llm(found[1], origin_dir, where)}
    spec = found[1]
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


def _check_llm(spec: dict[str, Any], origin_dir: str, where: str) -> dict[str, Any]:
    for key in spec:
        if key not in LLM_KEYS:
            raise InputError("workload.llm: unknown key: " + expected_one_of(key, LLM_KEYS),
                             where)
    for key in _LLM_REQUIRED:
        if key not in spec:
            raise InputError(f"workload.llm: missing {key}; expected "
                             + ", ".join(_LLM_REQUIRED), where)
    spec = dict(spec)
    for key in ("model", "platform"):
        value = spec[key]
        if isinstance(value, str) and os.path.isfile(os.path.join(origin_dir, value)):
            spec[key] = os.path.normpath(os.path.join(origin_dir, value))
    return spec


def digest(spec: dict[str, Any], kind: str = GENERATE) -> str:
    """sha256 of the generator mapping (model and platform files by their content) and the
    version."""
    keyed = dict(spec)
    for key in ("model", "platform"):
        value = keyed.get(key)
        if isinstance(value, str) and os.path.isabs(value) and os.path.isfile(value):
            with open(value, "rb") as handle:
                keyed[key] = {"sha256": hashlib.file_digest(handle, "sha256").hexdigest()}
    text = json.dumps({kind: keyed, "astra_cosim": __version__}, sort_keys=True,
                      separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def llm_files(spec: dict[str, Any], root: str | None = None) -> dict[str, str]:
    """The LLM generator's trace prefix and its system, network and groups files on this
    machine, written on first use (into a staging folder renamed whole, so a trial never
    sees half a trace set)."""
    from orchestrator.sweep.inputs import cache_dir
    from orchestrator.sweep.parallelism import build_job
    from orchestrator.workload.generate.llm.generate import write_llm_traces

    parent = os.path.join(root or cache_dir(), "generated")
    folder = os.path.join(parent, digest(spec, LLM))
    prefix = os.path.join(folder, LLM_STEM)
    files = {"workload": prefix, "system": prefix + ".system.json",
             "network": prefix + ".network.yml", "comm_group": prefix + ".groups.json"}
    if os.path.isdir(folder):
        return files
    model, platform, par = build_job(spec)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(dir=parent, prefix=".")
    try:
        write_llm_traces(model, par, platform, os.path.join(staging, LLM_STEM),
                         str(spec.get("dtype", "bf16")))
        try:
            os.rename(staging, folder)
        except OSError:         # another worker wrote it first: the same files
            shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return files


def realised(config: dict[str, Any]) -> dict[str, Any]:
    """A trial's config with a generated workload replaced by its files on this machine (and,
    for the LLM generator, its system, network and groups where the config names none)."""
    found = kind_of(config["workload"])
    if found is None:
        return config
    kind, spec = found
    if kind == GENERATE:
        return {**config, "workload": generated_path(spec)}
    files = llm_files(spec)
    config = {**config, "workload": files["workload"]}
    config.setdefault("system", files["system"])
    config.setdefault("comm_group", files["comm_group"])
    network = dict(config.get("network") or {})
    network.setdefault("config", files["network"])
    config["network"] = network
    return config


def wrapper_only(network: Any) -> bool:
    """Whether an LLM-generated trial's ``network`` leaves out the model (no ``config``):
    nothing, or a mapping of wrapper keys such as ``backend:`` only."""
    from orchestrator.sweep.config import NETWORK_WRAPPER_KEYS

    return network is None or isinstance(network, dict) and "config" not in network and \
        set(network) <= {*NETWORK_WRAPPER_KEYS, "adapter", "options"}


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
