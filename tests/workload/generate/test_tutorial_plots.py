"""The tutorial's group plots (orchestrator/experiment/plots.py), written by ``astra-cosim
run`` next to the results of the runs they show."""

from __future__ import annotations

import json
import os

import pytest

from orchestrator.cli.main import main
from orchestrator.experiment import plots

TUTORIAL = os.path.join(os.path.dirname(__file__), "..", "..", "..", "experiments", "tutorial")
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _matplotlib() -> None:
    pytest.importorskip("matplotlib", reason="plots need matplotlib (the sweep extra)")


def test_running_the_size_sweep_leaves_its_plot_beside_the_results(tmp_path, capsys) -> None:
    for scale in (1, 4):
        name = f"ex2_1_comm_scale_{scale}"
        assert main(["run", os.path.join(TUTORIAL, f"{name}.yaml"),
                     "--out", str(tmp_path / name)]) == 0
    plot = tmp_path / plots.SIZE_SWEEP
    assert f"plot in {plot}" in capsys.readouterr().out
    assert plot.read_bytes().startswith(PNG)


def test_the_system_plot_stacks_every_ex3_run(tmp_path) -> None:
    for name, compute, exposed in [("ex3_1_a", 5, 7), ("ex3_2_b", 3, 1)]:
        (tmp_path / name).mkdir()
        (tmp_path / name / "summary.json").write_text(json.dumps(
            {"name": name, "total_ns": compute + exposed, "compute_ns": compute,
             "exposed_comm_ns": exposed}))
    assert plots.after_run("ex3_2_b", str(tmp_path / "ex3_2_b")) == \
        f"plot in {tmp_path / plots.COMPUTE_VS_EXPOSED}"
    assert (tmp_path / plots.COMPUTE_VS_EXPOSED).read_bytes().startswith(PNG)
    assert plots.after_run("ex1", str(tmp_path / "ex1")) is None


def test_no_plot_when_the_results_folder_is_not_named_after_the_run(tmp_path) -> None:
    assert plots.after_run("ex3_1_a", str(tmp_path / "elsewhere")) is None
    assert not (tmp_path / plots.COMPUTE_VS_EXPOSED).exists()
