"""`astra-cosim report DIR --html` without a file name (issue 15, point 4 writes it so): the
page goes into the folder as report.html, for a sweep and for a run, and a later run into the
same folder still replaces it whole."""

from __future__ import annotations

import base64
import json
import os
import re

import pytest

from orchestrator.cli.main import main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EX1 = os.path.join(ROOT, "experiments", "tutorial", "ex1.yaml")
SWEEP = os.path.join(ROOT, "experiments", "sweeps", "ex2_1_allreduce_size.yaml")


def _pngs(page: str) -> list[bytes]:
    with open(page, encoding="utf-8") as handle:
        text = handle.read()
    return [base64.b64decode(data) for data in
            re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)]


def test_bare_html_writes_report_html_into_the_sweep_folder(tmp_path, capsys):
    pytest.importorskip("matplotlib", reason="plots need matplotlib (test extra)")
    out = str(tmp_path / "ex2_1")
    assert main(["sweep", SWEEP, "--out", out, "--quiet"]) == 0
    capsys.readouterr()
    assert main(["report", out, "--html"]) == 0
    page = os.path.join(out, "report.html")
    assert capsys.readouterr().out.splitlines()[-1] == f"HTML report in {page}"
    images = _pngs(page)
    assert len(images) == 2 and all(image.startswith(b"\x89PNG") for image in images)
    with open(page, encoding="utf-8") as handle:
        assert "<td>17,534.229</td>" in handle.read()        # comm_scale 1024's total (µs)
    # the folder is still a sweep: the report reads it again, page and all
    assert main(["report", out]) == 0
    assert "11 trials, 11 ok, 0 failed" in capsys.readouterr().out


def test_bare_html_writes_report_html_into_the_run_folder_and_a_rerun_replaces_it(
        tmp_path, capsys):
    pytest.importorskip("matplotlib", reason="plots need matplotlib (test extra)")
    out = str(tmp_path / "ex1")
    assert main(["run", EX1, "--out", out, "--quiet"]) == 0
    assert main(["report", out, "--html"]) == 0
    page = os.path.join(out, "report.html")
    assert os.path.isfile(page) and _pngs(page)
    assert main(["run", EX1, "--out", out, "--quiet", "--num-passes", "2"]) == 0
    assert not os.path.exists(page)
    with open(os.path.join(out, "summary.json"), encoding="utf-8") as handle:
        assert json.load(handle)["total_ns"] > 45681           # the second run's, two passes


def test_html_with_a_file_name_writes_there(tmp_path, capsys):
    pytest.importorskip("matplotlib", reason="plots need matplotlib (test extra)")
    out = str(tmp_path / "ex1")
    assert main(["run", EX1, "--out", out, "--quiet"]) == 0
    page = tmp_path / "elsewhere.html"
    assert main(["report", out, "--html", str(page)]) == 0
    assert page.is_file() and not os.path.exists(os.path.join(out, "report.html"))
