"""Cosmetics that misled (issue 15, point 9): the layers plot's legend over the bars, a
recomputed forward collective with its first run's label, a long run name shifting the result
row, and exercise 2-2's 1 GiB collective named allreduce_1MiB."""

from __future__ import annotations

import csv
import os

import pytest

from orchestrator.cli.main import main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TUTORIAL = os.path.join(ROOT, "experiments", "tutorial")
INPUTS = os.path.join(TUTORIAL, "inputs")

# 4 layers, model parallel in groups of 4 on a 16-NPU ring; checkpoint at 0, layer 2 starts
# recomputing 0..1 in the backward pass
FWD_IN_BCKWD = """HYBRID_TRANSFORMER_FWD_IN_BCKWD\tmodel_parallel_NPU_group: 4 checkpoints: 1 0 checkpoint_initiates: 1 2
4
embed\t-1\t1000\tALLGATHER\t65536\t1000\tNONE\t0\t1000\tALLREDUCE\t65536\t10
attn\t-1\t1000\tALLREDUCE\t65536\t1000\tNONE\t0\t1000\tALLREDUCE\t65536\t10
mlp\t-1\t1000\tALLREDUCE\t65536\t1000\tALLREDUCE\t65536\t1000\tALLREDUCE\t65536\t10
head\t-1\t1000\tNONE\t0\t1000\tNONE\t0\t1000\tNONE\t0\t10
"""
RING16 = ('{"dimensions-count": 1, "topologies-per-dim": ["Ring"], "units-count": [16], '
          '"links-count": [2], "link-latency": [500], "link-bandwidth": [50]}')


@pytest.fixture
def recompute_run(tmp_path) -> str:
    workload = tmp_path / "this_is_a_rather_long_transformer_workload_name.txt"
    workload.write_text(FWD_IN_BCKWD, encoding="utf-8")
    network = tmp_path / "ring16.json"
    network.write_text(RING16, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", "--workload", str(workload), "--system",
                 os.path.join(INPUTS, "sys_ring.txt"), "--network", str(network), "--out",
                 str(out)]) == 0
    return str(out)


def test_recomputed_forward_collectives_have_their_own_label(recompute_run):
    with open(os.path.join(recompute_run, "collectives.csv"), newline="",
              encoding="utf-8") as handle:
        labels = [row["label"] for row in csv.DictReader(handle)]
    assert labels.count("embed.fwd") == 1 and labels.count("attn.fwd") == 1
    assert labels.count("embed.fwd (recomputed)") == 1
    assert labels.count("attn.fwd (recomputed)") == 1
    assert labels.index("mlp.fwd") < labels.index("embed.fwd (recomputed)") < labels.index(
        "mlp.ig")                     # rerun in the backward pass, before mlp's gradient
    # layers.csv still counts the recomputed forward in the layer's fwd phase
    with open(os.path.join(recompute_run, "layers.csv"), newline="",
              encoding="utf-8") as handle:
        rows = {(row["layer"], row["phase"]): row for row in csv.DictReader(handle)}
    assert rows[("embed", "fwd")]["collectives"] == "2"


def test_a_long_name_keeps_the_result_row_aligned(capsys, recompute_run):
    lines = capsys.readouterr().out.splitlines()
    header, row = lines[0], lines[1]
    assert row.startswith("this_is_a_rather_long_transformer_workload_name ")
    # each number ends where its column title ends
    for title, value in zip(("total (us)", "compute (us)", "exposed comm (us)"),
                            row.split()[1:]):
        assert header.index(title) + len(title) == row.index(value) + len(value)


def test_exercise_2_2_names_its_collective_by_its_size(tmp_path):
    out = tmp_path / "ex2_2"
    assert main(["run", os.path.join(TUTORIAL, "ex2_2_switch.yaml"), "--out", str(out),
                 "--quiet"]) == 0
    with open(out / "collectives.csv", newline="", encoding="utf-8") as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["label"] == "allreduce_1GiB.wg" and row["size_bytes"] == str(1 << 30)


def test_layers_plot_legend_stays_off_the_bars(monkeypatch):
    """Ten layers whose bars all span the plot: no spot inside the axes is free, so a legend
    placed inside ("best") must cover bars; it has to sit outside."""
    pytest.importorskip("matplotlib", reason="report --html needs matplotlib (test extra)")
    from orchestrator.output import report_html
    from orchestrator.output.report import RunReport

    layers = [{"layer": f"layer{i}", "compute_ns": 0, "exposed_ns": 3000, "comm_ns": 3000,
               "fwd_exposed_ns": 1000, "ig_exposed_ns": 1000, "wg_exposed_ns": 1000}
              for i in range(10)]
    report = RunReport("x", {"total_ns": 30000, "compute_ns": 0, "exposed_comm_ns": 30000,
                             "finish_ns": [30000]}, layers=layers)
    figures = []
    monkeypatch.setattr(report_html, "_png", lambda figure: figures.append(figure) or "")
    report_html._figures(report)
    (figure,) = [f for f in figures if "exposed communication, µs" in f.axes[0].get_xlabel()]
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    axis = figure.axes[0]
    legend = axis.get_legend().get_window_extent(renderer)
    bars = [patch.get_window_extent(renderer) for patch in axis.patches
            if patch.get_width() > 0]
    assert len(bars) == 30 and not any(legend.overlaps(bar) for bar in bars)
