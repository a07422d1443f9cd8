"""Every shipped experiment and sweep runs from a fresh clone (issue 15, point 10): the
files it names are inside the repository, none in ../shared."""

from __future__ import annotations

import glob
import os

import pytest

from orchestrator.experiment.load import load_experiment
from orchestrator.sweep.spec import load_sweep
from orchestrator.workload.chakra import trace_path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXPERIMENTS = sorted(path for path in glob.glob(os.path.join(ROOT, "experiments", "**", "*.yaml"),
                                                recursive=True)
                     if os.sep + "sweeps" + os.sep not in path
                     and os.sep + "inputs" + os.sep not in path)   # model descriptions
SWEEPS = sorted(glob.glob(os.path.join(ROOT, "experiments", "sweeps", "*.yaml")))


def _inside(path: str) -> bool:
    return os.path.commonpath([ROOT, os.path.realpath(path)]) == ROOT


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: os.path.relpath(p, ROOT))
def test_experiment_inputs_ship_with_the_repository(path):
    experiment = load_experiment(path)
    workload = experiment.workload
    assert _inside(workload), workload
    assert os.path.isfile(workload) or os.path.isfile(trace_path(workload, 0)), workload
    for spec in (experiment.system, experiment.network):
        if isinstance(spec, str):
            assert _inside(spec) and os.path.isfile(spec), spec


@pytest.mark.parametrize("path", SWEEPS, ids=lambda p: os.path.relpath(p, ROOT))
def test_sweep_bases_ship_with_the_repository(path):
    """A sweep's base experiment has its paths made absolute (sweep/config.py)."""
    spec = load_sweep(path)
    base = spec.base
    if spec.kind == "predict":          # a parallelism search: presets, or files shipped here
        for key in ("model", "platform"):
            assert not os.path.isabs(base[key]) or _inside(base[key]), base[key]
        return
    assert _inside(base["workload"]), base["workload"]
    for key in ("system", "network"):
        value = base[key]
        value = value.get("config", value) if isinstance(value, dict) else value
        if isinstance(value, str):
            assert _inside(value), value


def test_there_are_examples_to_check():
    assert len(EXPERIMENTS) >= 20 and len(SWEEPS) >= 2
