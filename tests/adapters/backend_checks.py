"""Runs every detailed network backend (ns-3, Garnet) is checked with: a tutorial exercise
against the analytical reference, and one run in both placements."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from orchestrator.experiment.load import load_experiment
from orchestrator.experiment.runner import simulate
from orchestrator.output.results import RunResult

TUTORIAL = Path(__file__).resolve().parents[2] / "experiments" / "tutorial"


def exercise_totals(name: str, comm_scale: float | None, backend: str) -> tuple[int, int]:
    """(the backend's total_ns, the analytical reference's) for a tutorial exercise, its
    collectives scaled by ``comm_scale`` when given."""
    experiment = load_experiment(str(TUTORIAL / f"{name}.yaml"))
    if comm_scale is not None:
        experiment = dataclasses.replace(
            experiment, options=dataclasses.replace(experiment.options, comm_scale=comm_scale))
    reference = simulate(experiment).total_ns
    return simulate(dataclasses.replace(experiment, network_backend=backend)).total_ns, reference


def both_placements(tmp_path: Path, backend: str) -> tuple[dict[str, Any], RunResult]:
    """Exercise 1 on ``backend`` with ``--placement process`` (its summary.json) and
    in-process; asserts they agree on the times and rounds and returns both for the
    backend's own counters."""
    out = tmp_path / "process"
    subprocess.run([sys.executable, "-m", "orchestrator", "run", str(TUTORIAL / "ex1.yaml"),
                    "--network-backend", backend, "--placement", "process",
                    "--adapter-timeout", "300", "--out", str(out), "--quiet"],
                   check=True, cwd=tmp_path, timeout=600)
    process = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    inprocess = simulate(dataclasses.replace(load_experiment(str(TUTORIAL / "ex1.yaml")),
                                             network_backend=backend))
    assert process["total_ns"] == inprocess.total_ns
    assert process["finish_ns"] == inprocess.finish_ns
    assert process["cosim"]["network"]["rounds"] == inprocess.cosim["network"]["rounds"]
    return process, inprocess
