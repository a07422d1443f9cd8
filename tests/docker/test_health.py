"""An adapter container is healthy only once its adapter answers the protocol hello: the ns-3
container reports unhealthy checks while ns-3 is still importing (the server binds after
``--preload``), then healthy."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.docker.stack import Stack, adapter_missing

# service, adapter packages needed, whether its start outlasts the first check (5 s)
SERVICES = [("analytical", (), False), ("ns3", ("adapters.ns3",), True),
            ("scalesim", ("adapters.scalesim",), False)]


@pytest.mark.parametrize("service, modules, slow_start", SERVICES,
                         ids=[service for service, _, _ in SERVICES])
def test_adapter_container_becomes_healthy_when_ready(images: list[str], tmp_path: Path,
                                                      service: str, modules: tuple[str, ...],
                                                      slow_start: bool) -> None:
    reason = adapter_missing(*modules)
    if reason:
        pytest.skip(reason)
    with Stack(tmp_path, "containers/analytical", (service,)) as stack:
        started = stack.run_detached(service)
        assert started.returncode == 0, started.stderr
        checks: dict[str, int] = {}          # every healthcheck seen: start time -> exit code
        deadline = time.monotonic() + 300
        while stack.inspect(service, "{{.State.Health.Status}}") != "healthy":
            assert stack.inspect(service, "{{.State.Running}}") == "true", \
                f"{service} stopped before it was healthy"
            assert time.monotonic() < deadline, f"{service} not healthy after 300 s"
            checks.update(stack.health_log(service))
            time.sleep(0.5)
        checks.update(stack.health_log(service))
    exit_codes = [code for _, code in sorted(checks.items())]
    assert exit_codes[-1] == 0
    if slow_start:
        assert exit_codes[0] != 0, "healthy at the first check, before ns-3 could be imported"
