"""Where the order within one nanosecond could matter, and the reduced run therefore stops.

Within one nanosecond the full run interleaves NPU 0's events with other NPUs' in an order the
representative cannot know: 1.0 runs a receive handler in the sender's slot, the phase
barrier releases NPU 0 inside the last NPU's event, and those events' places depend on how
the other NPUs' histories interleaved (which is not the same from NPU to NPU). Timing does not
depend on that order unless two independent *actors* of NPU 0 change state they share in the
same nanosecond:

* an actor is one chunk (stream) with its algorithm — chunks of one collective at the same
  phase with the same size are interchangeable and count as one — or the workload (training
  loop or trace driver);
* shared state is the workload (its loop, a collective starting or completing) and each
  dimension queue;
* work scheduled for the current nanosecond belongs to the actor that scheduled it.

A chunk's own callbacks commute (a receive only counts and queues the algorithm's next
packet, whichever message it was) except a receive and a memory-bus release of the same chunk
in one nanosecond: their order is known unless the message was sent in the nanosecond the
release was scheduled, which is refused too. Callbacks whose registration order was swapped
are checked again when they run. Two actors may change one queue in a nanosecond when the chunks
left waiting there and those started in that nanosecond are interchangeable (insertions and
removals are set operations; which of interchangeable chunks runs is immaterial). Anything
else touched by two actors in one nanosecond raises ``SymmetryBroken``, and the caller runs
the full simulation.
"""

from __future__ import annotations

from typing import Any


class SymmetryBroken(Exception):
    """The reduced run cannot vouch for its result; the caller runs the full simulation."""


# A network model out of process reports a broken symmetry as an error whose text starts so
# (the adapter server words errors as ``<exception>: <message>``); the engine's port turns it
# back into SymmetryBroken.
BROKEN_MARK = "symmetry broken:"


WORKLOAD = "workload"


class OrderGuard:
    """Tracks, per nanosecond and per shared resource, which actors changed it."""

    __slots__ = ("clock", "queues", "actor", "_time", "_touched", "_stamps")

    def __init__(self, clock: Any) -> None:
        self.clock = clock
        self.queues: Any = None              # the NPU's QueueSet, for the end-of-ns check
        self.actor: object = WORKLOAD       # the actor whose work is running now
        self._time = -1
        self._touched: dict[object, set[object]] = {}
        self._stamps: dict[tuple[object, int], int] = {}   # (actor, stamp ns) -> kinds seen

    def stamp(self, kind: int, since_ns: int) -> None:
        """The running actor's callback was scheduled at ``since_ns`` by its own work
        (``kind`` 1) or is a message sent then (``kind`` 2): both in one nanosecond for one
        actor have an order only the full run knows."""
        now = self.clock.now_ns
        if now != self._time:
            self.settle()
            self._time = now
        key = (self.actor, since_ns)
        stamps = self._stamps
        seen = stamps.get(key, 0) | kind
        stamps[key] = seen
        if seen == 3:
            self._broken(now, "one chunk (a receive and a release scheduled together)")

    def touch(self, *resources: object) -> None:
        """The running actor is about to change these resources."""
        now = self.clock.now_ns
        if now != self._time:
            self.settle()
            self._time = now
        actor = self.actor
        for resource in resources:
            actors = self._touched.get(resource)
            if actors is None:
                self._touched[resource] = {actor}
                continue
            actors.add(actor)
            if len(actors) > 1 and resource == WORKLOAD:
                self._broken(now, "its workload")

    def settle(self) -> None:
        """End of a nanosecond: check each queue two actors changed (``_queue_settles``)."""
        if self._touched:
            for resource, actors in self._touched.items():
                if len(actors) > 1 and resource != WORKLOAD and \
                        not self._queue_settles(resource):
                    self._broken(self._time, f"dimension queue {resource}")
            self._touched = {}
        if self._stamps:
            self._stamps = {}

    def _queue_settles(self, queue: int) -> bool:
        """Would every order of this nanosecond's insertions and removals have left the queue
        running the same chunks? Yes when none is left waiting (all run); when the chunks left
        waiting and those started now are interchangeable; or when the chunks that entered
        now are interchangeable among themselves and none outranks a chunk that was already
        waiting (the queue orders by priority, then arrival, so an early removal and a late
        insertion start the same chunks as the reverse)."""
        now = self._time
        entries = self.queues.queues[queue]
        waiting = [stream for stream in entries if not stream.initialized]
        if not waiting:
            return True
        started = [stream for stream in entries
                   if stream.initialized and stream.started_ns == now]
        if len({stream_actor(stream) for stream in waiting + started}) == 1:
            return True
        entered = [stream for stream in waiting + started if stream.queued_ns == now]
        earlier = [stream for stream in waiting + started if stream.queued_ns < now]
        if len({stream_actor(stream) for stream in entered}) > 1:
            return False
        return all(new.priority <= old.priority for new in entered for old in earlier)

    def _broken(self, now: int, what: str) -> None:
        raise SymmetryBroken(f"at {now} ns two activities of NPU 0 change {what}, in an order "
                             "only the full run knows")


def stream_actor(stream: Any) -> tuple:
    """Interchangeable chunks (one collective, same phase in the same queue, same size, the same
    phases ahead) are one actor. Asked for every callback of a chunk; computed once per phase
    and queue of the chunk (a phase's shape does not change while the chunk is in it)."""
    index = stream.phase_index
    memo = stream.actor_memo
    if memo is not None and memo[0] == index and memo[1] == stream.queue:
        return memo[2]
    phase = stream.phases[index] if index >= 0 else None
    actor = (id(stream.dataset), index, stream.queue,
             phase.size_bytes if phase is not None else -1,
             tuple((later.dim, later.queue, later.size_bytes)
                   for later in stream.phases[index + 1:]))
    stream.actor_memo = (index, stream.queue, actor)
    return actor
