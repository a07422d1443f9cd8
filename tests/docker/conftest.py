"""Docker fixtures: skip, with the reason, when Docker or the images are missing; rebuild the
images once per session so a stack never runs stale source."""

from __future__ import annotations

import pytest

from tests.docker.stack import (docker_missing, garnet_image_missing, rebuild_garnet_image,
                                rebuild_images, roles_to_build)


@pytest.fixture(scope="session")
def images() -> list[str]:
    """The roles whose images are current: engine, ns3 and scalesim, and garnet when its
    image was built here once (its gem5 stage is then reused from the layer cache)."""
    reason = docker_missing()
    if reason:
        pytest.skip(reason)
    roles = roles_to_build()
    rebuild_images(roles)
    if garnet_image_missing() is None:
        rebuild_garnet_image()
        roles.append("garnet")
    return roles
