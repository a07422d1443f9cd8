"""The compose stacks' adapters speak CURVE: an engine of the stack without the stack's key is
refused at once with one line, and the stack's own engine gets in (test_stacks.py)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import yaml

from tests.docker.stack import COMPOSE_FILE, Stack


def test_every_container_of_the_stacks_finds_the_key() -> None:
    """A static check of docker-compose.yml: it needs no Docker."""
    services = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))["services"]
    keys = services.pop("keys")
    assert keys["entrypoint"][-1].startswith("astra-cosim adapter keygen /keys --shared")
    for name, service in services.items():
        assert service["environment"]["ASTRA_ADAPTER_KEY"] == "/keys/adapter.key_secret", name
        assert "adapter-keys:/keys:ro" in service["volumes"], name
        assert service["depends_on"]["keys"]["condition"] == "service_healthy", name


def test_an_engine_without_the_key_is_refused(images: list[str], tmp_path: Path) -> None:
    with Stack(tmp_path / "stack", "containers/analytical-adapter", ("analytical",)) as stack:
        started = stack.run_detached("analytical")
        assert started.returncode == 0, started.stderr
        deadline = time.monotonic() + 120
        while stack.inspect("analytical", "{{.State.Health.Status}}") != "healthy":
            assert time.monotonic() < deadline, "the analytical adapter never became healthy"
            time.sleep(1)
        began = time.monotonic()
        keyless = subprocess.run(
            [*stack.base, "run", "--rm", "--no-deps", "-T", "-e", "ASTRA_ADAPTER_KEY=",
             "engine", "experiments/containers/analytical-adapter.yaml"], env=stack.env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
        assert keyless.returncode != 0, keyless.stdout[-2000:]
        assert "refused the connection" in keyless.stdout, keyless.stdout[-2000:]
        assert time.monotonic() - began < 60
        assert not (stack.results / "containers-analytical-adapter" / "summary.json").exists()
