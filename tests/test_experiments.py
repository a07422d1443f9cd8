"""The project's own tutorial experiments (experiments/tutorial/*.yaml) reproduce the MLSys'22
reference numbers recorded in experiments/tutorial/expected.json, exactly."""

from __future__ import annotations

import json
import os

import pytest

from orchestrator.cli.main import main

TUTORIAL = os.path.join(os.path.dirname(__file__), "..", "experiments", "tutorial")
with open(os.path.join(TUTORIAL, "expected.json"), encoding="utf-8") as _handle:
    EXPECTED = json.load(_handle)


def test_every_experiment_has_an_expectation() -> None:
    names = {name[:-5] for name in os.listdir(TUTORIAL) if name.endswith(".yaml")}
    assert names == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_tutorial_experiment(name: str, tmp_path) -> None:
    assert main(["run", os.path.join(TUTORIAL, f"{name}.yaml"), "--out", str(tmp_path),
                 "--quiet"]) == 0
    with open(tmp_path / "summary.json", encoding="utf-8") as handle:
        summary = json.load(handle)
    for key, value in EXPECTED[name].items():
        assert summary[key] == value, key


def test_tutorial_result_csv_matches_upstream_units(tmp_path) -> None:
    """tutorial_result.csv holds µs with three decimals and NPU 0's payload in MB, as 1.0."""
    assert main(["run", os.path.join(TUTORIAL, "ex1.yaml"), "--out", str(tmp_path),
                 "--quiet"]) == 0
    lines = (tmp_path / "tutorial_result.csv").read_text().splitlines()
    assert lines[0] == ("Name,TotalTime(us),ComputeTime(us),ExposedCommunicationTime(us),"
                        "TotalMessageSize(MB)")
    # ring all-reduce sends 2(N-1)/N of the buffer: 1.75 MiB for 1 MiB on 8 NPUs
    assert lines[1] == "ex1,45.681,0.000,45.681,1.750"
