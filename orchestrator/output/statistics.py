"""Statistics files of a run, from NPU 0's recorded spans (the NPU the reference reports).

* ``collectives.csv``: one row per collective: size, algorithm per dimension, issue and finish
  time, achieved algorithm and bus bandwidth. Bus bandwidth follows nccl-tests
  (doc/PERFORMANCE.md there): algbw = S / t with S the collective's total buffer (for an
  all-gather the gathered output, n times the per-NPU input ASTRA-sim sizes it by); busbw =
  algbw x 2(n-1)/n for all-reduce and algbw x (n-1)/n for all-gather, reduce-scatter and
  all-to-all, n the NPUs taking part. GB/s here is 1e9 bytes/s, as in nccl-tests (ASTRA-sim's
  link bandwidths use 2**30).
* ``layers.csv`` (1.0 workloads): per layer and training phase (fwd / ig / wg): compute,
  exposed and total communication (as ``EndToEnd.csv``), and per dimension the chunk time
  spent queued (waiting for the dimension's active-chunks slot) and active (sending, receiving
  and crossing the memory bus), summed over chunks; 1.0's detailed per-layer report splits
  time the same way.
* ``dimension_utilisation.csv``: in ``BINS`` equal slices of the run, the share of each slice
  during which NPU 0 had at least one chunk active on that dimension.
* ``links.csv``: bytes per network link and utilisation, when the network model reports
  links: the model's own measure where it has one (ns-3: the link's busy time over the
  simulated time), else bytes / (bandwidth x total time); then any other per-link counter
  the model reports (ns-3's RoCE fabric: PFC pauses, ECN marks, drops, queue depths).

All counts are integers in ns and bytes; floats appear only for rates and shares.
"""

from __future__ import annotations

import bisect
import csv
import os
from collections.abc import Iterable
from dataclasses import dataclass

from orchestrator.output.recorder import RECOMPUTED, CollectiveRecord, Recorder
from orchestrator.output.results import RunResult

COLLECTIVES = "collectives.csv"
LAYERS = "layers.csv"
UTILISATION = "dimension_utilisation.csv"
LINKS = "links.csv"
BINS = 100
REPORTING_NPU = 0


def bus_factor(kind: str, participants: int) -> float:
    """nccl-tests' busbw / algbw for one collective kind."""
    n = participants
    if n <= 1:
        return 0.0
    if kind == "ALLREDUCE":
        return 2 * (n - 1) / n
    if kind in ("ALLGATHER", "REDUCESCATTER", "ALLTOALL"):
        return (n - 1) / n
    raise ValueError(f"no bus-bandwidth factor for {kind}")


def nccl_bytes(record: CollectiveRecord) -> int:
    """The size nccl-tests divides by the time: an all-gather's gathered output."""
    if record.kind == "ALLGATHER":
        return record.size_bytes * record.participants
    return record.size_bytes


@dataclass(slots=True, frozen=True)
class CollectiveRow:
    record: CollectiveRecord

    @property
    def duration_ns(self) -> int:
        return self.record.end_ns - self.record.start_ns

    @property
    def algbw_gb_per_s(self) -> float:
        return nccl_bytes(self.record) / self.duration_ns if self.duration_ns else 0.0

    @property
    def busbw_gb_per_s(self) -> float:
        return self.algbw_gb_per_s * bus_factor(self.record.kind, self.record.participants)


def collectives_of(recorder: Recorder, npu: int = REPORTING_NPU) -> list[CollectiveRow]:
    rows = [CollectiveRow(r) for r in recorder.collectives if r.npu == npu]
    rows.sort(key=lambda row: (row.record.start_ns, row.record.dataset_id))
    return rows


def dims_of(recorder: Recorder, npu: int = REPORTING_NPU) -> list[int]:
    return sorted({phase.dim for record in recorder.collectives if record.npu == npu
                   for chunk in record.chunks for phase in chunk})


def queue_and_active(records: Iterable[CollectiveRecord], dims: list[int]
                     ) -> dict[int, tuple[int, int, int]]:
    """Per dimension: (chunk-ns queued, chunk-ns active, chunk phases)."""
    totals = {dim: [0, 0, 0] for dim in dims}
    for record in records:
        for chunk in record.chunks:
            for phase in chunk:
                entry = totals[phase.dim]
                entry[0] += phase.start_ns - phase.queued_ns
                entry[1] += phase.end_ns - phase.start_ns
                entry[2] += 1
    return {dim: (q, a, n) for dim, (q, a, n) in totals.items()}


def busy_intervals(recorder: Recorder, dim: int, npu: int = REPORTING_NPU
                   ) -> list[tuple[int, int]]:
    """Merged [start, end) intervals during which ``npu`` had a chunk active on ``dim``."""
    spans = sorted((phase.start_ns, phase.end_ns) for record in recorder.collectives
                   if record.npu == npu for chunk in record.chunks for phase in chunk
                   if phase.dim == dim and phase.end_ns > phase.start_ns)
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def utilisation_bins(intervals: list[tuple[int, int]], total_ns: int, bins: int = BINS
                     ) -> list[float]:
    """Share of each of ``bins`` equal slices of [0, total_ns) covered by ``intervals``."""
    if total_ns <= 0:
        return []
    edges = [total_ns * i // bins for i in range(bins + 1)]
    covered = [0] * bins
    for start, end in intervals:
        first = max(0, bisect.bisect_right(edges, start) - 1)
        for i in range(first, bins):
            low, high = edges[i], edges[i + 1]
            if low >= end:
                break
            covered[i] += max(0, min(end, high) - max(start, low))
    return [covered[i] / (edges[i + 1] - edges[i]) if edges[i + 1] > edges[i] else 0.0
            for i in range(bins)]


def write_statistics(result: RunResult, recorder: Recorder, out_dir: str) -> list[str]:
    """Write the statistics files; returns their paths."""
    os.makedirs(out_dir, exist_ok=True)
    paths = [_write_collectives(recorder, out_dir)]
    if result.layers:
        paths.append(_write_layers(result, recorder, out_dir))
    paths.append(_write_utilisation(result, recorder, out_dir))
    if recorder.links:
        paths.append(_write_links(result, recorder, out_dir))
    return paths


def _write_collectives(recorder: Recorder, out_dir: str) -> str:
    path = os.path.join(out_dir, COLLECTIVES)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "label", "kind", "size_bytes", "npus", "algorithms", "chunks",
                         "start_ns", "end_ns", "duration_ns", "algbw_GBps", "busbw_GBps"])
        for row in collectives_of(recorder):
            r = row.record
            writer.writerow([r.dataset_id, r.label, r.kind, r.size_bytes, r.participants,
                             r.algorithms, len(r.chunks), r.start_ns, r.end_ns, row.duration_ns,
                             f"{row.algbw_gb_per_s:.6f}", f"{row.busbw_gb_per_s:.6f}"])
    return path


def _write_layers(result: RunResult, recorder: Recorder, out_dir: str) -> str:
    dims = dims_of(recorder)
    by_label: dict[str, list[CollectiveRecord]] = {}
    for record in recorder.collectives:
        if record.npu == REPORTING_NPU:
            # a recomputed forward counts in its layer's fwd phase, as its time does
            by_label.setdefault(record.label.removesuffix(RECOMPUTED), []).append(record)
    path = os.path.join(out_dir, LAYERS)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        header = ["layer", "phase", "compute_ns", "exposed_comm_ns", "total_comm_ns",
                  "collectives"]
        for dim in dims:
            header += [f"queued_ns_dim{dim}", f"active_ns_dim{dim}", f"chunk_phases_dim{dim}"]
        writer.writerow(header)
        for layer in result.layers:
            for kind in ("fwd", "ig", "wg"):
                records = by_label.get(f"{layer.name}.{kind}", [])
                row = [layer.name, kind, getattr(layer, f"{kind}_compute_ns"),
                       getattr(layer, f"{kind}_exposed_ns"), getattr(layer, f"{kind}_comm_ns"),
                       len(records)]
                split = queue_and_active(records, dims)
                for dim in dims:
                    row += list(split[dim])
                writer.writerow(row)
    return path


def _write_utilisation(result: RunResult, recorder: Recorder, out_dir: str) -> str:
    dims = dims_of(recorder)
    columns = [utilisation_bins(busy_intervals(recorder, dim), result.total_ns) for dim in dims]
    path = os.path.join(out_dir, UTILISATION)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["start_ns", "end_ns"] + [f"dim{dim}" for dim in dims])
        for i in range(BINS if result.total_ns > 0 else 0):
            writer.writerow([result.total_ns * i // BINS, result.total_ns * (i + 1) // BINS]
                            + [f"{column[i]:.4f}" for column in columns])
    return path


def link_metrics(network_stats: dict[str, float]) -> list[str]:
    """Per-link counters a model reports besides bytes and utilisation, as
    ``link_<metric>/<link>`` (ns-3's RoCE fabric: pauses, ECN marks, queue depths), sorted."""
    return sorted({key.split("/", 1)[0][len("link_"):] for key in network_stats
                   if key.startswith("link_") and "/" in key} - {"utilisation"})


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _write_links(result: RunResult, recorder: Recorder, out_dir: str) -> str:
    path = os.path.join(out_dir, LINKS)
    extras = link_metrics(recorder.network_stats)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["link", "bytes", "utilisation"] + extras)
        # busiest first; ties by name (a map through the protocol has no order of its own)
        for name, carried in sorted(recorder.links.items(), key=lambda item: (-item[1], item[0])):
            share = recorder.link_utilisation.get(name)
            rate = recorder.link_bytes_per_ns.get(name)
            if share is None and rate and result.total_ns:
                share = carried / (rate * result.total_ns)
            writer.writerow([name, carried, "" if share is None else f"{share:.4f}"] +
                            [_number(recorder.network_stats.get(f"link_{metric}/{name}"))
                             for metric in extras])
    return path
