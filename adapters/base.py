"""The adapter specs: what a network backend must provide to the engine.

A network adapter delivers point-to-point messages between NPUs. The engine hands it the event
queue it must schedule completions on (in-process placement), then calls ``send`` and ``recv``
with ASTRA-sim's matching rule (SEMANTICS §5.1): a send and a receive match on
``(tag, src, dst, size)``; the k-th send with a key matches the k-th receive with that key.
Completion handlers run at the delivery time; a receive posted after its message arrived
completes at the time it is posted.

Subclasses must implement ``send``, ``recv`` and ``lookahead_ns`` (the smallest possible
delivery delay, which conservative synchronisation uses).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

Handler = Callable[[Any], None]


class NetworkAdapter(ABC):
    kind = "network"

    @abstractmethod
    def send(self, src: int, dst: int, size_bytes: int, tag: int,
             handler: Handler | None, arg: Any) -> None:
        """Start a message; ``handler(arg)`` (if given) runs when it is delivered."""

    @abstractmethod
    def recv(self, src: int, dst: int, size_bytes: int, tag: int,
             handler: Handler, arg: Any) -> None:
        """Post a receive; ``handler(arg)`` runs once the matching message has arrived."""

    @abstractmethod
    def lookahead_ns(self) -> int:
        """The minimum delay between a send and its delivery."""
