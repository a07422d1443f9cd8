"""``astra-cosim report DIR``: the result files of one run, read back and summarised.

Only reads what ``astra-cosim run`` wrote (summary.json and the statistics CSVs described in
``statistics.py``); a missing optional file just leaves its table out, a missing
summary.json is an error naming the folder.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass, field

from orchestrator.errors import InputError, not_text
from orchestrator.output.files import SUMMARY
from orchestrator.output.statistics import COLLECTIVES, LAYERS, LINKS, UTILISATION

TOP = 10
# links.csv counters the terminal report shows when a model reports them (ns-3's RoCE fabric),
# with their column titles
LINK_COUNTERS = {"pauses_sent": "PFC pauses sent", "pauses_received": "pauses received",
                 "ecn_marks": "ECN marks", "max_queue_bytes": "max queue B"}


@dataclass
class RunReport:
    """One run's results as the report shows them (times in ns)."""

    folder: str
    summary: dict
    layers: list[dict] = field(default_factory=list)        # per layer, phases summed
    collectives: list[dict] = field(default_factory=list)
    utilisation: dict[str, list[float]] = field(default_factory=dict)   # dim -> per bin
    bin_edges_ns: list[int] = field(default_factory=list)
    links: list[dict] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.summary.get("name", os.path.basename(self.folder)))

    def top_layers(self, count: int = TOP) -> list[dict]:
        return sorted(self.layers, key=lambda row: -row["exposed_ns"])[:count]

    def mean_utilisation(self) -> dict[str, float]:
        return {dim: sum(values) / len(values) for dim, values in self.utilisation.items()
                if values}


def _rows(path: str) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# the summary figures the report shows: whole numbers of ns (finish_ns: one per NPU)
SHOWN_FIGURES = ("total_ns", "compute_ns", "exposed_comm_ns")


def load_report(folder: str) -> RunReport:
    """The run's files read back; one edited or damaged by hand is an InputError naming it
    (it was a KeyError or UnicodeDecodeError traceback)."""
    summary_path = os.path.join(folder, SUMMARY)
    if not os.path.isfile(summary_path):
        raise InputError(f"no {SUMMARY} here; give the --out folder of an `astra-cosim run`",
                         folder)
    current = summary_path
    try:
        with open(summary_path, encoding="utf-8") as handle:
            summary = json.load(handle)
        if not isinstance(summary, dict):
            raise ValueError("not a JSON object")
        for name in SHOWN_FIGURES:
            value = summary.get(name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name} is {value!r}; expected a whole number of ns")
        finish = summary.get("finish_ns")
        if not isinstance(finish, list) or not finish or \
                not all(isinstance(v, int) and not isinstance(v, bool) for v in finish):
            raise ValueError(f"finish_ns is {finish!r}; expected a list of whole numbers")
        report = RunReport(folder, summary)
        for name, read in ((LAYERS, _read_layers), (COLLECTIVES, _read_collectives),
                           (UTILISATION, _read_utilisation), (LINKS, _read_links)):
            current = os.path.join(folder, name)
            if os.path.isfile(current):
                read(report, _rows(current))
    except UnicodeDecodeError as exc:
        raise InputError(not_text(exc), current) from None
    except (KeyError, ValueError, TypeError) as exc:
        what = f"missing column {exc}" if isinstance(exc, KeyError) else str(exc)
        raise InputError(f"not as astra-cosim run wrote it ({what})", current) from None
    return report


def _read_layers(report: RunReport, rows: list[dict[str, str]]) -> None:
    layers: dict[str, dict] = {}
    for row in rows:
        entry = layers.setdefault(row["layer"], {
            "layer": row["layer"], "compute_ns": 0, "exposed_ns": 0, "comm_ns": 0,
            "fwd_exposed_ns": 0, "ig_exposed_ns": 0, "wg_exposed_ns": 0})
        entry["compute_ns"] += int(row["compute_ns"])
        entry["exposed_ns"] += int(row["exposed_comm_ns"])
        entry["comm_ns"] += int(row["total_comm_ns"])
        entry[f"{row['phase']}_exposed_ns"] += int(row["exposed_comm_ns"])
    report.layers = list(layers.values())


def _read_collectives(report: RunReport, rows: list[dict[str, str]]) -> None:
    report.collectives = [
        {"label": row["label"], "kind": row["kind"], "size_bytes": int(row["size_bytes"]),
         "npus": int(row["npus"]), "start_ns": int(row["start_ns"]),
         "duration_ns": int(row["duration_ns"]), "busbw": float(row["busbw_GBps"]),
         "algorithms": row["algorithms"]}
        for row in rows]


def _read_utilisation(report: RunReport, rows: list[dict[str, str]]) -> None:
    dims = [key for key in (rows[0] if rows else {}) if key.startswith("dim")]
    report.utilisation = {dim: [float(row[dim]) for row in rows] for dim in dims}
    report.bin_edges_ns = [int(row["start_ns"]) for row in rows]


def _read_links(report: RunReport, rows: list[dict[str, str]]) -> None:
    report.links = [{"link": row["link"], "bytes": int(row["bytes"]),
                     "utilisation": float(row["utilisation"]) if row["utilisation"]
                     else None,
                     **{key: float(row[key]) for key in LINK_COUNTERS if row.get(key)}}
                    for row in rows]


def _us(time_ns: int) -> str:
    return f"{time_ns / 1000:,.3f}"


# Wide enough for any table: off a terminal (a log, a pipe, CI) nothing may be cut or wrapped
# ("1,056,539.6…" in a log is useless); tables still take only the width they need.
UNBOUNDED_WIDTH = 10_000


def _console():
    """Rich's console on a terminal (fits its width); unbounded when stdout is not a TTY."""
    from rich.console import Console

    console = Console()
    if console.is_terminal:
        return console
    return Console(width=UNBOUNDED_WIDTH)


def print_report(report: RunReport) -> None:
    """Rich tables on the terminal: totals, top layers by exposed comm, utilisation."""
    from rich.console import Console
    from rich.table import Table

    console = _console()
    summary = report.summary
    totals = Table(title=f"{report.name} ({summary.get('format', '?')})", title_justify="left")
    for column in ("total (µs)", "compute (µs)", "exposed comm (µs)", "exposed share",
                   "NPUs", "events"):
        totals.add_column(column, justify="right")
    total = summary["total_ns"]
    exposed = summary["exposed_comm_ns"]
    totals.add_row(_us(total), _us(summary["compute_ns"]), _us(exposed),
                   f"{exposed / total:.1%}" if total else "–", str(len(summary["finish_ns"])),
                   f"{summary['events_processed']:,}")
    console.print(totals)
    if report.layers:
        table = Table(title=f"top {TOP} layers by exposed communication (NPU 0)",
                      title_justify="left")
        for column in ("layer", "compute (µs)", "exposed (µs)", "fwd / ig / wg exposed (µs)",
                       "total comm (µs)"):
            table.add_column(column, justify="left" if column == "layer" else "right")
        for row in report.top_layers():
            table.add_row(row["layer"], _us(row["compute_ns"]), _us(row["exposed_ns"]),
                          " / ".join(_us(row[f"{k}_exposed_ns"]) for k in ("fwd", "ig", "wg")),
                          _us(row["comm_ns"]))
        console.print(table)
    if report.collectives:
        table = Table(title=f"collectives (NPU 0): {len(report.collectives)}, longest {TOP}",
                      title_justify="left")
        for column in ("collective", "kind", "MiB", "NPUs", "algorithms", "time (µs)",
                       "busbw (GB/s)"):
            table.add_column(column, justify="left" if column in ("collective", "kind",
                                                                   "algorithms") else "right")
        for row in sorted(report.collectives, key=lambda r: -r["duration_ns"])[:TOP]:
            table.add_row(row["label"], row["kind"], f"{row['size_bytes'] / 2**20:,.2f}",
                          str(row["npus"]), row["algorithms"], _us(row["duration_ns"]),
                          f"{row['busbw']:.2f}")
        console.print(table)
    if report.utilisation:
        table = Table(title="per-dimension utilisation (NPU 0: share of time with a chunk "
                            "active)", title_justify="left")
        table.add_column("dimension")
        table.add_column("mean", justify="right")
        table.add_column("peak decile", justify="right")
        for dim, values in report.utilisation.items():
            ordered = sorted(values)
            table.add_row(dim, f"{sum(values) / len(values):.1%}",
                          f"{ordered[int(len(ordered) * 0.9)]:.1%}")
        console.print(table)
    if report.links:
        table = Table(title=f"busiest {TOP} links of {len(report.links)}", title_justify="left")
        counters = [key for key in LINK_COUNTERS if any(key in row for row in report.links)]
        for column in ("link", "MiB", "utilisation", *counters):
            table.add_column(LINK_COUNTERS.get(column, column),
                             justify="left" if column == "link" else "right")
        for row in report.links[:TOP]:
            share = row["utilisation"]
            table.add_row(row["link"], f"{row['bytes'] / 2**20:,.2f}",
                          "–" if share is None else f"{share:.1%}",
                          *(f"{row[key]:,.0f}" if key in row else "–" for key in counters))
        console.print(table)
