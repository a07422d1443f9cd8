"""A run as Chrome trace-event JSON, for ui.perfetto.dev or chrome://tracing.

One process per traced NPU (pid = NPU + 1: some viewers treat pid 0 as the idle process),
with threads (tracks):

* ``compute``: the layer (1.0) or node (2.x) compute spans;
* ``waiting for comm``: the training loop blocked on a collective (exposed communication);
* ``collectives``: issue-to-finish of each collective, on as many lanes as overlap needs;
* ``dim D chunks``: each chunk's phase on dimension D, active part, on lanes likewise, with
  its queued time in the span's arguments;
* a counter ``active chunks`` per dimension.

Network links have no time series in the analytical models; their byte totals go into
``otherData``. Times are written in µs (the format's unit) with ns precision.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from operator import attrgetter
from typing import Any

from orchestrator.output.recorder import Recorder
from orchestrator.output.results import RunResult

_NPU_OF = attrgetter("npu")
COMPUTE_TID = 1
WAIT_TID = 2
COLLECTIVE_TID = 100
DIM_TID = 1000          # dim D's lanes: DIM_TID * (D + 1) + lane


def _us(time_ns: int) -> float:
    return time_ns / 1000


def _lanes(spans: Iterable[tuple[int, int]]) -> list[int]:
    """A lane per span (given in start order) so that spans on one lane never overlap."""
    ends: list[int] = []
    lanes = []
    for start, end in spans:
        for lane, busy_until in enumerate(ends):
            if busy_until <= start:
                ends[lane] = end
                lanes.append(lane)
                break
        else:
            ends.append(end)
            lanes.append(len(ends) - 1)
    return lanes


def _span(name: str, cat: str, pid: int, tid: int, start_ns: int, end_ns: int,
          args: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "cat": cat, "ph": "X", "pid": pid, "tid": tid, "ts": _us(start_ns),
            "dur": _us(end_ns - start_ns), "args": args}


def _meta(kind: str, pid: int, tid: int, value: Any) -> dict[str, Any]:
    key = "name" if kind.endswith("_name") else "sort_index"
    return {"name": kind, "ph": "M", "pid": pid, "tid": tid, "args": {key: value}}


def trace_events(result: RunResult, recorder: Recorder) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    threads: dict[tuple[int, int], str] = {}
    for npu in sorted(recorder.npus):
        pid = npu + 1
        events.append(_meta("process_name", pid, 0, f"NPU {npu}"))
        events.append(_meta("process_sort_index", pid, 0, npu))
        threads[(pid, COMPUTE_TID)] = "compute"
    # grouped by NPU, each in the order it ran: the same file whether the NPUs were simulated
    # together (spans interleaved) or one was and its spans copied (orchestrator/symmetry)
    for span in sorted(recorder.compute, key=_NPU_OF):
        if span.npu in recorder.npus:
            events.append(_span(span.name, f"compute.{span.kind}", span.npu + 1, COMPUTE_TID,
                                span.start_ns, span.start_ns + span.duration_ns,
                                {"kind": span.kind, "duration_ns": span.duration_ns}))
    for wait in sorted(recorder.waits, key=_NPU_OF):
        if wait.npu in recorder.npus:
            threads[(wait.npu + 1, WAIT_TID)] = "waiting for comm"
            events.append(_span(f"wait {wait.layer}.{wait.kind}", "exposed", wait.npu + 1,
                                WAIT_TID, wait.start_ns, wait.end_ns,
                                {"exposed_ns": wait.end_ns - wait.start_ns}))
    for npu in sorted(recorder.npus):
        events += _collective_events(recorder, npu, threads)
    for (pid, tid), name in sorted(threads.items()):
        events.append(_meta("thread_name", pid, tid, name))
        events.append(_meta("thread_sort_index", pid, tid, tid))
    return events


def _collective_events(recorder: Recorder, npu: int, threads: dict[tuple[int, int], str]
                       ) -> list[dict[str, Any]]:
    pid = npu + 1
    records = sorted((r for r in recorder.collectives if r.npu == npu),
                     key=lambda r: (r.start_ns, r.dataset_id))
    events = []
    for record, lane in zip(records, _lanes((r.start_ns, r.end_ns) for r in records)):
        threads[(pid, COLLECTIVE_TID + lane)] = "collectives" if lane == 0 else \
            f"collectives ({lane + 1})"
        events.append(_span(f"{record.kind} {record.label}", "collective", pid,
                            COLLECTIVE_TID + lane, record.start_ns, record.end_ns,
                            {"size_bytes": record.size_bytes, "npus": record.participants,
                             "algorithms": record.algorithms, "chunks": len(record.chunks),
                             "id": record.dataset_id}))
    phases = sorted(((phase, record, index) for record in records
                     for index, chunk in enumerate(record.chunks) for phase in chunk),
                    key=lambda item: (item[0].dim, item[0].start_ns))
    changes: dict[int, dict[int, int]] = {}
    by_dim: dict[int, list] = {}
    for item in phases:
        by_dim.setdefault(item[0].dim, []).append(item)
    for dim, items in by_dim.items():
        lanes = _lanes((phase.start_ns, phase.end_ns) for phase, _, _ in items)
        for (phase, record, index), lane in zip(items, lanes):
            tid = DIM_TID * (dim + 1) + lane
            threads[(pid, tid)] = f"dim {dim} chunks" if lane == 0 else \
                f"dim {dim} chunks ({lane + 1})"
            events.append(_span(f"{phase.kind} {record.label} #{index}", "chunk", pid, tid,
                                phase.start_ns, phase.end_ns,
                                {"algorithm": phase.algorithm, "size_bytes": phase.size_bytes,
                                 "queued_ns": phase.start_ns - phase.queued_ns,
                                 "collective": record.dataset_id}))
            delta = changes.setdefault(dim, {})
            delta[phase.start_ns] = delta.get(phase.start_ns, 0) + 1
            delta[phase.end_ns] = delta.get(phase.end_ns, 0) - 1
    for dim, delta in sorted(changes.items()):
        active = 0
        for time_ns in sorted(delta):
            active += delta[time_ns]
            events.append({"name": f"active chunks dim {dim}", "ph": "C", "pid": pid,
                           "ts": _us(time_ns), "args": {"chunks": active}})
    return events


def write_trace(result: RunResult, recorder: Recorder, path: str) -> int:
    """Write the trace file; returns its size in bytes."""
    document = {
        "traceEvents": trace_events(result, recorder),
        "displayTimeUnit": "ns",
        "otherData": {
            "generator": "astra-cosim",
            "run": result.name,
            "total_ns": result.total_ns,
            "traced_npus": sorted(recorder.npus),
            "npus": len(result.finish_ns),
            "link_bytes": dict(sorted(recorder.links.items())),
        },
    }
    text = json.dumps(document, separators=(",", ":"))
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return len(text.encode("utf-8"))
