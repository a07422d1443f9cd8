"""One NPU's system layer (1.0's ``Sys``): its clock hooks, collectives, queues and streams.

Timing rules reproduced here (SEMANTICS §2, §4):

* ``register_event(delay)``: callbacks are kept per NPU and per absolute tick; only the first
  registration for a tick puts a wake-up on the shared event queue, later ones ride on it, and
  a zero-delay registration made while that tick runs joins it.
* A collective is split into chunks at the tick it is issued; each chunk enters the queue of
  its first phase at once and starts if the queue has room (its first message leaves one
  endpoint delay later).
* When an NPU finishes a phase, 1.0's ``PhaseBarrier`` holds the chunk until every NPU has (2.x
  has no barrier); then the chunk moves to its next queue and the next waiting chunk of the
  queue it left starts, in the same tick. After its last phase the chunk counts towards its
  DataSet, which notifies its owner synchronously when complete.

What differs between ASTRA-sim generations is carried by ``SystemContext``: the barrier, the
reduction cost, and 2.x's chunk rules (a chunk is at least one byte per NPU except for
all-gather, and the last chunk is not shrunk).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from orchestrator.engine.clock import EventQueue
from orchestrator.errors import InputError
from orchestrator.system.barrier import PhaseBarrier
from orchestrator.system.collective import CollectivePlanner
from orchestrator.system.groups import CommGroup
from orchestrator.system.scheduler import QueueSet
from orchestrator.system.scheduling.queue_levels import QueueLevels
from orchestrator.system.streams import DataSet, Stream

if TYPE_CHECKING:
    from orchestrator.cosim.port import NetworkPort
    from orchestrator.system.scheduling.ordered import OrderedChunking
    from orchestrator.output.recorder import Recorder

HIGHEST_PRIORITY = 100_000_000


class SystemContext:
    """What all NPUs share: configuration, the collective planner, the generation's rules."""

    def __init__(self, *, npus_count: int, queues_count: int, planner: CollectivePlanner,
                 splits: int, active_chunks: int, endpoint_delay: int, policy: str,
                 reduction_cycles: Callable[[int], int], phase_barrier: bool,
                 v2_chunking: bool, ordered_chunking: OrderedChunking | None = None,
                 queue_set: Callable[..., QueueSet] = QueueSet, boost_mode: bool = False,
                 queues_per_dim: int = 1) -> None:
        self.npus_count = npus_count
        self.queues_count = queues_count
        self.planner = planner
        self.splits = splits
        self.active_chunks = active_chunks
        self.endpoint_delay = endpoint_delay
        self.policy = policy                 # LIFO, FIFO or EXPLICIT
        self.reduction_cycles = reduction_cycles
        self.barrier = PhaseBarrier(npus_count) if phase_barrier else None
        self.v2_chunking = v2_chunking
        # 1.0 dimension scheduling (orchestrator/system/scheduling): None / QueueSet are the
        # default ascending + FIFO, which never enter that package.
        self.ordered_chunking = ordered_chunking
        self.queue_set = queue_set
        # 1.0 boost mode: an NPU takes part only in the phases whose ring starts at NPU 0
        self.boost_mode = boost_mode
        # --num-queues-per-dim (1.0): queues_count is then dimensions x queues_per_dim
        self.queues_per_dim = queues_per_dim


class Npu:
    def __init__(self, npu_id: int, context: SystemContext, queue: EventQueue,
                 network: NetworkPort) -> None:
        self.id = npu_id
        self.context = context
        self.clock = queue
        self.network = network
        self.endpoint_delay = context.endpoint_delay
        self.reduction_cycles = context.reduction_cycles
        # what a packet algorithm calls per message, bound once here rather than per phase:
        # (register_event, reduction_cycles, endpoint_delay, network send, network recv, id)
        self.packet_hooks = (self.register_event, self.reduction_cycles, self.endpoint_delay,
                             network.send, network.recv, npu_id)
        self.queues = context.queue_set(context.queues_count, context.active_chunks,
                                        self._start_stream)
        self.streams_injected = 0
        self.streams_finished = 0
        self._buckets: dict[int, list[tuple[Callable[[Any], None], Any]]] = {}
        self._run_tick = self.run_tick            # bound once: no per-event allocation
        self._priority_counter = 0
        self._stream_counter = 0
        self._dataset_counter = 0
        self._tree_parity: dict[tuple[str, int], int] = {}
        self._boost = context.boost_mode
        self.queue_levels = QueueLevels(context.queues_count // context.queues_per_dim,
                                        context.queues_per_dim) \
            if context.queues_per_dim > 1 else None
        self.active_datasets: dict[int, DataSet] = {}
        # statistics / trace hook (orchestrator/output/recorder.py), checked once per chunk
        self.recorder: Recorder | None = None

    # -- time -------------------------------------------------------------------------------
    @property
    def now_ns(self) -> int:
        return self.clock.now_ns

    def register_event(self, delay: int, handler: Callable[[Any], None], arg: Any) -> None:
        tick = self.clock.now_ns + delay
        bucket = self._buckets.get(tick)
        if bucket is None:
            self._buckets[tick] = [(handler, arg)]
            self.clock.schedule(delay, self._run_tick, tick)
        else:
            bucket.append((handler, arg))

    def run_tick(self, tick: int) -> None:
        # registrations for this tick join the walk (a list's iterator yields appended items)
        for handler, arg in self._buckets[tick]:
            handler(arg)
        del self._buckets[tick]

    # -- network ----------------------------------------------------------------------------
    def send(self, dst: int, size_bytes: int, tag: int) -> None:
        # 1.0's send-completion handler does nothing, so none is scheduled.
        self.network.send(self.id, dst, size_bytes, tag, None, None)

    def recv(self, src: int, size_bytes: int, tag: int, handler: Callable[[Any], None]) -> None:
        self.network.recv(src, self.id, size_bytes, tag, handler, None)

    # -- collectives ------------------------------------------------------------------------
    def priority(self, preference: str, explicit: int = 0) -> int:
        """1.0's HIGHEST wins outright; 2.x's EXPLICIT policy takes the node's priority;
        otherwise the system's LIFO / FIFO counter decides (once per collective)."""
        if preference == "HIGHEST":
            return HIGHEST_PRIORITY
        policy = self.context.policy
        if policy == "EXPLICIT":
            return explicit
        value = self._priority_counter
        self._priority_counter += 1 if policy == "LIFO" else -1
        return value

    def generate_collective(self, kind: str, size_bytes: int, involved: Sequence[bool],
                            preference: str, on_finished: Callable[[DataSet], None],
                            owner: Any, explicit_priority: int = 0,
                            group: CommGroup | None = None) -> DataSet | None:
        """Split a collective into chunks and start them; None when it spans no dimension."""
        context = self.context
        priority = self.priority(preference, explicit_priority)
        chunk = size_bytes // context.splits
        if context.v2_chunking and kind != "ALLGATHER" and chunk < context.npus_count:
            chunk = context.npus_count          # 2.x: at least one byte per NPU
            size_bytes = context.splits * chunk
        if chunk == 0:
            raise InputError(f"a {kind} of {size_bytes} bytes cannot be split into "
                             f"preferred-dataset-splits = {context.splits} chunks "
                             "(ASTRA-sim loops forever or hangs here)")
        if context.ordered_chunking is not None and group is None:
            # roundRobin / Themis: chunks get their own dimension order (and Themis its size)
            return context.ordered_chunking.generate(self, kind, size_bytes, chunk, involved,
                                                     priority, on_finished, owner)
        planner = context.planner
        if group is None:
            phases = planner.phases(kind, chunk, involved, self._tree_parity)
        else:
            phases = planner.group_phases(kind, chunk, group, self._tree_parity)
        if not phases:
            return None
        chunks = -(-size_bytes // chunk)
        dataset = DataSet(self._dataset_counter, kind, size_bytes, self.now_ns,
                          total_streams=chunks, on_finished=on_finished, context=owner)
        self._dataset_counter += 1
        self.active_datasets[dataset.id] = dataset
        self.streams_injected += chunks
        remaining = size_bytes
        first = True
        while remaining > 0:
            # 1.0 shrinks the last chunk to what is left; 2.x sends a full chunk every time
            this_chunk = chunk if context.v2_chunking else min(chunk, remaining)
            remaining -= min(chunk, remaining)
            if not first:
                phases = planner.phases(kind, this_chunk, involved, self._tree_parity) \
                    if group is None else planner.group_phases(kind, this_chunk, group,
                                                               self._tree_parity)
            first = False
            if group is None:
                number = self._stream_counter
                self._stream_counter += 1
            else:
                number = group.stream_number(self.id)
            if self.queue_levels is not None:      # several queues per dimension (1.0)
                self.queue_levels.assign(phases)
            stream = Stream(number, dataset, priority, phases)
            self._advance(stream)
        return dataset

    # -- streams ----------------------------------------------------------------------------
    def _start_stream(self, stream: Stream) -> None:
        stream.initialized = True
        stream.started_ns = self.clock.now_ns
        phase = stream.phases[stream.phase_index]          # stream.phase, without the call
        algorithm = stream.algorithm = phase.algorithm(self, stream, phase)
        algorithm.start()

    def phase_finished(self, stream: Stream) -> None:
        """Called by an algorithm when this NPU's part of the stream's phase is done."""
        stream.phase_log.append((stream.phases[stream.phase_index].dim, stream.queued_ns,
                                 stream.started_ns, self.clock.now_ns))
        barrier = self.context.barrier
        if barrier is not None:
            released = barrier.arrive(self, stream)
            if released is None:
                return
            for npu, waiting in released:
                npu._advance(waiting)
        self._advance(stream)

    def _advance(self, stream: Stream) -> None:
        """Move a stream into its next phase's queue, or finish it after its last phase."""
        previous = stream.queue
        stream.algorithm = None
        last = stream.phase_index == len(stream.phases) - 1
        queues = self.queues
        if last:
            if self.recorder is not None:
                self.recorder.chunk_done(self.id, stream)
            dataset = stream.dataset
            dataset.finished_streams += 1
            if dataset.finished_streams == dataset.total_streams:
                dataset.finished_ns = self.clock.now_ns
                del self.active_datasets[dataset.id]
                dataset.on_finished(dataset)
            if stream.enabled:
                queues.remove(previous, stream)
                queues.stream_removed(previous)
            return
        stream.phase_index += 1
        stream.queued_ns = self.clock.now_ns
        stream.queue = stream.phases[stream.phase_index].queue
        stream.initialized = False
        if self._boost:
            self._advance_boosted(stream, previous)
            return
        if previous >= 0:
            queues.remove(previous, stream)
        queues.insert(stream.queue, stream)
        if previous >= 0:
            queues.stream_removed(previous)
        queues.stream_added(stream.queue)

    # -- 1.0 boost mode ---------------------------------------------------------------------
    def _advance_boosted(self, stream: Stream, previous: int) -> None:
        """``_advance`` under 1.0's boost mode. A phase is enabled on this NPU only if its ring
        starts at NPU 0 (the NPU lies on one of NPU 0's axes); a disabled phase never enters
        its queue: the NPU reports it done at once and waits at the phase barrier. Every NPU's
        phases on one dimension are all enabled or all disabled, so its queue for a disabled
        dimension stays empty. Times are unchanged; what changes is the order in which NPUs
        are released from a barrier (the disabled ones arrived first), which Themis's shared
        scheduler can observe (the first NPU to issue a collective decides its chunks)."""
        queues = self.queues
        was_enabled = stream.enabled
        ring = stream.phase.ring
        enabled = self.id == ring.index(self.id) * ring.stride
        stream.enabled = enabled
        if previous >= 0 and was_enabled:
            queues.remove(previous, stream)
        if enabled:
            queues.insert(stream.queue, stream)
        else:
            barrier = self.context.barrier
            released = barrier.arrive(self, stream) if barrier is not None else []
            if released is not None:      # the last to arrive (1.0 would wait forever)
                for npu, waiting in released:
                    npu._advance(waiting)
                self._advance(stream)
        if previous >= 0 and was_enabled:
            queues.stream_removed(previous)
        if enabled:
            queues.stream_added(stream.queue)
