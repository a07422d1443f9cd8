"""The SCALE-Sim adapter's configuration: SCALE-Sim's own ``.cfg`` keys, presets, checks.

Keys keep the spelling of SCALE-Sim's ``[architecture_presets]`` / ``[run_presets]`` sections
so a ``.cfg`` file translates line by line; SCALE-Sim 3.0's ``[layout]`` bank counts ``IfmapSRAMBankNum`` / ``FilterSRAMBankNum`` matter only
with ``InterfaceBandwidth: USER`` (the bandwidth is split over the banks). Three keys are ours:

* ``preset``: start from a named configuration (``tpu-256x256-ws``: SCALE-Sim v2's
  ``configs/google.cfg``, which ASTRA-sim's workload generator used, SEMANTICS §6) and override
  any key after it;
* ``mode``: ``full`` simulates the whole layer; ``fold`` simulates one fold of the systolic
  array and scales by the number of folds (exact where SCALE-Sim is stall-free, i.e. with
  ``InterfaceBandwidth: CALC``; tests/adapters/scalesim/test_fold.py holds the equality). Large
  GEMMs (GPT-3's) need ``fold``: a full SCALE-Sim run builds demand matrices of
  cycles x array width and would take tens of GB and hours;
* ``cache``: the results file (default ``~/.cache/astra-cosim/scalesim/results.sqlite``,
  or ``$ASTRA_COSIM_CACHE_DIR/scalesim/results.sqlite``), or ``off``.

Cycles are nanoseconds (ASTRA-sim 1.0 counts 1 cycle = 1 ns).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

from orchestrator.errors import InputError

DATAFLOWS = ("os", "ws", "is")
BANDWIDTH_MODES = ("CALC", "USER")
MODES = ("full", "fold")

# SCALE-Sim v2 configs/google.cfg (a TPU v1-like array), as ASTRA-sim 1.0's generator ran it.
PRESETS: dict[str, dict[str, Any]] = {
    "tpu-256x256-ws": {
        "ArrayHeight": 256, "ArrayWidth": 256,
        "IfmapSramSzkB": 6144, "FilterSramSzkB": 6144, "OfmapSramSzkB": 2048,
        "Dataflow": "ws", "Bandwidth": 10, "InterfaceBandwidth": "CALC",
        "mode": "fold",
    },
}

_DEFAULTS: dict[str, Any] = {
    "IfmapSramSzkB": 6144, "FilterSramSzkB": 6144, "OfmapSramSzkB": 2048,
    "Dataflow": "ws", "Bandwidth": 10, "InterfaceBandwidth": "CALC", "mode": "full",
    "IfmapSRAMBankNum": 10, "FilterSRAMBankNum": 10,     # SCALE-Sim 3.0's [layout] defaults
}
_INT_KEYS = ("ArrayHeight", "ArrayWidth", "IfmapSramSzkB", "FilterSramSzkB", "OfmapSramSzkB",
             "Bandwidth", "IfmapSRAMBankNum", "FilterSRAMBankNum")
KEYS = _INT_KEYS + ("Dataflow", "InterfaceBandwidth", "mode", "preset", "cache")


@dataclass(frozen=True, slots=True)
class ScaleSimConfig:
    """Everything that decides a cycle count (the cache key is built from it)."""

    array_height: int
    array_width: int
    ifmap_sram_kb: int
    filter_sram_kb: int
    ofmap_sram_kb: int
    dataflow: str
    bandwidth_words_per_cycle: int
    interface_bandwidth: str
    mode: str
    ifmap_sram_banks: int = 10
    filter_sram_banks: int = 10

    def key_fields(self) -> dict[str, Any]:
        return asdict(self)


def default_cache_path() -> str:
    root = os.environ.get("ASTRA_COSIM_CACHE_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "astra-cosim")
    return os.path.join(root, "scalesim", "results.sqlite")


def parse_config(doc: dict[str, Any], source: str) -> tuple[ScaleSimConfig, str | None]:
    """(config, cache path or None) from the adapter's configuration mapping."""
    if not isinstance(doc, dict):
        raise InputError(f"scalesim: found {doc!r}; expected a mapping of SCALE-Sim keys",
                         source)
    unknown = sorted(set(doc) - set(KEYS), key=str)
    if unknown:
        raise InputError(f"scalesim: unknown key(s) {', '.join(map(str, unknown))}; expected "
                         f"{', '.join(KEYS)}", source)
    values = dict(_DEFAULTS)
    preset = doc.get("preset")
    if preset is not None:
        if preset not in PRESETS:
            raise InputError(f"scalesim: preset: found {preset!r}; expected one of "
                             f"{', '.join(PRESETS)}", source)
        values.update(PRESETS[preset])
    values.update({key: value for key, value in doc.items() if key not in ("preset", "cache")})
    for key in ("ArrayHeight", "ArrayWidth"):
        if key not in values:
            raise InputError(f"scalesim: missing key {key} (or give a preset: "
                             f"{', '.join(PRESETS)})", source)
    for key in _INT_KEYS:
        value = values[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InputError(f"scalesim: {key}: found {value!r}; expected a whole number >= 1",
                             source)
    choices = (("Dataflow", DATAFLOWS), ("InterfaceBandwidth", BANDWIDTH_MODES),
               ("mode", MODES))
    for key, valid in choices:
        if values[key] not in valid:
            raise InputError(f"scalesim: {key}: found {values[key]!r}; expected one of "
                             f"{', '.join(valid)}", source)
    if values["mode"] == "fold" and values["InterfaceBandwidth"] != "CALC":
        raise InputError("scalesim: mode fold is exact only where SCALE-Sim never stalls "
                         "(InterfaceBandwidth: CALC); use mode: full with USER bandwidth",
                         source)
    if values["InterfaceBandwidth"] == "USER":
        for key in ("IfmapSRAMBankNum", "FilterSRAMBankNum"):
            if values["Bandwidth"] % values[key]:
                raise InputError(f"scalesim: with USER bandwidth, Bandwidth "
                                 f"({values['Bandwidth']} words/cycle) must split evenly over "
                                 f"{key} ({values[key]} banks)", source)
    config = ScaleSimConfig(values["ArrayHeight"], values["ArrayWidth"],
                            values["IfmapSramSzkB"], values["FilterSramSzkB"],
                            values["OfmapSramSzkB"], values["Dataflow"], values["Bandwidth"],
                            values["InterfaceBandwidth"], values["mode"],
                            values["IfmapSRAMBankNum"], values["FilterSRAMBankNum"])
    return config, _cache_path(doc.get("cache"), source)


def _cache_path(value: Any, source: str) -> str | None:
    if value is None:
        return default_cache_path()
    if value is False or value == "off":
        return None
    if isinstance(value, str) and value:
        return os.path.expanduser(value)
    raise InputError(f"scalesim: cache: found {value!r}; expected a file path or off", source)
