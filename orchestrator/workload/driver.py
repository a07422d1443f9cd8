"""Runs a training loop on one NPU: interprets its steps with ASTRA-sim 1.0's timing.

Timing rules (SEMANTICS §3.1, the 1.0 ``Workload`` / ``Layer`` classes):

* a compute step of c > 0 cycles is a c-cycle event; ``Tick`` is a 1-cycle event;
* a collective finishing at T is reported to its layer, which waits the layer's update delay
  and then, at T + update, wakes the loop if it was waiting for that kind of collective (or
  issued it blocking), and only after that counts the collective's chunks as finished;
* when the loop's generator is exhausted the NPU waits until every chunk it injected has
  finished (counted as above); that moment is its finish time.

Statistics follow 1.0's ``Layer``: compute time is summed every time a compute step runs,
exposed communication is the time the loop sat waiting, total communication is issue-to-
update-done per collective.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from orchestrator.output.recorder import RECOMPUTED, Recorder
from orchestrator.output.results import LayerStats
from orchestrator.system.npu import Npu
from orchestrator.system.streams import DataSet
from orchestrator.workload.layer import Layer
from orchestrator.workload.loops.base import (
    Compute, Issue, IssueBlocking, Step, Tick, TrainingLoop, Wait)

KINDS = ("fwd", "ig", "wg")


class LayerRuntime:
    """A layer's outstanding collectives and waits on one NPU (1.0's ``Layer``)."""

    __slots__ = ("layer", "compute", "comm", "update_delay", "datasets", "blocking",
                 "started_waiting", "stats")

    def __init__(self, layer: Layer, compute: dict[str, int], comm: dict[str, tuple[str, int]],
                 stats: LayerStats) -> None:
        self.layer = layer
        self.compute = compute
        self.comm = comm                 # kind -> (collective, scaled bytes)
        self.update_delay = layer.update_delay_cycles
        # literals, not comprehensions over KINDS: one LayerRuntime per layer per NPU
        self.datasets: dict[str, list[DataSet]] = {"fwd": [], "ig": [], "wg": []}
        self.blocking: dict[str, bool] = {"fwd": False, "ig": False, "wg": False}
        self.started_waiting: dict[str, deque[int]] = {"fwd": deque(), "ig": deque(),
                                                        "wg": deque()}
        self.stats = stats


class WorkloadDriver:
    """One NPU's training loop, stepped through the event queue."""

    def __init__(self, npu: Npu, loop: TrainingLoop, layers: list[LayerRuntime],
                 num_passes: int) -> None:
        self.npu = npu
        self.loop = loop
        self.layers = layers
        self._steps: Iterator[Step] = loop.run(num_passes)
        self.num_passes = num_passes
        self._pending: Step | None = None   # a Wait / IssueBlocking being waited on
        self._timed_wait = False            # suspended on a compute or tick event
        self._draining = False              # loop done: waiting for injected chunks
        self.finished_ns: int | None = None
        self.compute_ns = 0
        self._resume_after_delay = self.resume_after_delay
        self._after_update = self.after_update
        self.recorder: Recorder | None = None      # statistics / trace hook, per layer step
        self._recomputed: set[int] = set()          # ids of forward collectives rerun (labels)

    # -- stepping ---------------------------------------------------------------------------
    def start(self) -> None:
        self.call()

    def resume_after_delay(self, _arg: object) -> None:
        self._timed_wait = False
        self.call()

    def call(self) -> None:
        """1.0's ``Workload::call``: continue the loop until it has to wait."""
        if self._timed_wait or self.finished_ns is not None:
            return
        if self._draining:
            self._check_end()
            return
        step = self._pending
        self._pending = None
        npu = self.npu
        while True:
            if step is None:
                step = next(self._steps, None)
                if step is None:
                    self._begin_drain()
                    return
            kind_of = type(step)
            if kind_of is Compute:
                runtime = self.layers[step.layer.index]
                cycles = runtime.compute[step.kind]
                self.compute_ns += cycles
                setattr(runtime.stats, f"{step.kind}_compute_ns",
                        getattr(runtime.stats, f"{step.kind}_compute_ns") + cycles)
                if cycles > 0:
                    if self.recorder is not None:
                        self.recorder.compute_span(npu.id, npu.now_ns, cycles, step.layer.name,
                                                   step.kind)
                    self._timed_wait = True
                    npu.register_event(cycles, self._resume_after_delay, None)
                    return
            elif kind_of is Tick:
                self._timed_wait = True
                npu.register_event(1, self._resume_after_delay, None)
                return
            elif kind_of is Issue:
                self._issue(step.layer, step.kind, step.policy, blocking=False)
            elif kind_of is IssueBlocking:
                if self._issue(step.layer, step.kind, step.policy, blocking=True):
                    if step.recompute and self.recorder is not None:
                        self._recomputed.add(
                            id(self.layers[step.layer.index].datasets[step.kind][-1]))
                    self._pending = Wait(step.layer, step.kind)
                    return
            elif kind_of is Wait:
                runtime = self.layers[step.layer.index]
                if runtime.datasets[step.kind]:
                    waits = runtime.started_waiting[step.kind]
                    if not waits:
                        waits.append(npu.now_ns)
                    self._pending = step
                    return
            step = None

    # -- collectives ------------------------------------------------------------------------
    def _issue(self, layer: Layer, kind: str, policy: str, blocking: bool) -> bool:
        """Start a layer's collective; True when there is one to wait for."""
        runtime = self.layers[layer.index]
        runtime.blocking[kind] = blocking
        collective, size = runtime.comm[kind]
        if collective == "NONE":
            return False
        dataset = self.npu.generate_collective(
            collective, size, self.loop.layer_dimensions(layer, kind), policy,
            self._collective_done, (runtime, kind))
        if dataset is None:
            return False
        runtime.datasets[kind].append(dataset)
        return True

    def _collective_done(self, dataset: DataSet) -> None:
        runtime, kind = dataset.context
        if self.recorder is not None:
            name = runtime.layer.name
            label = f"{name}.{kind}"
            if id(dataset) in self._recomputed:
                self._recomputed.discard(id(dataset))
                label += RECOMPUTED
            self.recorder.collective_done(self.npu.id, dataset, label, name)
        self.npu.register_event(runtime.update_delay, self._after_update, dataset)

    def after_update(self, dataset: DataSet) -> None:
        runtime, kind = dataset.context
        now = self.npu.now_ns
        stats = runtime.stats
        setattr(stats, f"{kind}_comm_ns", getattr(stats, f"{kind}_comm_ns")
                + now - dataset.created_ns)
        wake = False
        outstanding = runtime.datasets[kind]
        if len(outstanding) == 1 and runtime.blocking[kind]:
            exposed = now - dataset.created_ns
            wake = True
        elif runtime.started_waiting[kind]:
            exposed = now - runtime.started_waiting[kind].popleft()
            wake = True
        outstanding.remove(dataset)
        if wake:
            setattr(stats, f"{kind}_exposed_ns", getattr(stats, f"{kind}_exposed_ns") + exposed)
            if self.recorder is not None:
                self.recorder.wait_span(self.npu.id, now - exposed, now, runtime.layer.name, kind)
            self.call()
        self.npu.streams_finished += dataset.total_streams
        if self._draining:
            self._check_end()

    # -- the end ----------------------------------------------------------------------------
    def _begin_drain(self) -> None:
        self._draining = True
        if self.npu.streams_finished == self.npu.streams_injected:
            self._finish()
            return
        # upstream charges the tail wait to layer 0's weight-gradient collective
        first = self.layers[0]
        if first.datasets["wg"] and not first.started_waiting["wg"]:
            first.started_waiting["wg"].append(self.npu.now_ns)

    def _check_end(self) -> None:
        if self.finished_ns is None and self.npu.streams_finished == self.npu.streams_injected:
            self._finish()

    def _finish(self) -> None:
        self.finished_ns = self.npu.now_ns

    def outstanding(self) -> list[tuple[str, str, DataSet]]:
        """Collectives issued and not finished, for stall reports."""
        return [(rt.layer.name, kind, ds) for rt in self.layers for kind in KINDS
                for ds in rt.datasets[kind]]
