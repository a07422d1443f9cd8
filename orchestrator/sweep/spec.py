"""The sweep file: a base experiment plus axes, and how the axes expand into points.

```yaml
name: ex2_1_allreduce_size
base: ../tutorial/ex1.yaml         # an experiment YAML (relative to this file), or a mapping
mode: grid                         # grid (default) | zip | random
axes:                              # key path -> the values it takes, in order
  options.comm_scale: [1, 2, 4]
  network.link-bandwidth[0]: [25, 50]
  system.all-reduce-implementation: [ring, halvingDoubling]
# mode: random also takes  samples: K  and  seed: S  (default 0)
```

With ``predict:`` (the options of ``astra-cosim predict``) in place of ``base:``, the sweep is a
parallelism search (``parallelism.py``): its axes name predict's options (``tp``, ``zero``...).

A point is one value per axis. ``grid`` is the cartesian product, the first axis varying
slowest (so the table reads like nested loops); ``zip`` advances all axes together and needs
them of one length; ``random`` draws ``samples`` distinct points of the grid with
``random.Random(seed)``: drawing grid indices without replacement is the same as sampling each
axis uniformly, minus the duplicates that would make two trials one, and it is deterministic
for a seed on every Python version (``Random.sample`` over a ``range``).
"""

from __future__ import annotations

import itertools
import math
import os
import random
from dataclasses import dataclass
from typing import Any


from orchestrator.errors import InputError, expected_one_of
from orchestrator.experiment.load import plain_name, read_yaml
from orchestrator.limits import non_finite
from orchestrator.sweep.config import base_document, check_axis_keys
from orchestrator.sweep.keypath import KeyPathError, Segment, parse_key_path
from orchestrator.sweep.parallelism import JOB_KEYS, check_job

MODES = ("grid", "zip", "random")
_TOP_KEYS = ("name", "description", "base", "predict", "mode", "axes", "samples", "seed")
# What an axis may change: the experiment's keys that describe the run (name does not).
AXIS_ROOTS = ("workload", "system", "network", "options", "comm_group")


@dataclass(frozen=True, slots=True)
class Axis:
    path: str                          # as written in the sweep file; the table's column name
    segments: tuple[Segment, ...]
    values: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class SweepSpec:
    name: str
    source: str                        # the sweep file
    base_dir: str                      # its folder: relative paths in axes start here
    base: dict[str, Any]               # the base experiment, paths absolute (config.py)
    axes: tuple[Axis, ...]
    mode: str = "grid"
    samples: int | None = None
    seed: int = 0
    kind: str = "experiment"           # or "predict": a parallelism search (parallelism.py)


def _whole(doc: dict[str, Any], key: str, path: str, minimum: int) -> int | None:
    value = doc.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InputError(f"{key}: found {value!r}; expected a whole number >= {minimum}", path)
    return value


MAX_POINTS = 1_000_000         # points of one sweep: each is a trial, resolved before any runs


def _axes(doc: dict[str, Any], path: str,
          roots: tuple[str, ...] = AXIS_ROOTS) -> tuple[Axis, ...]:
    raw = doc.get("axes")
    if not isinstance(raw, dict) or not raw:
        raise InputError(f"axes: found {raw!r}; expected a mapping of key paths to lists of "
                         "values, e.g. options.comm_scale: [1, 2, 4]", path)
    axes = []
    for key, values in raw.items():
        try:
            segments = parse_key_path(key)
        except KeyPathError as exc:
            raise InputError(f"axes: {exc}", path) from None
        if segments[0] not in roots or (roots is not AXIS_ROOTS and len(segments) > 1):
            raise InputError(f"axes: {key}: " + expected_one_of(key, roots)
                             + (" as the first key" if roots is AXIS_ROOTS else ""), path)
        if not isinstance(values, list) or not values:
            raise InputError(f"axes: {key}: found {values!r}; expected a non-empty list of "
                             "values", path)
        for number, value in enumerate(values, 1):
            bad = non_finite(value)
            if bad is not None:          # a trial's config is JSON, which has no NaN
                raise InputError(f"axes: {key}: value {number} of {len(values)}{bad[0]} is "
                                 f"{bad[1]}; expected a finite number", path)
        axes.append(Axis(key, segments, tuple(values)))
    return tuple(axes)


def load_sweep(path: str) -> SweepSpec:
    """Read and check a sweep file; the base experiment is read (and its files found) here,
    so a broken base fails before any trial starts."""
    doc = read_yaml(path, "sweep file")
    if not isinstance(doc, dict):
        raise InputError("expected a mapping with keys " + ", ".join(_TOP_KEYS), path)
    unknown = set(doc) - set(_TOP_KEYS)
    if unknown:
        raise InputError("unknown key: " + expected_one_of(sorted(unknown, key=str)[0],
                                                            _TOP_KEYS), path)
    base_dir = os.path.dirname(os.path.abspath(path))
    base = doc.get("base")
    kind = "experiment"
    if "predict" in doc:
        if base is not None:
            raise InputError("give base (an experiment sweep) or predict (a parallelism "
                             "search), not both", path)
        kind = "predict"
        axes = _axes(doc, path, JOB_KEYS)
        base_doc = check_job(doc["predict"], [axis.path for axis in axes], base_dir, path)
    elif isinstance(base, str) and base:
        base_path = os.path.normpath(os.path.join(base_dir, base))
        raw = read_yaml(base_path, "base experiment")
        base_doc = base_document(raw, os.path.dirname(base_path), base_path)
    elif isinstance(base, dict):
        base_doc = base_document(base, base_dir, path)
    else:
        raise InputError(f"base: found {base!r}; expected the path of an experiment YAML or "
                         "an experiment mapping (workload, system, network, options)", path)
    mode = doc.get("mode", "grid")
    if mode not in MODES:
        raise InputError("mode: " + expected_one_of(mode, MODES), path)
    if kind == "experiment":
        axes = _axes(doc, path)
        check_axis_keys(base_doc, [(axis.path, axis.segments) for axis in axes], path)
    samples = _whole(doc, "samples", path, 1)
    seed = _whole(doc, "seed", path, 0)
    if mode != "random" and (samples is not None or seed is not None):
        raise InputError(f"{'samples' if samples is not None else 'seed'}: only used with "
                         f"mode: random (mode is {mode})", path)
    if mode == "random" and samples is None:
        raise InputError("samples: missing; mode: random needs samples: K (and seed: S)", path)
    if mode == "zip":
        lengths = {axis.path: len(axis.values) for axis in axes}
        if len(set(lengths.values())) > 1:
            raise InputError("axes: mode zip needs axes of one length; found "
                             + ", ".join(f"{key}: {n}" for key, n in lengths.items()), path)
    size = math.prod(len(axis.values) for axis in axes)
    if mode == "grid" and size > MAX_POINTS:       # 6 axes of 100 values: 10^12 points
        raise InputError(f"axes: the grid has {size} points; expected at most {MAX_POINTS} "
                         "(fewer values, mode: zip, or mode: random with samples: K)", path)
    if mode == "random" and samples > MAX_POINTS:
        raise InputError(f"samples: found {samples}; expected at most {MAX_POINTS}", path)
    if mode == "random":
        if samples > size:
            raise InputError(f"samples: found {samples}; expected at most {size} (the grid of "
                             "these axes has that many points)", path)
    # the folder results/<name>: '../x' wrote the sweep's results and trials outside it
    name = plain_name(doc.get("name"), path)
    return SweepSpec(name=name, source=path, base_dir=base_dir, base=base_doc, axes=axes,
                     mode=mode, samples=samples, seed=seed or 0, kind=kind)


def expand_points(spec: SweepSpec) -> list[dict[str, Any]]:
    """Every point of the sweep, in table order: ``{axis path: value}``."""
    keys = [axis.path for axis in spec.axes]
    columns = [axis.values for axis in spec.axes]
    if spec.mode == "zip":
        rows = list(zip(*columns))
    elif spec.mode == "grid":
        rows = list(itertools.product(*columns))
    else:
        sizes = [len(values) for values in columns]
        picks = random.Random(spec.seed).sample(range(math.prod(sizes)), spec.samples)
        rows = [_grid_point(index, columns, sizes) for index in picks]
    return [dict(zip(keys, row)) for row in rows]


def _grid_point(index: int, columns: list[tuple[Any, ...]], sizes: list[int]) -> tuple:
    """Grid point number ``index`` in product order (last axis fastest)."""
    picked = []
    for values, size in zip(reversed(columns), reversed(sizes)):
        index, position = divmod(index, size)
        picked.append(values[position])
    return tuple(reversed(picked))
