"""The tutorial's plots (the ASPLOS'23 repeat of MLSys'22 ships them, SEMANTICS §8.1), drawn
from the runs that sit side by side in one results folder:

* ``ex2_1_time_vs_allreduce_size.png``: total time against all-reduce size, from the runs
  named ``ex2_1_comm_scale_<k>`` (a 1 MiB all-reduce scaled by k, experiments/tutorial);
* ``ex3_compute_vs_exposed.png``: one horizontal bar per ``ex3_*`` run, compute stacked with
  exposed communication;
* ``asplos23_ex3_1_utilisation.png``: for each ``asplos23_ex3_1_<policy>`` run (ASPLOS'23
  exercise 3-1, experiments/themis), NPU 0's per-dimension utilisation over time, read from
  the run's ``dimension_utilisation.csv`` as the report reads it, one panel per run on a
  common time axis so that the baseline's idle dimensions and Themis's balance show side by
  side.

After each run the CLI redraws the plot of the group the run belongs to, so running the
group's experiments into ``results/<name>`` (the default) leaves the plot in ``results/``.
Plots need matplotlib (``pip install 'astra-cosim[sweep]'``); without it, none is drawn and the
caller says so.
"""

from __future__ import annotations

import json
import os
import re

SIZE_SWEEP = "ex2_1_time_vs_allreduce_size.png"
COMPUTE_VS_EXPOSED = "ex3_compute_vs_exposed.png"
_SIZE_RUN = re.compile(r"ex2_1_comm_scale_(\d+)$")
_SYSTEM_RUN = re.compile(r"ex3_")
THEMIS_UTILISATION = "asplos23_ex3_1_utilisation.png"
_THEMIS_RUN = re.compile(r"asplos23_ex3_1_\w+$")
MIB = 1 << 20


def _summaries(results_root: str, pattern: re.Pattern) -> dict[str, dict]:
    found = {}
    for name in sorted(os.listdir(results_root)):
        path = os.path.join(results_root, name, "summary.json")
        if pattern.match(name) and os.path.isfile(path):
            with open(path, encoding="utf-8") as handle:
                summary = json.load(handle)
            found[summary.get("name", name)] = summary
    return found


def plot_for(run_name: str, out_dir: str) -> str | None:
    """Redraw the plot of ``run_name``'s group next to ``out_dir``; its path, or None when the
    run belongs to no group or its results are not in a folder named after it (the layout
    that lets the group's runs find each other). Raises ImportError without matplotlib."""
    if os.path.basename(os.path.normpath(out_dir)) != run_name:
        return None
    if _SIZE_RUN.match(run_name):
        root = os.path.dirname(os.path.abspath(out_dir))
        return _size_sweep(_summaries(root, _SIZE_RUN), os.path.join(root, SIZE_SWEEP))
    if _THEMIS_RUN.match(run_name):
        root = os.path.dirname(os.path.abspath(out_dir))
        folders = {name: os.path.join(root, name) for name in _summaries(root, _THEMIS_RUN)}
        return _utilisation_panels(folders, os.path.join(root, THEMIS_UTILISATION))
    if _SYSTEM_RUN.match(run_name):
        root = os.path.dirname(os.path.abspath(out_dir))
        return _compute_vs_exposed(_summaries(root, _SYSTEM_RUN),
                                   os.path.join(root, COMPUTE_VS_EXPOSED))
    return None


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    figure = Figure(figsize=(width, height))
    FigureCanvasAgg(figure)
    return figure


def _size_sweep(runs: dict[str, dict], path: str) -> str | None:
    if not runs:
        return None                   # the group's results are elsewhere: nothing to draw
    points = sorted((int(_SIZE_RUN.match(name).group(1)) * MIB, summary["total_ns"] / 1000)
                    for name, summary in runs.items())
    figure = _figure(6, 4)
    axes = figure.add_subplot()
    axes.plot([size / MIB for size, _ in points], [us for _, us in points], marker="o")
    axes.set_xscale("log", base=2)
    axes.set_yscale("log")
    axes.set_xlabel("all-reduce size (MiB)")
    axes.set_ylabel("total time (µs)")
    axes.set_title("Exercise 2-1: all-reduce time against size")
    axes.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    return path


def _compute_vs_exposed(runs: dict[str, dict], path: str) -> str | None:
    if not runs:
        return None
    names = list(runs)
    compute = [runs[name]["compute_ns"] / 1000 for name in names]
    exposed = [runs[name]["exposed_comm_ns"] / 1000 for name in names]
    figure = _figure(7, 1.6 + 0.5 * len(names))
    axes = figure.add_subplot()
    axes.barh(names, compute, label="compute")
    axes.barh(names, exposed, left=compute, label="exposed communication")
    axes.invert_yaxis()
    axes.set_xlabel("time (µs)")
    axes.set_title("Exercise 3: compute vs exposed communication per system")
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=2, frameon=False)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    return path


def _utilisation_panels(folders: dict[str, str], path: str) -> str | None:
    from orchestrator.output.report import load_report
    reports = [load_report(folder) for folder in folders.values()]
    reports = [report for report in reports if report.utilisation]
    if not reports:
        return None
    end_ms = max(report.summary["total_ns"] for report in reports) / 1e6
    figure = _figure(8, 0.4 + 2.2 * len(reports))
    for index, report in enumerate(reports, start=1):
        axes = figure.add_subplot(len(reports), 1, index)
        edges_ms = [edge / 1e6 for edge in report.bin_edges_ns]
        edges_ms.append(report.summary["total_ns"] / 1e6)
        for dim, values in report.utilisation.items():
            axes.stairs([value * 100 for value in values], edges_ms, label=dim)
        axes.set_xlim(0, end_ms)
        axes.set_ylim(0, 105)
        axes.set_ylabel("% active")
        axes.set_title(f"{report.name}: {report.summary['total_ns'] / 1e6:.3f} ms",
                       fontsize=10)
        axes.legend(loc="lower right", frameon=False, fontsize=8, ncol=3)
    axes.set_xlabel("simulated time (ms)")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    return path


def after_run(run_name: str, out_dir: str) -> str | None:
    """The CLI's hook after writing a run's results: a line to print, or None."""
    try:
        path = plot_for(run_name, out_dir)
    except ImportError:
        return ("plot skipped: matplotlib is not installed (pip install "
                "'astra-cosim[sweep]')")
    return None if path is None else f"plot in {path}"
