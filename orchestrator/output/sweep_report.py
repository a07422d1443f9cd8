"""``astra-cosim report SWEEP_DIR``: a sweep's results.csv read back and summarised.

One row per trial: the axis values, total / compute / exposed communication in µs, bus
bandwidth where the trial is one collective (``busbw_GBps``), and the status; failed trials
show their error. ``--html`` writes the same table with the sweep's plots (total against the
first axis, and busbw against it when there is a busbw) as one self-contained page. Only
reads what ``astra-cosim sweep`` wrote; an older results.csv without the µs and busbw columns
is read too (µs come from the ns columns).

A parallelism search (a sweep with ``predict:``) is shown from its ``ranking.csv``, best first:
its split, predicted TFLOP/s per GPU, MFU, step time and memory per GPU against the HBM.
"""

from __future__ import annotations

import base64
import csv
import html
import os
from dataclasses import dataclass

from orchestrator.errors import InputError, not_text

RESULTS = "results.csv"
TOTAL_PLOT = "total_ns.png"
FIRST_FIGURE = "total_ns"          # results.csv: the axis columns come before it
RANKING = "ranking.csv"            # a parallelism search's trials, best first
SEARCH_FIGURE = "iteration_ns"     # ... whose first figure column is this one


@dataclass
class SweepReport:
    folder: str
    axes: list[str]
    rows: list[dict[str, str]]
    failures: list[dict[str, str]] | None = None     # a search: failed rows of results.csv

    @property
    def name(self) -> str:
        return os.path.basename(os.path.normpath(self.folder))

    @property
    def has_busbw(self) -> bool:
        return any(row.get("busbw_GBps") for row in self.rows)

    @property
    def search(self) -> bool:
        return self.failures is not None

    def failed(self) -> list[dict[str, str]]:
        if self.failures is not None:
            return self.failures
        return [row for row in self.rows if row.get("status") != "ok"]


def is_sweep_folder(folder: str) -> bool:
    return os.path.isfile(os.path.join(folder, RESULTS)) and not os.path.isfile(
        os.path.join(folder, "summary.json"))


def _read_csv(path: str) -> tuple[list[str], list[dict[str, str]]]:
    """A CSV's columns and rows; a file that is not text (or not CSV) is an InputError."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            return list(reader.fieldnames or []), list(reader)
    except UnicodeDecodeError as exc:
        raise InputError(not_text(exc), path) from None
    except csv.Error as exc:
        raise InputError(f"not a CSV file ({exc})", path) from None


def load_sweep_report(folder: str) -> SweepReport:
    path = os.path.join(folder, RESULTS)
    columns, rows = _read_csv(path)
    ranking = os.path.join(folder, RANKING)
    if SEARCH_FIGURE in columns and os.path.isfile(ranking):
        ranked = _read_csv(ranking)[1]
        return SweepReport(folder, columns[:columns.index(SEARCH_FIGURE)], ranked,
                           [row for row in rows if row.get("status") != "ok"])
    if FIRST_FIGURE not in columns:
        raise InputError(f"no {FIRST_FIGURE} column; expected the results.csv of "
                         "`astra-cosim sweep`", path)
    return SweepReport(folder, columns[:columns.index(FIRST_FIGURE)], rows)


def _us(row: dict[str, str], name: str) -> str:
    """µs with three decimals and thousands separators, from the µs or the ns column."""
    value = row.get(f"{name}_us") or ""
    if not value and row.get(f"{name}_ns"):
        value = str(int(row[f"{name}_ns"]) / 1000)
    return f"{float(value):,.3f}" if value else "–"


def _search_table(report: SweepReport) -> tuple[list[str], list[list[str]]]:
    headers = ["rank", *report.axes, "TFLOP/s per GPU", "MFU (%)", "step (s)", "memory (GB)",
               "HBM (GB)"]
    cells = [[row["rank"], *(row[axis] for axis in report.axes),
              f"{float(row['tflops_per_gpu']):.1f}", f"{100 * float(row['mfu']):.1f}",
              f"{int(row['iteration_ns']) / 1e9:.3f}", f"{float(row['memory_gb']):.1f}",
              f"{float(row['hbm_gb']):g}"] for row in report.rows]
    return headers, cells


def best_line(report: SweepReport) -> str | None:
    """A parallelism search's best split in words, with its predicted step time and memory
    (the line `astra-cosim sweep` ends with); None for other sweeps or no finished trial."""
    if not (report.search and report.rows):
        return None
    row = report.rows[0]
    split = " ".join(f"{axis}={row[axis]}" for axis in report.axes)
    return (f"best: {split}: {float(row['tflops_per_gpu']):.1f} TFLOP/s per GPU (MFU "
            f"{100 * float(row['mfu']):.1f}%), predicted step {int(row['iteration_ns']) / 1e9:.3f}"
            f" s, memory {float(row['memory_gb']):.1f} of {float(row['hbm_gb']):g} GB per GPU")


def table(report: SweepReport) -> tuple[list[str], list[list[str]]]:
    """Headers and cells of the summary table, shared by the terminal and the HTML page."""
    if report.search:
        return _search_table(report)
    headers = [*report.axes, "total (µs)", "compute (µs)", "exposed comm (µs)"]
    if report.has_busbw:
        headers.append("busbw (GB/s)")
    headers.append("status")
    cells = []
    for row in report.rows:
        line = [row[axis] for axis in report.axes]
        line += [_us(row, "total"), _us(row, "compute"), _us(row, "exposed_comm")]
        if report.has_busbw:
            line.append(f"{float(row['busbw_GBps']):.2f}" if row.get("busbw_GBps") else "–")
        line.append(row.get("status", "?"))
        cells.append(line)
    return headers, cells


def print_sweep_report(report: SweepReport) -> None:
    from rich.table import Table

    from orchestrator.output.report import _console

    console = _console()
    headers, cells = table(report)
    if report.search:
        title = (f"parallelism search {report.name}: {len(report.rows)} trials ok, "
                 f"{len(report.failed())} failed; best first by predicted TFLOP/s per GPU")
    else:
        title = (f"sweep {report.name}: {len(report.rows)} trials, "
                 f"{len(report.rows) - len(report.failed())} ok, {len(report.failed())} failed")
    grid = Table(title=title, title_justify="left")
    for index, header in enumerate(headers):
        grid.add_column(header, justify="left" if index < len(report.axes) + report.search
                        or header == "status" else "right")
    for line in cells:
        grid.add_row(*line)
    console.print(grid)
    best = best_line(report)
    if best:
        console.print(best, soft_wrap=True)
    for row in report.failed():
        console.print(f"failed: {', '.join(f'{a}={row[a]}' for a in report.axes)}: "
                      f"{row.get('error', '')}", soft_wrap=True)
    plot = os.path.join(report.folder, TOTAL_PLOT)
    if os.path.isfile(plot):
        console.print(f"plot: {plot}", soft_wrap=True)


def _busbw_png(report: SweepReport) -> str | None:
    """busbw against the first axis (numbers only), as base64 PNG; None without matplotlib
    or numeric values."""
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")
    import io

    import matplotlib.pyplot as plt
    points = []
    for row in report.rows:
        try:
            points.append((float(row[report.axes[0]]), float(row["busbw_GBps"])))
        except (ValueError, KeyError, IndexError):
            continue
    if not points:
        return None
    points.sort()
    figure, axis = plt.subplots(figsize=(7, 3.5))
    axis.plot([p[0] for p in points], [p[1] for p in points], marker="o")
    if points[0][0] > 0 and points[-1][0] / points[0][0] >= 64:
        axis.set_xscale("log", base=2)
    axis.set_xlabel(report.axes[0])
    axis.set_ylabel("busbw (GB/s)")
    axis.grid(True, alpha=0.3)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=96, bbox_inches="tight")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def render_sweep_html(report: SweepReport) -> str:
    from orchestrator.output.report_html import _table, page

    headers, cells = table(report)
    best = best_line(report)
    sections = [f"<p><strong>{html.escape(best)}</strong></p>"] if best else []
    sections.append(_table(headers, cells))
    plot = os.path.join(report.folder, TOTAL_PLOT)
    if os.path.isfile(plot):
        with open(plot, "rb") as handle:
            png = base64.b64encode(handle.read()).decode("ascii")
        sections.append(f'<h2>Total time</h2><img alt="total_ns" '
                        f'src="data:image/png;base64,{png}">')
    busbw = _busbw_png(report) if report.has_busbw else None
    if busbw:
        sections.append(f'<h2>Bus bandwidth (nccl-tests busbw)</h2><img alt="busbw" '
                        f'src="data:image/png;base64,{busbw}">')
    for row in report.failed():
        sections.append(f"<p>failed: {html.escape(', '.join(f'{a}={row[a]}' for a in report.axes))}"
                        f": {html.escape(row.get('error', ''))}</p>")
    return page(f"astra-cosim sweep: {report.name}",
                f"From <code>{html.escape(report.folder)}</code>: {len(report.rows)} trials.",
                sections)


def write_sweep_html(report: SweepReport, path: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(render_sweep_html(report))
