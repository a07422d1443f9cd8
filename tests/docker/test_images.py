"""What every image promises: a non-root user, a working directory, and for an adapter a
healthcheck that asks the adapter itself (a protocol hello), not merely whether it runs."""

from __future__ import annotations

import json
import subprocess

import pytest


def _config(role: str) -> dict:
    inspect = subprocess.run(["docker", "image", "inspect", f"astra-cosim/{role}:latest",
                              "--format", "{{json .Config}}"],
                             capture_output=True, text=True, timeout=30)
    assert inspect.returncode == 0, inspect.stderr
    return json.loads(inspect.stdout)


@pytest.mark.parametrize("role", ["engine", "ns3", "scalesim"])
def test_image_runs_as_non_root_in_a_workdir(images: list[str], role: str) -> None:
    if role not in images:
        pytest.skip(f"adapters.{role} does not exist yet, so its image is not built")
    config = _config(role)
    assert config["User"] == "astra"
    assert config["WorkingDir"] in ("/work", "/home/astra/run")


@pytest.mark.parametrize("role, port", [("ns3", 5555), ("scalesim", 5556)])
def test_adapter_image_is_healthy_only_when_it_answers(images: list[str], role: str,
                                                       port: int) -> None:
    if role not in images:
        pytest.skip(f"adapters.{role} does not exist yet, so its image is not built")
    config = _config(role)
    assert config["Healthcheck"]["Test"] == [
        "CMD", "astra-cosim", "adapter", "ping", f"tcp://127.0.0.1:{port}", "--timeout", "5"]
    assert "--preload" in config["Entrypoint"]


def test_engine_refuses_to_run_as_root(images: list[str]) -> None:
    run = subprocess.run(["docker", "run", "--rm", "--user", "0:0", "astra-cosim/engine:latest",
                          "experiments/containers/analytical.yaml"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode != 0
    assert "does not run as root" in run.stderr
