"""Skip SCALE-Sim tests, saying why, where the scalesim extra is not installed."""

from __future__ import annotations

import pytest

from adapters.scalesim.simulate import check_available
from orchestrator.errors import InputError


@pytest.fixture
def scalesim_available() -> None:
    try:
        check_available("<test>")
    except InputError as exc:
        pytest.skip(f"SCALE-Sim unavailable: {exc}")
