"""Shared fixtures: where the shared reference material lives, and skipping without it."""

from __future__ import annotations

import os

import pytest

SHARED = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "shared"))
REFERENCE_CASES = os.path.join(SHARED, "reference", "cases")


@pytest.fixture
def reference_cases_dir() -> str:
    if not os.path.isdir(REFERENCE_CASES):
        pytest.skip(f"shared reference cases not found at {REFERENCE_CASES} "
                    "(CI provides ../shared next to the checkout)")
    return REFERENCE_CASES
