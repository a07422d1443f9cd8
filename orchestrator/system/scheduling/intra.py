"""``intra-dimension-scheduling``: where a stream entering a dimension's queue is placed.

Every policy first passes the streams already running in the queue (they hold the front). Then
(SEMANTICS §4.1, 1.0's ``Sys::insert_stream``):

* ``FIFO`` (the default, ``QueueSet.insert``): after every waiting stream of equal or higher
  priority. 1.0 also uses this rule under any policy for a stream whose current phase is an
  all-reduce or an all-to-all.
* ``smallestFirst`` (ASPLOS'23: ``SCF``): after every waiting stream whose current phase starts
  with fewer bytes, i.e. before the first one at least as large.
* ``lessRemainingPhaseFirst``: after every waiting stream with fewer phases left after its
  current one.
* ``RG`` (reduce-scatter / all-gather alternation): after waiting streams of strictly higher
  priority and while the last two streams passed form a reduce-scatter / all-gather pair. As in
  1.0, the waiting stream right behind a running one is passed without any test.
"""

from __future__ import annotations

from collections.abc import Callable

from orchestrator.system.algorithms.base import ALL_GATHER, ALL_REDUCE, ALL_TO_ALL, REDUCE_SCATTER
from orchestrator.system.scheduler import QueueSet
from orchestrator.system.scheduling.policies import (
    FIFO, LESS_REMAINING_PHASE_FIRST, RG, SMALLEST_FIRST)
from orchestrator.system.streams import Stream

_FIFO_KINDS = (ALL_REDUCE, ALL_TO_ALL)
_PAIRS = ((REDUCE_SCATTER, ALL_GATHER), (ALL_GATHER, REDUCE_SCATTER))


def _phases_left(stream: Stream) -> int:
    return len(stream.phases) - stream.phase_index - 1


def _smallest_first(entries: list[Stream], stream: Stream) -> int:
    size = stream.phase.size_bytes
    for index, other in enumerate(entries):
        if not other.initialized and other.phase.size_bytes >= size:
            return index
    return len(entries)


def _less_remaining_first(entries: list[Stream], stream: Stream) -> int:
    left = _phases_left(stream)
    for index, other in enumerate(entries):
        if not other.initialized and _phases_left(other) >= left:
            return index
    return len(entries)


def _rg(entries: list[Stream], stream: Stream) -> int:
    last = one_to_last = None
    index, count = 0, len(entries)
    while index < count:
        other = entries[index]
        one_to_last, last = last, other.phase.kind
        if other.initialized:
            index += 1
            if index < count and not entries[index].initialized:
                one_to_last, last = last, entries[index].phase.kind
                index += 1
            continue
        if other.priority > stream.priority or (last, one_to_last) in _PAIRS:
            index += 1
            continue
        break
    return index


_PLACEMENT: dict[str, Callable[[list[Stream], Stream], int]] = {
    SMALLEST_FIRST: _smallest_first,
    LESS_REMAINING_PHASE_FIRST: _less_remaining_first,
    RG: _rg,
}


class PolicyQueueSet(QueueSet):
    """A ``QueueSet`` whose waiting streams are ordered by a non-FIFO intra-dimension policy."""

    __slots__ = ("_place",)

    def __init__(self, count: int, limit: int, start: Callable[[Stream], None],
                 policy: str) -> None:
        super().__init__(count, limit, start)
        self._place = _PLACEMENT[policy]

    def insert(self, queue: int, stream: Stream) -> None:
        if stream.phase.kind in _FIFO_KINDS:
            super().insert(queue, stream)
            return
        entries = self.queues[queue]
        entries.insert(self._place(entries, stream), stream)


def queue_set_factory(policy: str) -> Callable[[int, int, Callable[[Stream], None]], QueueSet]:
    """How each NPU builds its queues: the plain ``QueueSet`` for FIFO (the fast default)."""
    if policy == FIFO:
        return QueueSet
    return lambda count, limit, start: PolicyQueueSet(count, limit, start, policy)
