"""Importing ns-3 (once per process) and compiling the adapter's C++ flow tracker.

``from ns import ns`` takes about 10 s and scans the current directory recursively for
libraries, so it runs from a fresh, empty temporary directory and the working directory is
restored afterwards; the import and the tracker's compilation are paid once per process (an
adapter server pays them before it answers the engine's configure request, so its readiness
is its handshake reply). Cling prints warnings about ns-3's static initialisers while it
loads the headers; they are harmless, so the loader's stderr is captured and shown only if
loading fails.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

from orchestrator.errors import AstraCosimError

INSTALL_HINT = "pip install astra-cosim[ns3]"
_TRACKER_SOURCE = Path(__file__).with_name("flow_tracker.cpp")
_ROCE_SOURCE = Path(__file__).with_name("roce.cpp")
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


@contextlib.contextmanager
def _captured_stderr() -> Iterator[Path]:
    """Send file descriptor 2 (C++ writes there directly) to a temporary file."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.NamedTemporaryFile(prefix="astra-ns3-stderr-", delete=False) as sink:
        path = Path(sink.name)
        os.dup2(sink.fileno(), 2)
    try:
        yield path
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def _tail(path: Path, lines: int = 5) -> str:
    text = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    return " | ".join(text[-lines:])


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
    with _captured_stderr() as log, tempfile.TemporaryDirectory(prefix="astra-ns3-") as scratch:
        try:
            os.chdir(scratch)
            try:
                from ns import ns    # noqa: F401  (the import itself loads every ns-3 module)
                import cppyy
            except ImportError as exc:
                raise Ns3Unavailable(f"ns-3's Python bindings failed to import ({exc}; "
                                     f"{_tail(log)}); reinstall with {INSTALL_HINT}") from None
            finally:
                os.chdir(here)
            for header in _HEADERS:
                cppyy.include(f"ns3/{header}")
            cppyy.include("ns3/default-simulator-impl.h")
            if not cppyy.cppdef(_TRACKER_SOURCE.read_text(encoding="utf-8")):
                raise AstraCosimError(f"{_TRACKER_SOURCE}: the flow tracker did not compile: "
                                      f"{_tail(log, 10)}")
        finally:
            log.unlink()
    _loaded = SimpleNamespace(ns=ns, cppyy=cppyy, tracker=cppyy.gbl.astra_ns3, roce=None)
    return _loaded


def load_roce() -> SimpleNamespace:
    """``load_ns3()`` with the RoCE fabric (``roce.cpp``, namespace astra_roce) compiled too:
    only runs with ``transport: roce`` pay for its compilation."""
    loaded = load_ns3()
    if loaded.roce is None:
        with _captured_stderr() as log:
            try:
                if not loaded.cppyy.cppdef(_ROCE_SOURCE.read_text(encoding="utf-8")):
                    raise SyntaxError("cppdef failed")
            except SyntaxError as exc:
                raise AstraCosimError(f"{_ROCE_SOURCE}: the RoCE fabric did not compile: "
                                      f"{str(exc).strip()[:2000]} {_tail(log, 10)}") from None
            finally:
                log.unlink()
        loaded.roce = loaded.cppyy.gbl.astra_roce
    return loaded
