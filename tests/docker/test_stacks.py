"""Each compose stack (README "Run in containers") gives the results of the same experiment run
outside containers with ``--placement process``: the summary (less what the transport decides:
endpoint, protocol bytes, waits) and every CSV, byte for byte.

Stacks whose adapter package does not exist yet skip, saying so, and run once it does.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.docker.stack import (ROOT, Stack, adapter_missing, backend_missing,
                                comparable_summary, garnet_image_missing, outside_copy)

# experiment (under experiments/, without .yaml), compose profiles, adapter images needed
STACKS = [
    ("containers/analytical", (), ()),
    ("containers/analytical-adapter", ("analytical",), ()),
    ("containers/ns3", ("ns3",), ("ns3",)),
    ("containers/scalesim", ("scalesim",), ("scalesim",)),
    ("containers/ns3-scalesim", ("ns3", "scalesim"), ("ns3", "scalesim")),
    ("containers/garnet", ("garnet",), ("garnet",)),
]


def _doc(experiment: str) -> dict:
    path = ROOT / "experiments" / f"{experiment}.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("experiment, profiles, roles", STACKS,
                         ids=[experiment.split("/")[1] for experiment, _, _ in STACKS])
def test_stack_equals_process_placement(images: list[str], tmp_path: Path, experiment: str,
                                        profiles: tuple[str, ...], roles: tuple[str, ...]) -> None:
    reason = adapter_missing(*(f"adapters.{role}" for role in roles)) or \
        ("garnet" in roles and "garnet" not in images and garnet_image_missing()) or \
        backend_missing(*roles)
    if reason:
        pytest.skip(reason)
    doc = _doc(experiment)
    with Stack(tmp_path / "stack", experiment, profiles) as stack:
        up = stack.up()
        assert up.returncode == 0, f"compose up failed:\n{up.stdout[-4000:]}\n{up.stderr[-4000:]}"
        assert stack.inspect("engine", "{{.State.ExitCode}}") == "0"
    inside = stack.results / doc["name"]
    # handed to the owner of the checkout's experiments (who cloned it), root or not
    owner = (ROOT / "experiments").stat()
    for path in [inside, *inside.iterdir()]:
        assert (path.stat().st_uid, path.stat().st_gid) == (owner.st_uid, owner.st_gid), path

    copy = outside_copy(ROOT / "experiments" / f"{experiment}.yaml", tmp_path / "outside")
    outside = tmp_path / "outside-results"
    # the adapter a process placement spawns imports its backend on the first request (ns-3:
    # tens of seconds on a busy machine), hence the long timeout
    run = subprocess.run([sys.executable, "-m", "orchestrator", "run", str(copy),
                          "--placement", "process", "--adapter-timeout", "600",
                          "--out", str(outside), "--quiet"],
                         capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert run.returncode == 0, run.stderr

    files = sorted(path.name for path in inside.iterdir())
    assert files == sorted(path.name for path in outside.iterdir())
    assert "summary.json" in files and "tutorial_result.csv" in files
    inside_summary = comparable_summary(inside / "summary.json")
    assert inside_summary == comparable_summary(outside / "summary.json")
    for kind in ("network", "compute"):
        endpoint = (doc.get(kind) or {}).get("endpoint")
        if endpoint:   # the run really went through the adapter container
            raw = json.loads((inside / "summary.json").read_text(encoding="utf-8"))
            assert raw["cosim"][kind]["endpoint"] == endpoint
    for name in files:
        if name != "summary.json":
            assert (inside / name).read_bytes() == (outside / name).read_bytes(), name
