"""experiments/themis: the ASPLOS'23 exercise 3-1 contrast (baseline vs Themis on a 3-D Switch
8x8x8), with the numbers recorded in experiments/themis/expected.json, and its utilisation plot
drawn from the two runs' dimension_utilisation.csv."""

from __future__ import annotations

import csv
import json
import os

import pytest

from orchestrator.cli.main import main

THEMIS = os.path.join(os.path.dirname(__file__), "..", "experiments", "themis")
with open(os.path.join(THEMIS, "expected.json"), encoding="utf-8") as _handle:
    EXPECTED = json.load(_handle)


def test_exercise_3_1_baseline_against_themis(tmp_path) -> None:
    for name in EXPECTED:
        assert main(["run", os.path.join(THEMIS, f"{name}.yaml"), "--out",
                     str(tmp_path / name), "--quiet"]) == 0
        with open(tmp_path / name / "summary.json", encoding="utf-8") as handle:
            assert json.load(handle)["total_ns"] == EXPECTED[name]["total_ns"]
    # the baseline leaves dimensions 1 and 2 mostly idle; Themis keeps all three busy
    shares = {}
    for name in EXPECTED:
        with open(tmp_path / name / "dimension_utilisation.csv", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        shares[name] = [sum(float(row[f"dim{d}"]) for row in rows) / len(rows)
                        for d in range(3)]
    baseline, themis = shares["asplos23_ex3_1_baseline"], shares["asplos23_ex3_1_themis"]
    assert baseline[0] > 0.99 and max(baseline[1:]) < 0.2
    assert min(themis) > 0.9
    pytest.importorskip("matplotlib")
    assert (tmp_path / "asplos23_ex3_1_utilisation.png").stat().st_size > 0
