"""Docker fixtures: skip, with the reason, when Docker or the images are missing; rebuild the
images once per session so a stack never runs stale source."""

from __future__ import annotations

import pytest

from tests.docker.stack import docker_missing, rebuild_images, roles_to_build


@pytest.fixture(scope="session")
def images() -> list[str]:
    """The roles whose images are current (engine, and ns3/scalesim once their adapters exist)."""
    reason = docker_missing()
    if reason:
        pytest.skip(reason)
    roles = roles_to_build()
    rebuild_images(roles)
    return roles
