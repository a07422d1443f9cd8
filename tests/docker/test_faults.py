"""Stopping an adapter's container mid-run: the engine exits non-zero with one line naming
that adapter, writes no results, and ``docker compose up --exit-code-from engine`` fails."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from tests.docker.stack import ROOT, Stack, adapter_missing, garnet_image_missing

# adapter service, its experiment, passes enough for a run of a minute or more (it is cut
# short), adapter packages needed. The runs are simulated in full (symmetry off: reduced to one
# NPU, the analytical run ends in seconds, before the adapter's health check has passed).
# The analytical run trains a small DATA-parallel model: a MICRO workload issues every pass's
# collective up front, so many passes of it spend their first seconds (more on a loaded
# machine) preparing before the first round, and the stop could come before the engine asks
# the adapter anything.
FAULTS = [
    ("analytical", "containers/analytical-adapter", 4000, ()),
    ("ns3", "containers/ns3", 200, ("adapters.ns3",)),
    ("garnet", "containers/garnet", 200, ("adapters.garnet",)),
]
DATA_LAYERS = 8     # each with a 1 MiB weight-gradient all-reduce per pass


def _data_workload(path: Path) -> None:
    rows = [f"layer{index}\t-1\t1000\tNONE\t0\t1000\tNONE\t0\t1000\tALLREDUCE\t1048576\t10"
            for index in range(DATA_LAYERS)]
    path.write_text("\n".join(["DATA", str(DATA_LAYERS), *rows]) + "\n", encoding="utf-8")


def _long_experiments(directory: Path, experiment: str, passes: int) -> Path:
    """A copy of the experiment, with the tutorial inputs it reads, running ``passes`` times
    over every NPU (the analytical one on a DATA workload, see FAULTS)."""
    inputs = directory / "tutorial" / "inputs"
    shutil.copytree(ROOT / "experiments" / "tutorial" / "inputs", inputs)
    doc = yaml.safe_load((ROOT / "experiments" / f"{experiment}.yaml").read_text("utf-8"))
    doc.setdefault("options", {})["num_passes"] = passes
    doc["symmetry"] = "off"
    if doc["network"]["adapter"] == "analytical":
        _data_workload(inputs / "fault_data.txt")
        doc["workload"] = "../tutorial/inputs/fault_data.txt"
    target = directory / f"{experiment}.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return directory


def _wait_until(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


@pytest.mark.parametrize("service, experiment, passes, modules", FAULTS,
                         ids=[service for service, _, _, _ in FAULTS])
def test_adapter_stopped_mid_run(images: list[str], tmp_path: Path, service: str,
                                 experiment: str, passes: int,
                                 modules: tuple[str, ...]) -> None:
    reason = adapter_missing(*modules) or \
        (service == "garnet" and "garnet" not in images and garnet_image_missing())
    if reason:
        pytest.skip(reason)
    experiments = _long_experiments(tmp_path / "experiments", experiment, passes)
    name = yaml.safe_load((experiments / f"{experiment}.yaml").read_text("utf-8"))["name"]
    with Stack(tmp_path / "stack", experiment, (service,), experiments) as stack:
        up = subprocess.Popen(stack.up_command(), env=stack.env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
        try:
            def running() -> bool:
                try:
                    return (stack.inspect(service, "{{.State.Health.Status}}") == "healthy"
                            and stack.inspect("engine", "{{.State.Running}}") == "true")
                except AssertionError:       # containers not created yet
                    return False

            _wait_until(running, 300, f"{service} healthy and the engine running")
            time.sleep(10)                   # the engine has pinged, started and is in rounds
            stopped_at = time.monotonic()
            stop = subprocess.run([*stack.base, "stop", "--timeout", "5", service],
                                  env=stack.env, capture_output=True, text=True, timeout=120)
            assert stop.returncode == 0, stop.stderr
            output, _ = up.communicate(timeout=180)
        finally:
            if up.poll() is None:
                up.kill()
                up.communicate()
        engine_status = stack.inspect("engine", "{{.State.ExitCode}}")
    assert up.returncode != 0, output[-3000:]
    assert engine_status not in ("", "0")
    assert time.monotonic() - stopped_at < 60
    assert not (stack.results / name / "summary.json").exists(), "the run ended before the stop"
    errors = [line for line in output.splitlines() if "astra-cosim: error:" in line]
    assert len(errors) == 1, output[-3000:]
    assert "network adapter" in errors[0] and service in errors[0], errors[0]
