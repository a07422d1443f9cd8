"""The sweep's results table (CSV, and Parquet when pandas and pyarrow are there) and its plot.

One row per trial, in the sweep's order (not the order trials finished), so two executors give
byte-identical tables. Columns: one per axis (named by its key path), then the summary figures
of ``summary.json`` that are single numbers, ``status``, ``error`` and the trial's key. Wall
times are left out on purpose: they live in the trial files, and a table that changed with the
machine's load could not be compared.

Parquet and the plot are optional extras (``pip install 'astra-cosim[sweep]'``): when their
libraries are missing the CSV is still written and a note says what was skipped.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from typing import Any

from orchestrator.sweep.store import FIGURES

# read in µs, as upstream prints times; busbw (GB/s, nccl-tests') where a trial is one
# collective micro-benchmark (output/collective_figures.py), else blank
DERIVED = ("total_us", "compute_us", "exposed_comm_us", "busbw_GBps")
TAIL_COLUMNS = (*FIGURES, *DERIVED, "status", "error", "trial")
CSV_NAME = "results.csv"
PARQUET_NAME = "results.parquet"
PLOT_NAME = "total_ns.png"


def table_rows(axis_paths: Sequence[str], entries: Sequence[tuple[dict[str, Any],
               dict[str, Any] | None]]) -> list[dict[str, Any]]:
    """Rows from ``(axis values, record or None)`` in sweep order; trials without a record
    (not run yet) are left out."""
    rows = []
    for axes, record in entries:
        if record is None:
            continue
        summary = record.get("summary")
        summary = summary if isinstance(summary, dict) else {}
        row = {path: axes.get(path) for path in axis_paths}
        row.update((name, _figure(summary.get(name))) for name in FIGURES)
        row.update(_derived(row, record.get("collective")))
        row.update(status=record.get("status"), error=record.get("error"), trial=record["key"])
        rows.append(row)
    return rows


def _figure(value: Any) -> int | None:
    """A figure as a whole number, or None (an empty cell) for anything else: the store
    refuses such files, but a table must never fail on one value."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _derived(figures: dict[str, Any], collective: Any) -> dict[str, Any]:
    """The µs columns (exact: ns / 1000 has at most three decimals) and busbw, from the row's
    checked figures and the trial's collective figures (a number, or an empty cell)."""
    row = {f"{name}_us": figures[f"{name}_ns"] / 1000 if figures.get(f"{name}_ns") is not None
           else None for name in ("total", "compute", "exposed_comm")}
    busbw = collective.get("busbw_GBps") if isinstance(collective, dict) else None
    row["busbw_GBps"] = busbw if isinstance(busbw, (int, float)) and \
        not isinstance(busbw, bool) else None
    return row


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return value


def write_csv(rows: list[dict[str, Any]], columns: Sequence[str], path: str) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row[column]) for column in columns])


def write_parquet(rows: list[dict[str, Any]], axis_paths: Sequence[str],
                  columns: Sequence[str], path: str) -> str | None:
    """Writes the table as Parquet; returns a note when it could not."""
    try:
        import pandas
        import pyarrow  # noqa: F401 - pandas' Parquet engine
    except ImportError:
        return ("results.parquet skipped: pandas and pyarrow are not installed "
                "(pip install 'astra-cosim[sweep]')")
    frame = pandas.DataFrame([[row[column] for column in columns] for row in rows],
                             columns=list(columns))
    for column in axis_paths:      # one Parquet type per column: mixed values become JSON
        values = [row[column] for row in rows]
        if len({_type_class(value) for value in values}) > 1 or \
                any(isinstance(value, (dict, list)) for value in values):
            frame[column] = [json.dumps(value, sort_keys=True) for value in values]
    for column in FIGURES:
        frame[column] = frame[column].astype("Int64")
    frame.to_parquet(path, index=False)
    return None


def _type_class(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def write_plot(rows: list[dict[str, Any]], axis_paths: Sequence[str], path: str,
               title: str) -> str | None:
    """total_ns against the first axis, one line per combination of the other axes (per
    value of the second axis when there are two). Returns a note when it could not plot."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return (f"{PLOT_NAME} skipped: matplotlib is not installed "
                "(pip install 'astra-cosim[sweep]')")
    done = [row for row in rows if row["status"] == "ok" and row["total_ns"] is not None]
    if not done:
        return f"{PLOT_NAME} skipped: no trial finished"
    x_path, others = axis_paths[0], list(axis_paths[1:])
    x_values = _ordered([row[x_path] for row in done])
    numeric = all(_type_class(value) == "number" for value in x_values)
    if numeric:
        x_values = sorted(x_values)
    position = {_hashable(value): index for index, value in enumerate(x_values)}
    lines: dict[tuple, list[tuple[Any, int]]] = {}
    for row in done:
        label = tuple(_hashable(row[other]) for other in others)
        x = row[x_path] if numeric else position[_hashable(row[x_path])]
        lines.setdefault(label, []).append((x, row["total_ns"]))
    figure = Figure(figsize=(7, 4.5), dpi=120)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for label, points in lines.items():
        points.sort(key=lambda point: point[0])
        name = ", ".join(f"{other}={value}" for other, value in zip(others, label)) or None
        axes.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=name)
    if numeric and min(x_values) > 0 and max(x_values) / min(x_values) >= 64:
        axes.set_xscale("log", base=2)
    if not numeric:
        axes.set_xticks(range(len(x_values)), [str(value) for value in x_values])
    totals = [row["total_ns"] for row in done]
    if min(totals) > 0 and max(totals) / min(totals) >= 100:
        axes.set_yscale("log")
    axes.set_xlabel(x_path)
    axes.set_ylabel("total_ns (simulated ns)")
    axes.set_title(title)
    axes.grid(True, alpha=0.3)
    if others:
        axes.legend(fontsize="small", ncols=1 + len(lines) // 12)
    figure.tight_layout()
    figure.savefig(path)
    return None


def _hashable(value: Any) -> Any:
    return json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else value


def _ordered(values: list[Any]) -> list[Any]:
    """Distinct values in first-seen order (NaN-free numbers compare as themselves)."""
    seen: dict[Any, Any] = {}
    for value in values:
        seen.setdefault(_hashable(value), value)
    return [value for value in seen.values()
            if not (isinstance(value, float) and math.isnan(value))]
