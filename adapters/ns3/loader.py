"""Importing ns-3 (once per process) and compiling the adapter's C++ flow tracker.

``from ns import ns`` takes about 10 s and scans the current directory recursively for
libraries, so it runs from a fresh, empty temporary directory and the working directory is
restored afterwards; the import and the tracker's compilation are paid once per process (an
adapter server pays them before it answers the engine's configure request, so its readiness
is its handshake reply).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from types import SimpleNamespace

from orchestrator.errors import AstraCosimError

INSTALL_HINT = "pip install astra-cosim[ns3]"
_TRACKER_SOURCE = Path(__file__).with_name("flow_tracker.cpp")
_HEADERS = ("core-module.h", "network-module.h", "internet-module.h",
            "point-to-point-module.h", "traffic-control-module.h")

_loaded: SimpleNamespace | None = None


class Ns3Unavailable(AstraCosimError):
    """The ns3 backend was asked for but ns-3's Python bindings cannot be imported."""


def ns3_available() -> bool:
    """Whether ns-3's bindings are installed (without paying for the import)."""
    import importlib.util

    return importlib.util.find_spec("ns") is not None and \
        importlib.util.find_spec("cppyy") is not None


def load_ns3() -> SimpleNamespace:
    """``ns`` (the bindings' namespace), ``cppyy`` and ``tracker`` (the C++ namespace
    astra_ns3), importing and compiling on the first call only."""
    global _loaded
    if _loaded is not None:
        return _loaded
    if not ns3_available():
        raise Ns3Unavailable("the ns3 network backend needs ns-3's Python bindings, which are "
                             f"not installed: {INSTALL_HINT} (needs g++ and the Python "
                             "headers to build cppyy)")
    here = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="astra-ns3-") as scratch:
        os.chdir(scratch)
        try:
            from ns import ns    # noqa: F401  (the import itself loads every ns-3 module)
            import cppyy
        except ImportError as exc:
            raise Ns3Unavailable(f"ns-3's Python bindings failed to import ({exc}); "
                                 f"reinstall with {INSTALL_HINT}") from None
        finally:
            os.chdir(here)
    for header in _HEADERS:
        cppyy.include(f"ns3/{header}")
    cppyy.include("ns3/default-simulator-impl.h")
    if not cppyy.cppdef(_TRACKER_SOURCE.read_text(encoding="utf-8")):
        raise AstraCosimError(f"{_TRACKER_SOURCE}: the flow tracker did not compile")
    _loaded = SimpleNamespace(ns=ns, cppyy=cppyy, tracker=cppyy.gbl.astra_ns3)
    return _loaded
