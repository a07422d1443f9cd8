"""The bus bandwidth of a run that is a collective micro-benchmark, as one figure for tables.

A sweep's results.csv has one row per run, so it can carry a busbw only where a run has one:
every collective NPU 0 ran is of one kind and size (a ``MICRO`` workload, a one-node trace,
any number of passes). Then busbw is their mean, by nccl-tests' definition
(``statistics.CollectiveRow``); for a training workload the figure is left out.
"""

from __future__ import annotations

from typing import Any

from orchestrator.output.recorder import Recorder
from orchestrator.output.statistics import collectives_of


def micro_benchmark_figures(recorder: Recorder) -> dict[str, Any] | None:
    """``{kind, size_bytes, npus, collectives, busbw_GBps}`` or None when it does not apply."""
    rows = collectives_of(recorder)
    shapes = {(row.record.kind, row.record.size_bytes, row.record.participants) for row in rows}
    if len(shapes) != 1:
        return None
    ((kind, size, npus),) = shapes
    busbw = sum(row.busbw_gb_per_s for row in rows) / len(rows)
    return {"kind": kind, "size_bytes": size, "npus": npus, "collectives": len(rows),
            "busbw_GBps": round(busbw, 6)}
