"""``astra-cosim report DIR --html FILE``: one self-contained HTML page with the run's plots.

The plots are matplotlib PNGs embedded as data URIs, so the page opens anywhere without a
server or network access. A few lines of script check that every image decoded and log
``report ready`` (or ``console.error`` for a broken image), which the headless-browser test
reads to tell a page that rendered from one that did not.
"""

from __future__ import annotations

import base64
import html
import io

from orchestrator.errors import AstraCosimError
from orchestrator.output.report import TOP, RunReport

READY_MESSAGE = "report ready"
_SCRIPT = f"""
<script>
window.addEventListener("load", () => {{
  const images = Array.from(document.images);
  const broken = images.filter(img => !img.complete || img.naturalWidth === 0);
  for (const img of broken) console.error("image failed to render: " + img.alt);
  if (broken.length === 0) console.log("{READY_MESSAGE}: " + images.length + " plots");
}});
</script>
"""


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise AstraCosimError("report --html draws its plots with matplotlib, which is not "
                              "installed: pip install 'astra-cosim[report]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _png(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=96, bbox_inches="tight")
    _pyplot().close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _figures(report: RunReport) -> list[tuple[str, str]]:
    """(title, base64 PNG) per plot."""
    plt = _pyplot()
    figures = []
    summary = report.summary
    figure, axis = plt.subplots(figsize=(8, 1.6))
    unit, scale = ("ms", 1e6) if summary["total_ns"] >= 10**7 else ("µs", 1e3)
    compute = summary["compute_ns"] / scale
    exposed = summary["exposed_comm_ns"] / scale
    axis.barh([0], [compute], color="#4c72b0", label="compute")
    axis.barh([0], [exposed], left=[compute], color="#dd8452",
              label="exposed communication")
    axis.set_yticks([])
    axis.set_xlabel(f"{unit} (NPU 0)")
    axis.legend(loc="upper center", bbox_to_anchor=(0.5, -0.6), ncol=2, frameon=False)
    figures.append(("Where the time goes", _png(figure)))
    if report.layers:
        rows = report.top_layers()[::-1]
        figure, axis = plt.subplots(figsize=(8, 0.35 * len(rows) + 1))
        left = [0.0] * len(rows)
        for kind, colour in (("fwd", "#55a868"), ("ig", "#c44e52"), ("wg", "#8172b2")):
            values = [row[f"{kind}_exposed_ns"] / 1000 for row in rows]
            axis.barh([row["layer"] for row in rows], values, left=left, color=colour,
                      label=kind)
            left = [a + b for a, b in zip(left, values)]
        axis.set_xlabel("exposed communication, µs")
        # above the plot, never over the bars (the longest bar reaches the right edge)
        axis.legend(frameon=False, loc="lower left", bbox_to_anchor=(0, 1.0), ncol=3,
                    borderaxespad=0.2)
        figures.append((f"Top {TOP} layers by exposed communication", _png(figure)))
    if report.utilisation:
        figure, axis = plt.subplots(figsize=(8, 2.8))
        times_ms = [edge / 1e6 for edge in report.bin_edges_ns]
        for dim, values in report.utilisation.items():
            axis.step(times_ms, [v * 100 for v in values], where="post", label=dim)
        axis.set_ylim(0, 105)
        axis.set_xlabel("simulated time, ms")
        axis.set_ylabel("% of time active")
        axis.legend(frameon=False)
        figures.append(("Per-dimension utilisation over time (NPU 0)", _png(figure)))
    if report.collectives:
        figure, axis = plt.subplots(figsize=(8, 2.8))
        for kind in sorted({row["kind"] for row in report.collectives}):
            rows = [row for row in report.collectives if row["kind"] == kind]
            axis.scatter([row["start_ns"] / 1e6 for row in rows], [row["busbw"] for row in rows],
                         s=10, label=kind)
        axis.set_xlabel("issued at, simulated ms")
        axis.set_ylabel("bus bandwidth, GB/s")
        axis.legend(frameon=False)
        figures.append(("Collectives: achieved bus bandwidth (nccl-tests busbw)", _png(figure)))
    if report.links:
        rows = report.links[:20][::-1]
        figure, axis = plt.subplots(figsize=(8, 0.3 * len(rows) + 1))
        axis.barh([row["link"] for row in rows], [row["bytes"] / 2**20 for row in rows],
                  color="#937860")
        axis.set_xlabel("MiB carried")
        figures.append((f"Busiest links ({len(report.links)} in all)", _png(figure)))
    return figures


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(report: RunReport) -> str:
    summary = report.summary
    total = summary["total_ns"]
    totals = _table(
        ["total (µs)", "compute (µs)", "exposed comm (µs)", "exposed share", "NPUs"],
        [[f"{total / 1000:,.3f}", f"{summary['compute_ns'] / 1000:,.3f}",
          f"{summary['exposed_comm_ns'] / 1000:,.3f}",
          f"{summary['exposed_comm_ns'] / total:.1%}" if total else "–",
          str(len(summary["finish_ns"]))]])
    sections = [f"<h2>Totals</h2>{totals}"]
    for title, png in _figures(report):
        sections.append(f"<h2>{html.escape(title)}</h2>"
                        f'<img alt="{html.escape(title)}" src="data:image/png;base64,{png}">')
    if report.collectives:
        rows = [[row["label"], row["kind"], f"{row['size_bytes'] / 2**20:,.2f}",
                 str(row["npus"]), row["algorithms"], f"{row['duration_ns'] / 1000:,.3f}",
                 f"{row['busbw']:.2f}"]
                for row in sorted(report.collectives, key=lambda r: -r["duration_ns"])[:TOP]]
        sections.append(f"<h2>Longest {TOP} collectives (NPU 0)</h2>" + _table(
            ["collective", "kind", "MiB", "NPUs", "algorithms", "time (µs)", "busbw (GB/s)"],
            rows))
    intro = (f"From <code>{html.escape(report.folder)}</code>. Bus bandwidth follows "
             "nccl-tests: all-reduce\nalgbw&times;2(n&minus;1)/n; all-gather, reduce-scatter "
             "and all-to-all algbw&times;(n&minus;1)/n.")
    return page(f"astra-cosim report: {report.name}", intro, sections)


def page(title: str, intro: str, sections: list[str]) -> str:
    """A self-contained HTML page (run and sweep reports share it): ``title`` is text,
    ``intro`` and ``sections`` are HTML."""
    name = html.escape(title)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{name}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1.5em; }}
th, td {{ border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }}
th {{ background: #f3f3f3; }}
img {{ max-width: 100%; }}
</style></head>
<body><h1>{name}</h1>
<p>{intro}</p>
{"".join(sections)}
{_SCRIPT}</body></html>
"""


def write_html(report: RunReport, path: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(render_html(report))
