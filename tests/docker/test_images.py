"""What every image promises: a non-root user, a working directory, and for an adapter a
healthcheck that asks the adapter itself (a protocol hello), not merely whether it runs."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.docker.stack import ROOT, image, image_missing


def _config(role: str) -> dict:
    inspect = subprocess.run(["docker", "image", "inspect", image(role),
                              "--format", "{{json .Config}}"],
                             capture_output=True, text=True, timeout=30)
    assert inspect.returncode == 0, inspect.stderr
    return json.loads(inspect.stdout)


@pytest.mark.parametrize("role", ["ns3", "scalesim", "garnet"])
def test_adapter_image_runs_as_non_root_in_a_workdir(images: list[str], role: str) -> None:
    if role not in images:
        pytest.skip(image_missing(role))
    config = _config(role)
    assert config["User"] == "astra"
    assert config["WorkingDir"] == "/home/astra/run"


def test_engine_starts_as_root_only_to_hand_results_over(images: list[str]) -> None:
    """The engine image starts as root (to learn and serve the results' owner) and runs the
    simulation as `astra` (uid 10001): the entrypoint's privilege drop, checked in place."""
    config = _config("engine")
    assert config["User"] == "root" and config["WorkingDir"] == "/work"
    probe = ("import subprocess, sys; sys.path.insert(0, '/usr/local/lib/astra-cosim'); "
             "import entrypoint; print(subprocess.run(['sh', '-c', 'id -u; id -G'], "
             "capture_output=True, text=True, preexec_fn=entrypoint._drop_privileges)"
             ".stdout.split())")
    run = subprocess.run(["docker", "run", "--rm", "--entrypoint", "python3",
                          image("engine"), "-c", probe],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "['10001', '10001']"


@pytest.mark.parametrize("role, port", [("ns3", 5555), ("scalesim", 5556), ("garnet", 5555)])
def test_adapter_image_is_healthy_only_when_it_answers(images: list[str], role: str,
                                                       port: int) -> None:
    if role not in images:
        pytest.skip(image_missing(role))
    config = _config(role)
    assert config["Healthcheck"]["Test"] == [
        "CMD", "astra-cosim", "adapter", "ping", f"tcp://127.0.0.1:{port}", "--timeout", "5"]
    assert "--preload" in config["Entrypoint"]


def test_results_go_to_astra_uid_when_set(images: list[str], tmp_path) -> None:
    """Started as root with ASTRA_UID/ASTRA_GID, the results belong to those ids."""
    results = tmp_path / "results"
    results.mkdir()
    run = subprocess.run(["docker", "run", "--rm", "-e", "ASTRA_UID=4321", "-e",
                          "ASTRA_GID=4322", "-v", f"{ROOT / 'experiments'}:/work/experiments:ro",
                          "-v", f"{results}:/work/results", image("engine"),
                          "experiments/containers/analytical.yaml"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    written = results / "containers-analytical"
    assert (written / "summary.json").is_file()
    for path in [written, *written.iterdir()]:
        assert (path.stat().st_uid, path.stat().st_gid) == (4321, 4322), path
