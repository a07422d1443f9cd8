"""Models called directly by the engine (``--placement inprocess``): the same rounds as over
ZeroMQ, with no transport. Kept apart from ``client.py`` so that an in-process run imports
neither ZeroMQ nor protobuf (start-up time)."""

from __future__ import annotations

from adapters.base import ComputeModel, ComputeRequest, NetworkModel
from orchestrator.errors import AstraCosimError


class AdapterError(AstraCosimError):
    """An adapter that cannot be reached, died, or broke the protocol."""


class _InProcess:
    """A model called directly: no transport, so nothing waited for or moved."""

    def __init__(self, model: NetworkModel | ComputeModel, name: str) -> None:
        self.model = model
        self.name = name
        self.endpoint = "in-process"
        self.wait_s = 0.0
        self.bytes_moved = 0
        self.final_stats: dict[str, float] = {}
        self.failure: str | None = None       # a model called directly is never lost

    def check(self) -> None:
        """A model called directly cannot be lost."""

    def close(self) -> None:
        try:
            stats = sorted(self.model.stats().items())     # in key order, as over the protocol
            self.final_stats = {key: float(value) for key, value in stats}
        finally:
            # a model from outside the project may not derive from adapters/base.py
            close = getattr(self.model, "close", None)
            if close is not None:
                close()


class InProcessClient(_InProcess):
    """A network model called directly; the same rounds as over ZeroMQ."""

    def __init__(self, model: NetworkModel, name: str = "network") -> None:
        super().__init__(model, name)

    def round(self, grant_ns: int, injections: list[tuple[int, int, int, int, int]]
              ) -> tuple[list[tuple[int, int]], int]:
        model = self.model
        for op, src, dst, size, time_ns in injections:
            model.inject(op, src, dst, size, time_ns)
        arrivals = model.advance(grant_ns)
        return arrivals, model.next_event_ns()


class InProcessComputeClient(_InProcess):
    """A compute model called directly; the same rounds as over ZeroMQ."""

    def __init__(self, model: ComputeModel, name: str = "compute") -> None:
        super().__init__(model, name)

    def compute_round(self, grant_ns: int, requests: list[tuple[int, int, ComputeRequest]]
                      ) -> list[tuple[int, int]]:
        durations = self.model.durations_ns([request for _, _, request in requests])
        return [(op, grant_ns + duration)
                for (op, _, _), duration in zip(requests, durations)]
