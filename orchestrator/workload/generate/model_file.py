"""Model descriptions (YAML) -> a list of layers with GEMM shapes, checked.

```yaml
name: vgg16
datatype_bytes: 2            # bytes per element of activations, weights and gradients
batch: 256                   # samples per iteration, all NPUs together
update_delay: 1              # cycles per layer, or {wg_divisor: D}: round(wg compute / D)
layers:                      # one of conv / fc / gemm / fixed per layer
  - {name: block1_conv1, conv: {ifmap: [224, 224], filter: [3, 3], channels: 3, filters: 64,
                                stride: 1, padding: same}, bias: true}
  - {name: fc1, fc: {inputs: 25088, outputs: 4096}, bias: true}
  - {name: mm, gemm: {m: 1024, n: 512, k: 256}}          # rows m already count the batch
  - {name: act, fixed: {fwd: 10, ig: 10, wg: 0}}          # cycles, no weights
```

A layer is one GEMM in ASTRA-sim's generator's terms (SEMANTICS §6): ``m`` rows (samples,
times output pixels for a convolution), ``k`` inputs (a convolution's window, plus one row
when ``bias`` folds the bias into the weights, as the tutorial's VGG16 sizes show) and ``n``
outputs. Instead of ``layers``, a model may give ``transformer:`` (blocks, d_model, heads, ffn,
seq, vocab) or ``dlrm:`` (embedding tables, bottom and top MLP widths); the matching
parallelism (TRANSFORMER, DLRM) expands those.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

import yaml

from orchestrator.documents import (MAX_YAML_ITEMS, DuplicateKey, TooManyItems,
                                    _construct_mapping, expanded_items)
from orchestrator.errors import InputError, not_text

PRESET_DIR = os.path.join(os.path.dirname(__file__), "presets")
_TOP_KEYS = ("name", "description", "datatype_bytes", "batch", "update_delay", "layers",
             "transformer", "dlrm")
_KINDS = ("conv", "fc", "gemm", "fixed")


@dataclass(frozen=True, slots=True)
class GemmLayer:
    """A weight layer: an (m x k) by (k x n) product per iteration, on one NPU before
    parallelisation. ``line`` locates it in the model file."""

    name: str
    m: int
    n: int
    k: int
    line: int | None = None


@dataclass(frozen=True, slots=True)
class FixedLayer:
    """A layer SCALE-Sim cannot time (no weights): compute cycles given, no communication."""

    name: str
    fwd: int
    ig: int
    wg: int
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Transformer:
    blocks: int
    d_model: int
    heads: int
    ffn: int
    seq: int
    vocab: int
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Dlrm:
    tables: int
    dim: int
    lookup_cycles: int
    bottom: tuple[int, ...]
    top: tuple[int, ...]
    line: int | None = None


@dataclass(slots=True)
class ModelDescription:
    name: str
    path: str
    datatype_bytes: int
    batch: int
    update_delay: int | None            # fixed cycles, or None with wg_divisor set
    wg_divisor: int | None
    layers: list[GemmLayer | FixedLayer] = field(default_factory=list)
    transformer: Transformer | None = None
    dlrm: Dlrm | None = None


class _LineLoader(yaml.SafeLoader):
    """Safe YAML that remembers the line of every mapping, so errors can point at it."""

    def construct_mapping(self, node, deep=False):
        mapping = _construct_mapping(self, node, deep=deep)     # a key twice: DuplicateKey
        mapping["__line__"] = node.start_mark.line + 1
        return mapping


def preset_names() -> list[str]:
    return sorted(name[:-5] for name in os.listdir(PRESET_DIR) if name.endswith(".yaml"))


def resolve_model_path(name_or_path: str) -> str:
    """A preset name (``vgg16``) or the path of a model file."""
    if os.path.isfile(name_or_path):
        return name_or_path
    preset = os.path.join(PRESET_DIR, name_or_path + ".yaml")
    if os.path.isfile(preset):
        return preset
    raise InputError(f"no such model file or preset; presets: {', '.join(preset_names())}",
                     name_or_path)


def load_model(name_or_path: str) -> ModelDescription:
    path = resolve_model_path(name_or_path)
    try:
        with open(path, encoding="utf-8") as handle:
            doc = yaml.load(handle, Loader=_LineLoader)
    except OSError as exc:
        raise InputError(f"cannot read model file ({exc.strerror})", path) from None
    except UnicodeDecodeError as exc:
        raise InputError(not_text(exc), path) from None
    except DuplicateKey as exc:
        raise InputError(str(exc), path, exc.line) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(f"not valid YAML: {getattr(exc, 'problem', exc)}", path,
                         mark.line + 1 if mark else None) from None
    if expanded_items(doc, MAX_YAML_ITEMS) > MAX_YAML_ITEMS:
        raise InputError(str(TooManyItems(MAX_YAML_ITEMS)), path)
    if not isinstance(doc, dict):
        raise InputError("expected a mapping with keys " + ", ".join(_TOP_KEYS), path)
    return _model(doc, path)


def _keys(doc: dict[str, Any], allowed: tuple[str, ...], what: str, path: str,
          required: tuple[str, ...] = ()) -> int | None:
    line = doc.get("__line__")
    unknown = sorted(set(doc) - set(allowed) - {"__line__"}, key=str)
    if unknown:
        raise InputError(f"{what}: unknown key {unknown[0]!r}; expected {', '.join(allowed)}",
                         path, line)
    missing = [key for key in required if key not in doc]
    if missing:
        raise InputError(f"{what}: missing key {missing[0]!r}", path, line)
    return line


def _positive(doc: dict[str, Any], key: str, what: str, path: str, default: Any = None,
              minimum: int = 1) -> int:
    value = doc.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InputError(f"{what}: {key}: found {value!r}; expected a whole number >= {minimum}",
                         path, doc.get("__line__"))
    return value


def _model(doc: dict[str, Any], path: str) -> ModelDescription:
    _keys(doc, _TOP_KEYS, "model", path, ("datatype_bytes",))
    shapes = [key for key in ("layers", "transformer", "dlrm") if key in doc]
    if len(shapes) != 1:
        raise InputError("model: give exactly one of layers, transformer, dlrm; found "
                         f"{', '.join(shapes) or 'none'}", path, doc.get("__line__"))
    model = ModelDescription(
        name=str(doc.get("name") or os.path.splitext(os.path.basename(path))[0]),
        path=path, datatype_bytes=_positive(doc, "datatype_bytes", "model", path),
        batch=_positive(doc, "batch", "model", path, default=1), update_delay=1,
        wg_divisor=None)
    delay = doc.get("update_delay", 1)
    if isinstance(delay, dict):
        _keys(delay, ("wg_divisor",), "update_delay", path, ("wg_divisor",))
        model.update_delay, model.wg_divisor = None, _positive(delay, "wg_divisor",
                                                               "update_delay", path)
    else:
        model.update_delay = _positive(doc, "update_delay", "model", path, 1, minimum=0)
    if "layers" in doc:
        layers = doc["layers"]
        if not isinstance(layers, list) or not layers:
            raise InputError("layers: expected a non-empty list of layers", path,
                             doc.get("__line__"))
        model.layers = [_layer(entry, index, model, path) for index, entry in enumerate(layers)]
        names = [layer.name for layer in model.layers]
        duplicate = next((name for name in names if names.count(name) > 1), None)
        if duplicate:
            raise InputError(f"layers: the name {duplicate!r} is used twice", path)
    elif "transformer" in doc:
        model.transformer = _transformer(doc["transformer"], path)
    else:
        model.dlrm = _dlrm(doc["dlrm"], path)
    return model


def _layer(entry: Any, index: int, model: ModelDescription, path: str
           ) -> GemmLayer | FixedLayer:
    if not isinstance(entry, dict):
        raise InputError(f"layer {index}: found {entry!r}; expected a mapping with name and one "
                         f"of {', '.join(_KINDS)}", path)
    what = f"layer {entry.get('name', index)!s}"
    line = _keys(entry, ("name", "bias") + _KINDS, what, path, ("name",))
    kinds = [kind for kind in _KINDS if kind in entry]
    if len(kinds) != 1:
        raise InputError(f"{what}: give exactly one of {', '.join(_KINDS)}", path, line)
    kind, spec = kinds[0], entry[kinds[0]]
    if not isinstance(spec, dict):
        raise InputError(f"{what}: {kind}: expected a mapping", path, line)
    spec.setdefault("__line__", line)
    name = str(entry["name"])
    if any(char.isspace() for char in name):
        raise InputError(f"{what}: a layer name cannot contain spaces (the workload format "
                         "separates columns with them)", path, line)
    bias = 1 if entry.get("bias", False) else 0
    if kind == "fixed":
        _keys(spec, ("fwd", "ig", "wg"), f"{what}: fixed", path, ("fwd", "ig", "wg"))
        return FixedLayer(name, *(_positive(spec, key, what, path, minimum=0)
                                  for key in ("fwd", "ig", "wg")), line)
    if kind == "gemm":
        _keys(spec, ("m", "n", "k"), f"{what}: gemm", path, ("m", "n", "k"))
        return GemmLayer(name, _positive(spec, "m", what, path), _positive(spec, "n", what, path),
                         _positive(spec, "k", what, path) + bias, line)
    if kind == "fc":
        _keys(spec, ("inputs", "outputs"), f"{what}: fc", path, ("inputs", "outputs"))
        return GemmLayer(name, model.batch, _positive(spec, "outputs", what, path),
                         _positive(spec, "inputs", what, path) + bias, line)
    return _conv(name, spec, bias, model.batch, what, path, line)


def _pair(spec: dict[str, Any], key: str, what: str, path: str, line: int | None
          ) -> tuple[int, int]:
    value = spec.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value, value]
    if not (isinstance(value, list) and len(value) == 2 and
            all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value)):
        raise InputError(f"{what}: {key}: found {value!r}; expected [height, width] of whole "
                         "numbers >= 1", path, line)
    return value[0], value[1]


def _conv(name: str, spec: dict[str, Any], bias: int, batch: int, what: str, path: str,
          line: int | None) -> GemmLayer:
    _keys(spec, ("ifmap", "filter", "channels", "filters", "stride", "padding"),
          f"{what}: conv", path, ("ifmap", "filter", "channels", "filters"))
    ifmap_h, ifmap_w = _pair(spec, "ifmap", what, path, line)
    filter_h, filter_w = _pair(spec, "filter", what, path, line)
    stride = _positive(spec, "stride", what, path, default=1)
    padding = spec.get("padding", "valid")
    if padding == "same":
        out_h, out_w = math.ceil(ifmap_h / stride), math.ceil(ifmap_w / stride)
    elif padding == "valid":
        if filter_h > ifmap_h or filter_w > ifmap_w:
            raise InputError(f"{what}: filter {filter_h}x{filter_w} is larger than its ifmap "
                             f"{ifmap_h}x{ifmap_w} (padding valid)", path, line)
        out_h = (ifmap_h - filter_h) // stride + 1
        out_w = (ifmap_w - filter_w) // stride + 1
    else:
        raise InputError(f"{what}: padding: found {padding!r}; expected same or valid", path,
                         line)
    channels = _positive(spec, "channels", what, path)
    return GemmLayer(name, batch * out_h * out_w, _positive(spec, "filters", what, path),
                     filter_h * filter_w * channels + bias, line)


def _transformer(spec: Any, path: str) -> Transformer:
    if not isinstance(spec, dict):
        raise InputError("transformer: expected a mapping", path)
    keys = ("blocks", "d_model", "heads", "ffn", "seq", "vocab")
    line = _keys(spec, keys, "transformer", path, keys)
    values = [_positive(spec, key, "transformer", path) for key in keys]
    result = Transformer(*values, line)
    if result.d_model % result.heads:
        raise InputError(f"transformer: d_model {result.d_model} is not a multiple of heads "
                         f"{result.heads}", path, line)
    return result


def _widths(spec: dict[str, Any], key: str, path: str, line: int | None) -> tuple[int, ...]:
    value = spec.get(key)
    if not (isinstance(value, list) and len(value) >= 2 and
            all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value)):
        raise InputError(f"dlrm: {key}: found {value!r}; expected a list of at least two layer "
                         "widths (inputs first)", path, line)
    return tuple(value)


def _dlrm(spec: Any, path: str) -> Dlrm:
    if not isinstance(spec, dict):
        raise InputError("dlrm: expected a mapping", path)
    line = _keys(spec, ("tables", "dim", "lookup_cycles", "bottom", "top"), "dlrm", path,
                 ("tables", "dim", "lookup_cycles", "bottom", "top"))
    return Dlrm(_positive(spec, "tables", "dlrm", path), _positive(spec, "dim", "dlrm", path),
                _positive(spec, "lookup_cycles", "dlrm", path, minimum=0),
                _widths(spec, "bottom", path, line), _widths(spec, "top", path, line), line)
