"""Which models exist, by name, and how to build one from its configuration document.

The engine (in-process placement) and the adapter server (``astra-cosim adapter serve``) both
build models here, so a model added to a table is available in every placement. Entries name
their builder as ``module:function`` and are imported only when used: ns-3 and SCALE-Sim are
optional extras and ns-3 alone takes seconds to import.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

from adapters.base import ComputeModel, NetworkModel
from orchestrator.errors import InputError

NETWORK_MODELS: dict[str, str] = {
    "analytical-v1": "adapters.analytical.models:build_unaware_v1",
    "analytical-v2": "adapters.analytical.models:build_unaware_v2",
    "analytical-v2-aware": "adapters.analytical.models:build_aware_v2",
    "ns3": "adapters.ns3.model:build_ns3",
    "garnet": "adapters.garnet.model:build_garnet",
}

COMPUTE_MODELS: dict[str, str] = {
    "roofline": "adapters.roofline.model:build_roofline",
    "scalesim": "adapters.scalesim.model:build_scalesim",
    "gpu-roofline": "adapters.gpu_roofline.model:build_gpu_roofline",
}

MODELS_BY_KIND = {"network": NETWORK_MODELS, "compute": COMPUTE_MODELS}

# Network models whose delay is a function of (src, dst, bytes) alone, decided at injection
# with no state (the congestion-unaware analytical models: hops x latency + bytes / bandwidth).
# The engine asks such a model once per distinct message shape and reuses the answer, so a
# run's rounds fall to the shapes it meets (docs/cosim.md, "Pure networks").
PURE_NETWORK_MODELS = frozenset({"analytical-v1", "analytical-v2"})


# Models that are plain Python of this project (no backend library, no threads): cheap to
# import into the engine before it forks an adapter child (orchestrator/cosim/spawn.py), which
# then starts with its model loaded. ns-3 and SCALE-Sim load in the child alone.
OWN_MODELS = frozenset({"analytical-v1", "analytical-v2", "analytical-v2-aware", "roofline",
                        "gpu-roofline"})


def _builder(kind: str, name: str, source: str):
    table = MODELS_BY_KIND[kind]
    target = table.get(name)
    if target is None:
        raise InputError(f"unknown {kind} model {name!r}; expected one of {', '.join(table)}",
                         source)
    module, function = target.split(":")
    return getattr(importlib.import_module(module), function)


def preload(kind: str, name: str) -> None:
    """Import a model's module before serving, and run its ``preload()`` when it has one, so
    that an adapter answering the handshake is ready at once (ns-3 imports for seconds)."""
    module = _builder(kind, name, "--preload").__module__
    hook = getattr(importlib.import_module(module), "preload", None)
    if hook is not None:
        hook()


def import_model(kind: str, name: str) -> None:
    """Import a model's module (no ``preload()`` hook)."""
    _builder(kind, name, "--preload")


def _document(config: dict[str, Any] | str) -> dict[str, Any]:
    return json.loads(config) if isinstance(config, str) else config


def build_network(name: str, config: dict[str, Any] | str, source: str = "<adapter>"
                  ) -> NetworkModel:
    """A network model from its name and configuration (a mapping or its JSON text)."""
    return _builder("network", name, source)(_document(config), source)


def build_compute(name: str, config: dict[str, Any] | str, source: str = "<adapter>"
                  ) -> ComputeModel:
    """A compute model from its name and configuration (a mapping or its JSON text)."""
    return _builder("compute", name, source)(_document(config), source)


def build(kind: str, name: str, config: dict[str, Any] | str, source: str = "<adapter>"
          ) -> NetworkModel | ComputeModel:
    return _builder(kind, name, source)(_document(config), source)
