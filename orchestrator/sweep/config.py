"""A trial's resolved config (one self-contained experiment document) and its key.

The base experiment and a point's values combine into a document with the keys of an
experiment YAML, in which ``system`` and ``network.config`` are always mappings: a file given
by path is read here, with the project's own readers, into the mapping its keys describe
(1.0 ``key: value`` system -> mapping of strings; 1.0 network JSON, 2.x network YAML and 2.x
system JSON -> their documents). So an axis can edit any key of any of them
(``network.link-bandwidth[1]``), and the document stored with a trial's result says exactly
what ran; a compute config given by path is read into its mapping too. Only the workload (and
a 2.x communicator-group file, and files named by network options) stay paths: traces are
large, and they are named by content in the key instead (``inputs.py`` ships them to machines
that lack them). A generated workload stays the generator's options (``generated.py``); the
LLM generator's may leave system, network model and groups to the generator.

The key is the sha256 of the canonical JSON (sorted keys, no spaces) of that document without
what cannot change a result: the trial's name, the network's placement (results are identical
in every placement, docs/cosim.md) and the paths of the workload and group files, which are
replaced by the sha256 of their contents. So results survive moving the checkout, and editing
a workload file gives new keys rather than stale results. The package version is part of the
key, so results of another version are not reused.
"""

from __future__ import annotations

import copy
import glob
import hashlib
import json
import os
import re
from dataclasses import dataclass
from typing import Any

from adapters.analytical.config_v1 import read_v1_network_doc
from adapters.analytical.config_v2 import read_v2_network_doc
from orchestrator import __version__
from orchestrator.errors import InputError
from orchestrator.experiment.load import experiment_from_mapping, read_mapping, validate_options
from orchestrator.experiment.runner import input_format
from orchestrator.experiment.system_file import read_v1_system_items
from orchestrator.experiment.system_json import read_v2_system_doc
from orchestrator.sweep import generated
from orchestrator.sweep.keypath import KeyPathError, Segment, parse_key_path, set_path

# Keys of the experiment's network mapping that are not network-model keys (load.py's
# network section: an axis network.transport edits the section, not the model).
NETWORK_WRAPPER_KEYS = ("backend", "adapter", "config", "options", "placement", "transport",
                        "endpoint", "timeout_s", "key")
_PLACEMENT_KEYS = ("placement", "endpoint", "timeout_s")
# Paths whose string values are file paths (relative to the file that wrote them).
_FILE_PATHS = (("workload",), ("system",), ("network", "config"), ("comm_group",))


@dataclass(frozen=True, slots=True)
class Resolved:
    config: dict[str, Any]       # the experiment document; paths relative to the sweep file
    key: str                     # sha256 hex of the canonical key document
    added: tuple[str, ...]       # key paths the point added (they were not in the base)


def base_document(raw: Any, origin_dir: str, where: str) -> dict[str, Any]:
    """The base experiment with absolute paths and ``network`` as ``{backend, config, ...}``.

    It is checked first exactly as ``astra-cosim run`` would check it, so a sweep over a broken
    base stops at once instead of recording the same error for every trial."""
    workload = raw.get("workload") if isinstance(raw, dict) else None
    llm = False
    if isinstance(workload, dict):      # generated where the trial runs (generated.py)
        workload = generated.check(workload, origin_dir, where)
        llm = generated.LLM in workload
        # the rest is checked as run would; the generator's files do not exist yet, and the
        # LLM generator's system and network stand in for those the experiment leaves out
        probe = {**raw, "workload": "generated.txt"}
        if llm:
            probe.setdefault("system", {})
            if generated.wrapper_only(raw.get("network")):
                probe["network"] = {**(raw.get("network") or {}), "config": {}}
        experiment_from_mapping(probe, where, origin_dir)
    else:
        experiment_from_mapping(raw, where, origin_dir)
    doc = {key: copy.deepcopy(value) for key, value in raw.items()
           if key not in ("name", "description")}
    if isinstance(workload, dict):
        doc["workload"] = workload
    network = doc.get("network")
    if llm and generated.wrapper_only(network):
        network = {"backend": "analytical", **(network or {})}      # the generator's model
    elif not (isinstance(network, dict) and "config" in network):
        network = {"backend": "analytical", "config": network}
    doc["network"] = network
    for segments in _FILE_PATHS:
        _absolute(doc, segments, origin_dir)
    compute = doc.get("compute")
    if isinstance(compute, dict) and isinstance(compute.get("config"), str):
        # read here, like the system: it travels inside the trial to any machine
        compute["config"] = read_mapping(os.path.join(origin_dir, compute["config"]),
                                         "compute.config")
    network = doc["network"]
    if isinstance(network.get("options"), dict):      # ns-3's topology_file and the like
        network["options"] = {
            key: os.path.normpath(os.path.join(origin_dir, value))
            if str(key).endswith("_file") and isinstance(value, str) else value
            for key, value in network["options"].items()}
    doc["options"] = dict(doc.get("options") or {})
    return doc


def resolve_point(base: dict[str, Any], point: dict[str, Any], sweep_dir: str, where: str,
                  digests: dict[str, str] | None = None) -> Resolved:
    """The trial for one point: ``point`` maps axis paths (as written) to values."""
    doc = copy.deepcopy(base)
    edits = []
    for text, value in point.items():
        edits.append((text, axis_segments(parse_key_path(text)), copy.deepcopy(value)))
    # Whole sections first (a new system file), then keys inside them.
    edits.sort(key=lambda edit: len(edit[1]))
    added = []
    for text, segments, value in edits:
        if segments == ("network",):        # a whole network: file path or mapping
            if not (isinstance(value, dict) and "config" in value):
                value = {"backend": doc["network"].get("backend", "analytical"),
                         "config": value}
            if isinstance(value["config"], str):
                value["config"] = os.path.normpath(os.path.join(sweep_dir, value["config"]))
        elif segments in _FILE_PATHS and isinstance(value, str):
            value = os.path.normpath(os.path.join(sweep_dir, value))
        if segments[0] == "system" and len(segments) > 1:
            _materialise(doc, "system", where)
        elif segments[:2] == ("network", "config") and len(segments) > 2:
            _materialise(doc, "network", where)
        try:
            if set_path(doc, segments, value):
                added.append(text)
        except KeyPathError as exc:
            raise InputError(f"axes: {text}: {exc}", where) from None
    if isinstance(doc["workload"], dict):
        doc["workload"] = generated.check(doc["workload"], sweep_dir, where)
    _materialise(doc, "system", where)
    _materialise(doc, "network", where)
    _normalise(doc)
    key = trial_key(doc, digests if digests is not None else {})
    workload = doc["workload"]
    config = {"workload": workload if isinstance(workload, dict)
              else _relative(workload, sweep_dir)}
    config.update((k, v) for k, v in doc.items() if k not in ("workload", "comm_group"))
    if doc.get("comm_group") is not None:
        config["comm_group"] = _relative(doc["comm_group"], sweep_dir)
    return Resolved(config, key, tuple(added))


def axis_segments(segments: tuple[Segment, ...]) -> tuple[Segment, ...]:
    """The path an axis edits: ``network.link-bandwidth`` is a network-model key, so
    ``network.config.link-bandwidth``."""
    if segments[0] == "network" and len(segments) > 1 and \
            segments[1] not in NETWORK_WRAPPER_KEYS:
        return ("network", "config", *segments[1:])
    return segments


def check_axis_keys(base: dict[str, Any], paths: list[tuple[str, tuple[Segment, ...]]],
                    where: str) -> None:
    """Before any trial: two axes that edit one key (``network.link-bandwidth[0]`` and
    ``network.config.link-bandwidth[0]``: the table showed one value, the trial ran the
    other), and an axis over a key the inputs of this generation do not have (every trial
    failed, or ran unchanged) are refused, naming the sweep file."""
    from adapters.analytical import config_v1, config_v2
    from orchestrator.errors import expected_one_of
    from orchestrator.experiment import system_file, system_json
    from orchestrator.experiment.load import OPTION_KEYS

    seen: dict[tuple[Segment, ...], str] = {}
    for text, segments in paths:
        target = axis_segments(segments)
        if target in seen:
            dotted = "".join(f"[{part}]" if isinstance(part, int) else f".{part}"
                             for part in target)[1:]
            raise InputError(f"axes: {seen[target]} and {text} both edit {dotted}; expected "
                             "one axis per key", where)
        seen[target] = text
    if any(segments[0] == "workload" for _, segments in paths):
        return          # the generation may differ from point to point
    v1 = _v1(base)
    system_keys = (tuple(system_file._PARSERS) + tuple(system_file.IGNORED_KEYS)) if v1 else \
        (system_json._SHARED_KEYS + system_json._V2_ONLY + tuple(system_json._NO_EFFECT))
    network_keys = (config_v1._REQUIRED + config_v1._PER_DIM_OPTIONAL +
                    config_v1._OTHER_OPTIONAL) if v1 else config_v2.KEYS
    generation = "ASTRA-sim 1.0" if v1 else "ASTRA-sim 2.x"
    for text, segments in paths:
        target = axis_segments(segments)
        if target[0] == "options" and len(target) > 1:
            key, valid, what = target[1], OPTION_KEYS, "option"
        elif target[0] == "system" and len(target) > 1:
            key, valid, what = target[1], system_keys, f"{generation} system key"
        elif target[:2] == ("network", "config") and len(target) > 2:
            key, valid, what = target[2], network_keys, f"{generation} network key"
        else:
            continue
        if key not in valid:
            raise InputError(f"axes: {text}: not an {what}: " + expected_one_of(key, valid),
                             where)


def trial_key(doc: dict[str, Any], digests: dict[str, str]) -> str:
    """sha256 of the canonical key document (see the module docstring for what it holds)."""
    keyed = {key: value for key, value in doc.items()
             if key not in ("name", "description", "workload", "comm_group")}
    keyed["network"] = {key: value for key, value in doc["network"].items()
                        if key not in _PLACEMENT_KEYS}
    found = generated.kind_of(doc["workload"])
    keyed["inputs"] = {
        "workload": ("generated:" + generated.digest(found[1], found[0])) if found is not None
        else _digest(doc["workload"], digests, workload=True),
        "comm_group": (_digest(doc["comm_group"], digests, workload=False)
                       if doc.get("comm_group") else None),
    }
    keyed["astra_cosim"] = __version__
    return hashlib.sha256(canonical_json(keyed).encode("utf-8")).hexdigest()


def canonical_json(doc: Any) -> str:
    try:
        return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InputError(f"a trial's config is not plain JSON data ({exc}); axis values must "
                         "be numbers, strings, booleans, lists or mappings") from None


def _absolute(doc: dict[str, Any], segments: tuple[Segment, ...], origin_dir: str) -> None:
    node = doc
    for segment in segments[:-1]:
        node = node.get(segment) if isinstance(node, dict) else None
    last = segments[-1]
    if isinstance(node, dict) and isinstance(node.get(last), str):
        node[last] = os.path.normpath(os.path.join(origin_dir, node[last]))


def _materialise(doc: dict[str, Any], section: str, where: str) -> None:
    """Read a system or network file named by path into the mapping of its keys."""
    holder, key = (doc, "system") if section == "system" else (doc["network"], "config")
    path = holder.get(key)
    if not isinstance(path, str):
        return
    v1 = _v1(doc)
    if section == "system":
        if v1:
            holder[key] = {k: v for k, v, _line in read_v1_system_items(path)}
        else:
            holder[key] = read_v2_system_doc(path)
    else:
        holder[key] = read_v1_network_doc(path) if v1 else read_v2_network_doc(path)
    if not isinstance(holder[key], dict):
        raise InputError(f"{section}: the file does not hold a mapping of keys, so no key "
                         "path can point into it", path)


def _normalise(doc: dict[str, Any]) -> None:
    """One spelling per meaning, so equal configs get equal keys: 1.0 system values are the
    strings the file would hold (``10`` and ``"10"`` are one value there), options are the
    validated numbers (``comm_scale: 2`` is 2.0)."""
    if isinstance(doc.get("system"), dict) and _v1(doc):
        doc["system"] = {k: (str(v) if isinstance(v, (str, int, float)) else v)
                         for k, v in doc["system"].items()}
    try:
        options = validate_options(doc.get("options") or {}, None)
    except InputError:
        return          # left as written: the trial records the error when it runs
    doc["options"] = {name: getattr(options, name) for name in options.__dataclass_fields__}


def _v1(doc: dict[str, Any]) -> bool:
    """Whether the workload is a 1.0 one (``workload generate``'s is; the LLM generator's
    Chakra traces are not)."""
    found = generated.kind_of(doc["workload"])
    if found is not None:
        return found[0] == generated.GENERATE
    return input_format(doc["workload"]) == "v1"


def _relative(path: str, start: str) -> str:
    try:
        return os.path.relpath(path, start)
    except ValueError:      # another drive (Windows): keep it absolute
        return path


def _digest(path: str, cache: dict[str, str], *, workload: bool) -> str:
    """sha256 of a file, or of every ``PREFIX.<npu>.et`` of a 2.x trace prefix."""
    if path in cache:
        return cache[path]
    if workload and not os.path.isfile(path):
        pattern = re.compile(re.escape(os.path.basename(path)) + r"\.(\d+)\.et")
        files = sorted((int(m.group(1)), name) for name in glob.glob(glob.escape(path) + ".*.et")
                       if (m := pattern.fullmatch(os.path.basename(name))))
    else:
        files = [(0, path)]
    total = hashlib.sha256()
    for npu, name in files:
        try:
            with open(name, "rb") as handle:
                digest = hashlib.file_digest(handle, "sha256").hexdigest()
        except OSError as exc:
            raise InputError(f"cannot read input file ({exc.strerror})", name) from None
        total.update(f"{npu}:{digest}\n".encode())
    cache[path] = total.hexdigest()
    return cache[path]
