"""The nccl-tests table of ``astra-cosim collective``: its terminal layout, CSV and plot.

The layout is nccl-tests' out-of-place half (size, count, type, redop, root, time in µs,
algbw and busbw in GB/s = 1e9 bytes/s), so the rows read like a GPU run's; ``#wrong`` is
``N/A`` (a simulation checks no data) and the in-place half is left out (it times the same).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence

from orchestrator.nccl.bench import Row

CSV_NAME = "collective.csv"
PLOT_NAME = "busbw.png"
CSV_COLUMNS = ["size_bytes", "count", "type", "redop", "root", "time_ns", "time_us",
               "algbw_GBps", "busbw_GBps"]


def header(title: str) -> list[str]:
    """nccl-tests' two header lines, after a line naming what runs."""
    return [f"# {title}",
            "#",
            f"#{'size':>12}  {'count':>12}  {'type':>8}  {'redop':>6}  {'root':>6}  "
            f"{'time':>7}  {'algbw':>6}  {'busbw':>6}  {'#wrong':>6}",
            f"#{'(B)':>12}  {'(elements)':>12}  {'':>8}  {'':>6}  {'':>6}  "
            f"{'(us)':>7}  {'(GB/s)':>6}  {'(GB/s)':>6}  {'':>6}"]


def _time_us(time_ns: int) -> str:
    """nccl-tests' width-7 time: fewer decimals as it grows."""
    us = time_ns / 1000
    if us >= 10000:
        return f"{us:7.0f}"
    if us >= 100:
        return f"{us:7.1f}"
    return f"{us:7.2f}"


def line(row: Row) -> str:
    return (f" {row.size_bytes:>12}  {row.count:>12}  {row.type_name:>8}  {row.redop:>6}  "
            f"{-1:>6}  {_time_us(row.time_ns)}  {row.algbw_gb_per_s:6.2f}  "
            f"{row.busbw_gb_per_s:6.2f}  {'N/A':>6}")


def footer(rows: Sequence[Row]) -> list[str]:
    """nccl-tests' closing line: the mean bus bandwidth over the rows."""
    mean = sum(row.busbw_gb_per_s for row in rows) / len(rows) if rows else 0.0
    return [f"# Avg bus bandwidth    : {mean:.4f} "]


def write_csv(rows: Sequence[Row], path: str) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            writer.writerow([row.size_bytes, row.count, row.type_name, row.redop, -1,
                             row.time_ns, f"{row.time_ns / 1000:.3f}",
                             f"{row.algbw_gb_per_s:.6f}", f"{row.busbw_gb_per_s:.6f}"])


def write_plot(rows: Sequence[Row], title: str, path: str) -> None:
    """busbw against size, sizes on a log-2 axis (needs matplotlib)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4))
    axes.plot([row.size_bytes for row in rows], [row.busbw_gb_per_s for row in rows],
              marker="o")
    axes.set_xscale("log", base=2)
    axes.set_xlabel("size (bytes)")
    axes.set_ylabel("busbw (GB/s)")
    axes.set_title(title, fontsize=10)
    axes.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
