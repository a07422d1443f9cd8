"""NPU 0 standing for every NPU: its event queue, its system layer and its phase barrier.

The same engine objects as a full run, with three differences:

* every callback runs under its actor (``guard.py``): chunk callbacks under the chunk, the
  workload's under the workload, and anything scheduled for the current nanosecond under the
  actor that scheduled it;
* changing the queues, completing a collective and starting one are reported to the guard;
* 1.0's phase barrier releases at once: every NPU finishes a phase of a chunk in the same
  nanosecond, so the last one is always already there (its place within the nanosecond is
  the guard's business).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from orchestrator.engine.clock import EventQueue
from orchestrator.symmetry.guard import WORKLOAD, OrderGuard, stream_actor
from orchestrator.system.algorithms.base import PhaseAlgorithm
from orchestrator.system.npu import Npu
from orchestrator.system.streams import DataSet, Stream


def natural_actor(handler: Callable[[Any], None], arg: Any) -> object:
    """Whose work a callback is, from the object it is bound to."""
    owner = getattr(handler, "__self__", None)
    if isinstance(owner, PhaseAlgorithm):
        return stream_actor(owner.stream)
    recv = getattr(arg, "recv", None)          # a message arrival: its receive's algorithm
    if recv is not None and isinstance(getattr(recv, "__self__", None), PhaseAlgorithm):
        return stream_actor(recv.__self__.stream)
    if owner is not None and hasattr(owner, "npu"):
        return WORKLOAD                        # a training loop or a trace driver
    return owner if owner is not None else handler


class GuardedEventQueue(EventQueue):
    """``EventQueue`` whose events run under their actor: each is filed as ``_run_under``
    with ``(actor, handler, arg)`` (a tuple per event is cheaper than a closure)."""

    __slots__ = ("guard", "_run")

    def __init__(self) -> None:
        super().__init__()
        self.guard = OrderGuard(self)
        self._run = self._run_under

    def _run_under(self, event: tuple[object, Callable[[Any], None], Any]) -> None:
        actor, handler, arg = event
        guard = self.guard
        guard.actor = actor
        if actor is WORKLOAD:
            guard.touch(WORKLOAD)
        handler(arg)

    def schedule(self, delay_ns: int, handler: Callable[[Any], None], arg: Any = None) -> None:
        actor = self.guard.actor if delay_ns == 0 else natural_actor(handler, arg)
        EventQueue.schedule(self, delay_ns, self._run, (actor, handler, arg))

    def schedule_at(self, time_ns: int, seq: int, handler: Callable[[Any], None],
                    arg: Any = None) -> None:
        actor = self.guard.actor if time_ns == self.now_ns else natural_actor(handler, arg)
        EventQueue.schedule_at(self, time_ns, seq, self._run, (actor, handler, arg))


class ReducedNpu(Npu):
    """NPU 0 of a reduced run; see the module docstring."""

    def __init__(self, npu_id: int, context: Any, queue: GuardedEventQueue,
                 network: Any) -> None:
        super().__init__(npu_id, context, queue, network)
        self.guard = queue.guard
        self.guard.queues = self.queues
        # per tick: (handler, arg, actor, registered at ns), in registration order
        self._buckets: dict[int, list[tuple[Callable[[Any], None], Any, object, int]]] = {}
        self._all_queues = tuple(range(len(self.queues.queues)))

    def register_event(self, delay: int, handler: Callable[[Any], None], arg: Any) -> None:
        """``Npu.register_event``, remembering each callback's actor and when it was
        registered. The tick's wake-up is filed as ``GuardedEventQueue.schedule`` would file
        it: under the registering actor for this nanosecond, else under this NPU
        (``natural_actor`` of ``run_tick``), without working that out per event."""
        clock = self.clock
        now = clock.now_ns
        actor = self.guard.actor if delay == 0 else natural_actor(handler, arg)
        tick = now + delay
        bucket = self._buckets.get(tick)
        if bucket is None:
            self._buckets[tick] = [(handler, arg, actor, now)]
            EventQueue.schedule(clock, delay, clock._run,
                                (self.guard.actor if delay == 0 else self, self._run_tick, tick))
        else:
            bucket.append((handler, arg, actor, now))

    def run_tick(self, tick: int) -> None:
        guard = self.guard
        for handler, arg, actor, since in self._buckets[tick]:   # appended ones too
            guard.actor = actor
            if actor is WORKLOAD:
                guard.touch(WORKLOAD)
            elif since < tick:
                guard.stamp(1, since)
            handler(arg)
        del self._buckets[tick]

    def generate_collective(self, kind: str, size_bytes: int, involved: Sequence[bool],
                            preference: str, on_finished: Callable[[DataSet], None],
                            owner: Any, explicit_priority: int = 0,
                            group: Any = None) -> DataSet | None:
        self.guard.touch(WORKLOAD, *self._all_queues)
        return super().generate_collective(kind, size_bytes, involved, preference, on_finished,
                                           owner, explicit_priority, group)

    def _advance(self, stream: Stream) -> None:
        if stream.phase_index == len(stream.phases) - 1:
            self.guard.touch(stream.queue, WORKLOAD)      # leaves its queue, may complete
        elif stream.queue >= 0:
            self.guard.touch(stream.queue, stream.phases[stream.phase_index + 1].queue)
        else:
            self.guard.touch(stream.phases[0].queue)
        super()._advance(stream)


class InlineBarrier:
    """1.0's phase barrier in a reduced run: every copy of NPU 0 finishes the phase now."""

    __slots__ = ()

    def arrive(self, npu: Npu, stream: Stream) -> list[tuple[Npu, Stream]]:
        return []          # nothing else to release; the caller moves the chunk on

    def waiting(self) -> dict[int, int]:
        return {}
