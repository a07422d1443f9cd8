"""Fixtures for the system-layer tests: a MICRO runner writing its workloads to a temp dir."""

from __future__ import annotations

import pytest

from tests.system.runs import MicroRunner


@pytest.fixture(scope="session")
def micro(tmp_path_factory) -> MicroRunner:
    # session scope: usable from @given tests (no function-scoped fixture health check)
    return MicroRunner(str(tmp_path_factory.mktemp("micro_workloads")))
