"""``astra-cosim report DIR`` on the terminal and as HTML, checked in headless Chromium."""

from __future__ import annotations

import base64
import os
import re

import pytest

from orchestrator.cli.main import main
from tests.output.browser import find_browser, render

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EX1 = os.path.join(ROOT, "experiments", "tutorial", "ex1.yaml")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> str:
    out = str(tmp_path_factory.mktemp("ex1"))
    assert main(["run", EX1, "--out", out, "--quiet"]) == 0
    return out


def test_terminal_report_shows_totals_and_collectives(run_dir, capsys):
    assert main(["report", run_dir]) == 0
    text = capsys.readouterr().out
    assert "45.681" in text                         # total µs of ex1
    assert "ring@dim0" in text
    assert "40.17" in text                          # busbw: 1 MiB / 45 680 ns x 14/8
    assert "100.0%" in text                         # dim 0 busy the whole run


def test_report_of_a_folder_without_results_is_an_error(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "no summary.json here" in capsys.readouterr().err


def test_html_report_is_self_contained(run_dir, tmp_path, capsys):
    pytest.importorskip("matplotlib", reason="report --html needs matplotlib (test extra)")
    page = os.path.join(tmp_path, "ex1.html")
    assert main(["report", run_dir, "--html", page]) == 0
    with open(page, encoding="utf-8") as handle:
        html = handle.read()
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(images) == 4                # time split, layers, utilisation, collectives
    assert all(base64.b64decode(image).startswith(b"\x89PNG") for image in images)
    assert "http://" not in html and "https://" not in html


BROWSER = find_browser()


@pytest.mark.skipif(BROWSER is None, reason="no headless Chromium here (Debian: apt-get install "
                                            "chromium; CI installs it in .ci/steps/50-chromium.sh)")
def test_html_report_renders_in_headless_chromium(run_dir, tmp_path):
    pytest.importorskip("matplotlib", reason="report --html needs matplotlib (test extra)")
    page = os.path.join(tmp_path, "ex1.html")
    assert main(["report", run_dir, "--html", page]) == 0
    shot = render(BROWSER, page, os.path.join(tmp_path, "ex1.png"))
    # the page's own check: every plot decoded, and nothing else on the console
    assert shot.console == ["report ready: 4 plots"]
    assert shot.screenshot.startswith(b"\x89PNG") and len(shot.screenshot) > 20_000


@pytest.mark.skipif(BROWSER is None, reason="no headless Chromium here (Debian: apt-get install "
                                            "chromium; CI installs it in .ci/steps/50-chromium.sh)")
def test_the_browser_check_sees_a_broken_page(tmp_path):
    """The console capture is what makes the render test meaningful: a page with a broken
    image and a script error must show both."""
    from orchestrator.output.report_html import _SCRIPT
    page = os.path.join(tmp_path, "bad.html")
    with open(page, "w", encoding="utf-8") as handle:
        handle.write('<html><body><img alt="plot" src="data:image/png;base64,AAAA">'
                     f"<script>missing();</script>{_SCRIPT}</body></html>")
    shot = render(BROWSER, page, os.path.join(tmp_path, "bad.png"), 400, 300)
    assert any("missing is not defined" in line for line in shot.console)
    assert "image failed to render: plot" in shot.console
