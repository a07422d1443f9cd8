"""links.csv and `report` keep a model's own link utilisation (issue 15, point 7): ns-3
reports each link's busy time as ``link_utilisation/<link>``; the analytical models do not,
and their utilisation stays bytes / (bandwidth x time)."""

from __future__ import annotations

import csv
import json
import os

import pytest

from adapters.ns3.loader import ns3_available
from orchestrator.cli.main import main
from orchestrator.output.instruments import Instruments, _read_links
from orchestrator.output.statistics import _write_links

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NS3_STACK = os.path.join(ROOT, "experiments", "containers", "ns3.yaml")


class _Client:
    final_stats = {"link_bytes/a->b": 1000.0, "link_utilisation/a->b": 0.25,
                   "link_bytes/dim0[0]:0->1": 500.0, "flows": 3.0}


class _Network:
    client = _Client()


def test_model_utilisation_wins_over_the_bandwidth_estimate(tmp_path):
    instruments = Instruments(link_gb_per_s=[1.0])
    _read_links(instruments, _Network())
    recorder = instruments.recorder
    assert recorder.link_utilisation == {"a->b": 0.25}
    path = _write_links(type("R", (), {"total_ns": 1000})(), recorder, str(tmp_path))
    with open(path, newline="", encoding="utf-8") as handle:
        rows = {row["link"]: row["utilisation"] for row in csv.DictReader(handle)}
    # a->b: the model's 0.25; dim0 link: 500 B / (1 GB/s = 2^30/1e9 B/ns x 1000 ns)
    assert rows == {"a->b": "0.2500", "dim0[0]:0->1": f"{500 / (2**30 / 1e9 * 1000):.4f}"}


@pytest.mark.skipif(not ns3_available(), reason="ns-3's Python bindings are not installed "
                    "(pip install astra-cosim[ns3]; CI installs them in .ci/steps/20-ns3.sh)")
def test_ns3_run_has_link_utilisation_in_links_csv_and_report(tmp_path, capsys):
    out = tmp_path / "ns3"
    assert main(["run", NS3_STACK, "--placement", "inprocess", "--out", str(out),
                 "--quiet"]) == 0
    with open(out / "summary.json", encoding="utf-8") as handle:
        summary = json.load(handle)
    measured = {key.split("/", 1)[1]: value
                for key, value in summary["adapter_stats"]["network"].items()
                if key.startswith("link_utilisation/")}
    with open(out / "links.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and all(row["utilisation"] for row in rows)
    for row in rows:
        assert float(row["utilisation"]) == pytest.approx(measured[row["link"]], abs=5e-5)
    # the ring's forward links: 1.76 MiB each at 2 x 50 GB/s, busy about 37% of 46.9 µs
    busiest = rows[0]
    rate = 2 * 50 * 2**30 / 1e9
    assert float(busiest["utilisation"]) == pytest.approx(
        int(busiest["bytes"]) / rate / summary["total_ns"], rel=0.01)
    assert main(["report", str(out)]) == 0
    text = capsys.readouterr().out
    assert f"{float(busiest['utilisation']):.1%}" in text and "–" not in text.split(
        "busiest")[1]
