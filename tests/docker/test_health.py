"""An adapter container is healthy only once its adapter answers the protocol hello: the
healthcheck asks the server (``astra-cosim adapter ping``), which binds only after importing
its backend (``adapter serve --preload``), so a container that merely runs is not healthy."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.docker.stack import Stack, adapter_missing, image, image_missing

# compose service, adapter packages needed
SERVICES = [("analytical", ()), ("ns3", ("adapters.ns3",)), ("scalesim", ("adapters.scalesim",)),
            ("garnet", ("adapters.garnet",))]


@pytest.mark.parametrize("service, modules", SERVICES, ids=[service for service, _ in SERVICES])
def test_adapter_container_becomes_healthy(images: list[str], tmp_path: Path, service: str,
                                           modules: tuple[str, ...]) -> None:
    reason = adapter_missing(*modules) or \
        (service == "garnet" and "garnet" not in images and image_missing(service))
    if reason:
        pytest.skip(reason)
    with Stack(tmp_path, "containers/analytical", (service,)) as stack:
        started = stack.run_detached(service)
        assert started.returncode == 0, started.stderr
        deadline = time.monotonic() + 300
        while stack.inspect(service, "{{.State.Health.Status}}") != "healthy":
            assert stack.inspect(service, "{{.State.Running}}") == "true", \
                f"{service} stopped before it was healthy"
            assert time.monotonic() < deadline, f"{service} not healthy after 300 s"
            time.sleep(0.5)
        assert 0 in stack.health_log(service).values()


@pytest.mark.parametrize("role", ["ns3", "scalesim", "garnet"])
def test_healthcheck_fails_while_no_adapter_answers(images: list[str], role: str) -> None:
    """The image's own healthcheck, in a container whose adapter server never starts."""
    if role not in images:
        pytest.skip(image_missing(role))
    name = f"astra-cosim-test-health-{uuid.uuid4().hex[:10]}"
    start = subprocess.run(["docker", "run", "-d", "--name", name, "--health-interval", "1s",
                            "--entrypoint", "sleep", image(role), "120"],
                           capture_output=True, text=True, timeout=60)
    assert start.returncode == 0, start.stderr
    try:
        deadline = time.monotonic() + 60
        while True:
            inspect = subprocess.run(["docker", "inspect", "--format", "{{json .State.Health}}",
                                      name], capture_output=True, text=True, timeout=30)
            health = json.loads(inspect.stdout)
            if len(health.get("Log") or []) >= 2:
                break
            assert time.monotonic() < deadline, "fewer than two healthchecks in 60 s"
            time.sleep(0.5)
        assert health["Status"] != "healthy"
        assert all(entry["ExitCode"] != 0 for entry in health["Log"])
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, timeout=60)
