"""``summary.json`` (the CLI contract), ``tutorial_result.csv`` and ``EndToEnd.csv``.

The CSV files use upstream 1.0's units: microseconds with three decimals, sizes in MB (2**20
bytes). ``summary.json`` holds integers in ns, the form other tools read.
"""

from __future__ import annotations

import csv
import json
import os

from orchestrator.output.results import RunResult
from orchestrator.units import ns_to_us_text

SUMMARY = "summary.json"
TUTORIAL_RESULT = "tutorial_result.csv"
END_TO_END = "EndToEnd.csv"


def summary_dict(result: RunResult) -> dict:
    return {
        "name": result.name,
        "format": result.input_format,
        "total_ns": result.total_ns,
        "min_finish_ns": min(result.finish_ns),
        "finish_ns": result.finish_ns,
        "compute_ns": result.compute_ns,
        "exposed_comm_ns": result.exposed_comm_ns,
        "payload_bytes": result.payload_bytes,
        "events_processed": result.events_processed,
        "cosim": result.cosim,
        "adapter_stats": result.adapter_stats,
        "symmetry": result.symmetry,
    }


def write_results(result: RunResult, out_dir: str) -> list[str]:
    """Write every result file; returns their paths."""
    os.makedirs(out_dir, exist_ok=True)
    names = (SUMMARY, TUTORIAL_RESULT, END_TO_END) if result.layers else (SUMMARY,
                                                                            TUTORIAL_RESULT)
    paths = [os.path.join(out_dir, name) for name in names]
    with open(paths[0], "w", encoding="utf-8") as handle:
        json.dump(summary_dict(result), handle, indent=2)
        handle.write("\n")
    with open(paths[1], "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Name", "TotalTime(us)", "ComputeTime(us)",
                         "ExposedCommunicationTime(us)", "TotalMessageSize(MB)"])
        writer.writerow([result.name, ns_to_us_text(result.total_ns),
                         ns_to_us_text(result.compute_ns), ns_to_us_text(result.exposed_comm_ns),
                         f"{result.payload_bytes / (1 << 20):.3f}"])
    if not result.layers:
        return paths
    with open(paths[2], "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Layer", "FwdCompute(us)", "IgCompute(us)", "WgCompute(us)",
                         "FwdExposedComm(us)", "IgExposedComm(us)", "WgExposedComm(us)",
                         "FwdTotalComm(us)", "IgTotalComm(us)", "WgTotalComm(us)",
                         "TotalCompute(us)", "TotalExposedComm(us)"])
        for layer in result.layers:
            writer.writerow([layer.name] + [ns_to_us_text(v) for v in (
                layer.fwd_compute_ns, layer.ig_compute_ns, layer.wg_compute_ns,
                layer.fwd_exposed_ns, layer.ig_exposed_ns, layer.wg_exposed_ns,
                layer.fwd_comm_ns, layer.ig_comm_ns, layer.wg_comm_ns,
                layer.compute_ns, layer.exposed_ns)])
    return paths
