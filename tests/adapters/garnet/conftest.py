"""Garnet tests that run gem5 need the gem5 build made by scripts/build_garnet.sh (about an
hour, so CI does not make one): they skip with the build command unless $ASTRA_GEM5 (or the
build script's default location) holds it."""

import pytest

from adapters.garnet.locate import unavailable_reason

_REASON = unavailable_reason()

requires_gem5 = pytest.mark.skipif(_REASON is not None, reason=_REASON or "")
