"""SCALE-Sim as a compute model: a GEMM or convolution request -> cycles (= ns), cached.

Requests go cache first, then SCALE-Sim (adapters/scalesim/simulate.py); an answer is stored
as soon as it is known, so a run killed half-way keeps what it paid for. ``stats()`` reports
requests, cache hits and simulations, which is how a second run proves it simulated nothing.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

from adapters.base import ComputeModel, ComputeRequest
from adapters.scalesim.cache import CycleCache, cache_key
from adapters.scalesim.config import ScaleSimConfig, parse_config
from adapters.scalesim.simulate import check_available, layer_cycles, request_layer


class ScaleSimModel(ComputeModel):
    pure = True

    def __init__(self, config: ScaleSimConfig, cache: CycleCache | None, source: str) -> None:
        self.config = config
        self.cache = cache
        self.source = source
        self.version = metadata.version("scalesim")
        self.requests = 0
        self.cache_hits = 0
        self.simulations = 0

    def duration_ns(self, request: ComputeRequest) -> int:
        self.requests += 1
        layer = request_layer(request, self.source)
        key = cache_key(self.version, self.config.key_fields(), request)
        if self.cache is not None:
            cycles = self.cache.get(key)
            if cycles is not None:
                self.cache_hits += 1
                return cycles
        cycles = layer_cycles(self.config, layer, self.source)
        self.simulations += 1
        if self.cache is not None:
            self.cache.put(key, cycles, repr(layer))
        return cycles

    def durations_ns(self, requests: list[ComputeRequest]) -> list[int]:
        """Each distinct request once: a round often repeats a shape on many NPUs."""
        answers: dict[ComputeRequest, int] = {}
        for request in requests:
            if request not in answers:
                answers[request] = self.duration_ns(request)
        return [answers[request] for request in requests]

    def stats(self) -> dict[str, int]:
        return {"requests": self.requests, "cache_hits": self.cache_hits,
                "simulations": self.simulations}


def build_scalesim(doc: dict[str, Any], source: str) -> ScaleSimModel:
    config, cache_path = parse_config(doc, source)
    check_available(source)
    return ScaleSimModel(config, CycleCache(cache_path) if cache_path else None, source)
