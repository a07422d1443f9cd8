"""`astra-cosim report SWEEP_DIR [--html]` and results.csv's µs and busbw columns (issue 15,
point 4), on exercise 2-1 as a sweep (11 all-reduces of 1 MiB x comm_scale on an 8-NPU
ring)."""

from __future__ import annotations

import base64
import csv
import os
import re

import pytest

from orchestrator.cli.main import main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SWEEP = os.path.join(ROOT, "experiments", "sweeps", "ex2_1_allreduce_size.yaml")


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory) -> str:
    out = str(tmp_path_factory.mktemp("ex2_1"))
    assert main(["sweep", SWEEP, "--out", out, "--quiet"]) == 0
    return out


def test_results_csv_has_microseconds_and_busbw(sweep_dir):
    with open(os.path.join(sweep_dir, "results.csv"), newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 11
    first = rows[0]
    assert first["options.comm_scale"] == "1"
    assert first["total_ns"] == "45681" and first["total_us"] == "45.681"
    # the 1 MiB all-reduce takes 45,680 ns of the 45,681 (collectives.csv of ex1)
    assert float(first["busbw_GBps"]) == pytest.approx(1048576 / 45680 * 2 * 7 / 8, abs=1e-6)
    for row in rows:
        assert float(row["total_us"]) * 1000 == pytest.approx(int(row["total_ns"]), abs=1e-6)
        assert float(row["exposed_comm_us"]) * 1000 == pytest.approx(
            int(row["exposed_comm_ns"]), abs=1e-6)
    busbw = [float(row["busbw_GBps"]) for row in rows]
    assert busbw == sorted(busbw)          # larger all-reduces amortise the latency


def test_report_of_a_sweep_prints_axes_and_totals(sweep_dir, capsys):
    assert main(["report", sweep_dir]) == 0
    text = capsys.readouterr().out
    assert "11 trials, 11 ok, 0 failed" in text
    assert re.search(r"│ 1024 +│ +17,534\.229 │ +0\.000 │ +17,534\.229 │ +107\.16 │ ok", text)
    assert "total_ns.png" in text


def test_sweep_html_embeds_the_plots(sweep_dir, tmp_path, capsys):
    pytest.importorskip("matplotlib", reason="plots need matplotlib (test extra)")
    page = tmp_path / "sweep.html"
    assert main(["report", sweep_dir, "--html", str(page)]) == 0
    text = page.read_text(encoding="utf-8")
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    assert len(images) == 2                      # total_ns.png and the busbw plot
    assert all(base64.b64decode(image).startswith(b"\x89PNG") for image in images)
    assert "<td>45.681</td>" in text and "<td>40.17</td>" in text


def test_training_workload_trials_have_no_busbw(tmp_path):
    """A trial with many different collectives has no single busbw: the cell stays blank."""
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(f"name: ex4\nbase: {os.path.join(ROOT, 'experiments', 'tutorial', 'ex4_data.yaml')}\n"
                     "axes:\n  options.num_passes: [1]\n", encoding="utf-8")
    assert main(["sweep", str(sweep), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    with open(tmp_path / "out" / "results.csv", newline="", encoding="utf-8") as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["status"] == "ok" and row["busbw_GBps"] == "" and row["total_us"]
