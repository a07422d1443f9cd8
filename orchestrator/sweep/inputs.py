"""Inputs that travel with the trials: files named by content, shipped once, cached per node.

A trial's config names its system and network inside itself (``config.py`` reads them into
mappings), but the workload, the communicator-group file and files named by network options
(``*_file``) stay paths, valid only on the machine that ran ``astra-cosim sweep``. For an
executor whose workers run elsewhere (Ray), the driver turns each such path into a *unit*: a
single file, or every ``PREFIX.<npu>.et`` of a Chakra trace set (gzip-compressed or not),
each member named by its sha256. A unit is put into the cluster's object store once per sweep,
however many trials use it; a trial carries only the units' digests and object references.

On a worker, ``materialise`` writes the members it lacks into the node's cache
(``$ASTRA_COSIM_INPUT_CACHE``, default ``<tmp>/astra-cosim-inputs``: ``blobs/<sha256>``),
checks each against its digest, and lays the unit out under ``units/<digest>/`` with the
original file names, so a trace prefix is again a prefix. Every worker on a node shares that
cache, and a second sweep over the same inputs fetches nothing. The trial then runs with its
paths pointed at the cache; its record keeps the driver's config, and any message naming a
cached path names the driver's path instead, so records (and ``results.csv``) are those the
local executor writes.
"""

from __future__ import annotations

import copy
import glob
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from orchestrator.errors import InputError

CACHE_ENV = "ASTRA_COSIM_INPUT_CACHE"


@dataclass(frozen=True, slots=True)
class Member:
    name: str          # file name inside the unit (basename, or PREFIX.<npu>.et)
    sha256: str


@dataclass(frozen=True, slots=True)
class Unit:
    """One input as the driver sees it: a file, or a trace set named by its prefix."""
    digest: str                      # sha256 over the members' names and digests
    driver_path: str                 # the absolute path (or trace prefix) on the driver
    stem: str                        # basename of driver_path: what the unit is named on a node
    members: tuple[Member, ...]


# Where a trial's config names an input path: (path to the holder, key).
def input_slots(config: dict[str, Any]) -> list[tuple[tuple[str, ...], str]]:
    job = config.get("predict")
    if isinstance(job, dict):       # a parallelism search: model and platform files, if any
        return [(("predict",), key) for key in ("model", "platform")
                if isinstance(job.get(key), str) and os.path.isabs(job[key])]
    workload = config.get("workload")
    slots: list[tuple[tuple[str, ...], str]] = []
    if isinstance(workload, str):
        slots.append(((), "workload"))
    elif isinstance(workload, dict) and len(workload) == 1 and \
            isinstance(next(iter(workload.values())), dict):   # generated.py: its files
        ((kind, spec),) = workload.items()
        slots.extend((("workload", kind), key) for key in ("model", "platform")
                     if isinstance(spec.get(key), str) and os.path.isabs(spec[key]))
    if isinstance(config.get("comm_group"), str):
        slots.append(((), "comm_group"))
    network = config.get("network")
    options = network.get("options") if isinstance(network, dict) else None
    if isinstance(options, dict):
        slots.extend((("network", "options"), key) for key, value in options.items()
                     if key.endswith("_file") and isinstance(value, str))
    return slots


def _holder(config: dict[str, Any], where: tuple[str, ...]) -> dict[str, Any]:
    node = config
    for key in where:
        node = node[key]
    return node


def _file_sha(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as exc:
        raise InputError(f"cannot read input file ({exc.strerror})", path) from None


def describe_unit(path: str) -> Unit:
    """The unit at ``path`` on the driver: the file itself, else the trace set ``path.*.et``."""
    stem = os.path.basename(path)
    if os.path.isfile(path):
        members = [(stem, path)]
    else:
        pattern = re.compile(re.escape(stem) + r"\.(\d+)\.et")
        found = sorted((int(m.group(1)), name) for name in glob.glob(glob.escape(path) + ".*.et")
                       if (m := pattern.fullmatch(os.path.basename(name))))
        # none found: an empty unit, and the trial reports the missing workload exactly as
        # the local executor does
        members = [(os.path.basename(name), name) for _npu, name in found]
    described = tuple(Member(name, _file_sha(full)) for name, full in members)
    total = hashlib.sha256()
    for member in described:
        total.update(f"{member.name}:{member.sha256}\n".encode())
    return Unit(total.hexdigest(), path, stem, described)


def read_unit(unit: Unit) -> list[tuple[str, bytes]]:
    """The members' contents (what is put into the object store)."""
    contents = []
    for member in unit.members:
        full = os.path.join(os.path.dirname(unit.driver_path), member.name)
        with open(full, "rb") as handle:
            contents.append((member.sha256, handle.read()))
    return contents


def trial_units(config: dict[str, Any], base_dir: str,
                known: dict[str, Unit]) -> dict[tuple[tuple[str, ...], str], Unit]:
    """slot -> unit for every input path of a trial; ``known`` caches units by driver path."""
    units = {}
    for where, key in input_slots(config):
        path = os.path.normpath(os.path.join(base_dir, _holder(config, where)[key]))
        if path not in known:
            known[path] = describe_unit(path)
        units[(where, key)] = known[path]
    return units


def cache_dir() -> str:
    return os.environ.get(CACHE_ENV) or os.path.join(tempfile.gettempdir(),
                                                     "astra-cosim-inputs")


def _write_atomic(path: str, data: bytes) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def materialise(unit: Unit, fetch: Callable[[], Iterable[tuple[str, bytes]]],
                root: str | None = None) -> str:
    """The unit's path on this node (a file or a trace prefix), fetching it when not cached.

    ``fetch`` returns ``(sha256, bytes)`` per member; it is called only when a member is
    missing, so a node holding every member never touches the object store."""
    root = root or cache_dir()
    blobs = os.path.join(root, "blobs")
    unit_dir = os.path.join(root, "units", unit.digest)
    target = os.path.join(unit_dir, unit.stem)
    if os.path.isdir(unit_dir):
        return target
    if any(not os.path.isfile(os.path.join(blobs, m.sha256)) for m in unit.members):
        for sha, data in fetch():
            if hashlib.sha256(data).hexdigest() != sha:
                raise RuntimeError(f"input {unit.driver_path}: a member arrived with another "
                                   f"content than its sha256 {sha[:12]}")
            blob = os.path.join(blobs, sha)
            if not os.path.isfile(blob):
                _write_atomic(blob, data)
    os.makedirs(os.path.join(root, "units"), exist_ok=True)
    staging = tempfile.mkdtemp(dir=os.path.join(root, "units"), prefix=".")
    try:
        for member in unit.members:
            blob, link = os.path.join(blobs, member.sha256), os.path.join(staging, member.name)
            try:
                os.link(blob, link)
            except OSError:         # another file system, or no hard links there
                shutil.copyfile(blob, link)
        try:
            os.rename(staging, unit_dir)
        except OSError:             # another worker laid it out first: the same content
            shutil.rmtree(staging, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def localised(config: dict[str, Any], paths: dict[tuple[tuple[str, ...], str], str]
              ) -> dict[str, Any]:
    """A copy of ``config`` whose input paths are the node's (absolute) cached paths."""
    local = copy.deepcopy(config)
    for (where, key), path in paths.items():
        _holder(local, where)[key] = path
    return local


def renamed(text: Any, back: dict[str, str]) -> Any:
    """``text`` with every cached path replaced by the driver's path it stands for."""
    if not isinstance(text, str):
        return text
    for local, driver in sorted(back.items(), key=lambda item: -len(item[0])):
        text = text.replace(local, driver)
    return text
