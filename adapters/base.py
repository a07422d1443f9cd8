"""The adapter spec: what a network model must provide, wherever it runs.

A network model only decides *when messages arrive*; matching sends with receives is the
engine's business (orchestrator/cosim/port.py), so a model holds no handlers and can sit in
another process. The engine drives it in rounds (docs/cosim.md):

* ``inject(op, src, dst, size, time)``: a message enters the network at ``time``; injections
  come in time order, never earlier than the last grant;
* ``advance(grant)``: process the model's own events strictly before ``grant`` and return the
  arrivals decided since the last call, as ``(op, time)`` pairs; an arrival once reported is
  final;
* ``next_event_ns()``: the earliest event still pending (``NEVER`` when idle);
* ``lookahead_ns``: no injection at time t changes anything before t + lookahead.

Within one nanosecond a model processes its own events before injections stamped with that
nanosecond, so a run gives the same result wherever the model runs.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

NEVER = 1 << 62


class NetworkModel(ABC):
    kind = "network"

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
