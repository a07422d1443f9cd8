"""The adapter specs: what a network or compute model must provide, wherever it runs.

Network
-------

A network model only decides *when messages arrive*; matching sends with receives is the
engine's business (orchestrator/cosim/port.py), so a model holds no handlers and can sit in
another process. The engine drives it in rounds (docs/cosim.md):

* ``inject(op, src, dst, size, time)``: a message enters the network at ``time``; injections
  come in time order, never earlier than the last grant;
* ``advance(grant)``: process the model's own events strictly before ``grant`` — and no further
  than the earliest arrival decided on the way, whose handler may inject at that time — and
  return the arrivals decided since the last call, as ``(op, time)`` pairs; an arrival once
  reported is final;
* ``next_event_ns()``: the earliest event still pending (``NEVER`` when idle);
* ``lookahead_ns``: no injection at time t changes anything before t + lookahead.

Within one nanosecond a model processes its own events before injections stamped with that
nanosecond, so a run gives the same result wherever the model runs.

Compute
-------
A compute model answers how long one operation takes on one NPU: ``duration_ns(request)``.
The duration is known the moment the request is issued (the compute model's lookahead is the
whole duration), so the engine batches the requests of one instant into one round
(docs/cosim.md). A model declares ``pure = True`` when a duration depends on the request
alone; the engine then asks once per distinct request and reuses the answer.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

NEVER = 1 << 62


class NetworkModel(ABC):
    kind = "network"
    # True when every arrival is known the moment its message is injected (no internal
    # dynamics): such a model can be synchronised even without lookahead, one round per send.
    decides_at_injection = False

    @property
    @abstractmethod
    def lookahead_ns(self) -> int:
        """Minimum delay between an injection and any effect of it."""

    @abstractmethod
    def inject(self, op: int, src: int, dst: int, size_bytes: int, time_ns: int) -> None:
        """A message enters the network."""

    @abstractmethod
    def advance(self, grant_ns: int) -> list[tuple[int, int]]:
        """Run the model's own events before ``grant_ns``; return new (op, arrival) pairs."""

    @abstractmethod
    def next_event_ns(self) -> int:
        """Earliest pending event of the model, or ``NEVER``."""

    def stats(self) -> dict[str, int]:
        return {}

    def close(self) -> None:
        """The run is over: release what the model holds beyond memory (a simulator child
        process). Called once, after ``stats``, wherever the model is placed."""


def undelivered_text(pending: dict[int, tuple[int, int, int, int]], limit: int = 5) -> str:
    """Messages a packet-level model still owes, ``op -> (src, dst, bytes, injected at)``, as
    the first few for an error message (a watchdog or a model that ran dry)."""
    rows = list(pending.items())
    text = ", ".join(f"op {op} NPU {src} -> {dst} ({size} bytes, injected at {at} ns)"
                     for op, (src, dst, size, at) in rows[:limit])
    more = len(rows) - limit
    return (text or "none") + (f" and {more} more" if more > 0 else "")


@dataclass(frozen=True, slots=True)
class ComputeRequest:
    """One operation to time. ``kind`` says which fields hold its shape:

    * ``ops``: ``num_ops`` operations touching ``tensor_bytes`` bytes (Chakra COMP nodes);
    * ``gemm``: an (M x K) by (K x N) matrix product;
    * ``conv``: a convolution layer as SCALE-Sim describes one (IFMAP height and width, filter
      height and width, channels, number of filters, stride).

    Hashable, so a pure model's answers can be reused per distinct request.
    """

    kind: str
    num_ops: int = 0
    tensor_bytes: int = 0
    m: int = 0
    n: int = 0
    k: int = 0
    ifmap_h: int = 0
    ifmap_w: int = 0
    filter_h: int = 0
    filter_w: int = 0
    channels: int = 0
    filters: int = 0
    stride: int = 1

    KINDS = ("ops", "gemm", "conv")

    @classmethod
    def ops(cls, num_ops: int, tensor_bytes: int) -> "ComputeRequest":
        return cls("ops", num_ops=num_ops, tensor_bytes=tensor_bytes)

    @classmethod
    def gemm(cls, m: int, n: int, k: int) -> "ComputeRequest":
        return cls("gemm", m=m, n=n, k=k)


class ComputeModel(ABC):
    kind = "compute"
    pure = True          # a duration depends on the request alone

    @abstractmethod
    def duration_ns(self, request: ComputeRequest) -> int:
        """How long the operation takes on one NPU (integer ns, >= 0)."""

    def durations_ns(self, requests: list[ComputeRequest]) -> list[int]:
        """A round's worth of requests; a model may override to batch its work."""
        return [self.duration_ns(request) for request in requests]

    def stats(self) -> dict[str, int]:
        return {}
