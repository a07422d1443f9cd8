"""Finding the gem5 build the Garnet adapter runs, and saying how to make one when there is none.

gem5 is in no package registry: ``scripts/build_garnet.sh`` builds gem5's Garnet_standalone
binary from a gem5 source tree (a path or a URL) with this project's SimObject compiled in
through gem5's EXTRAS mechanism (``gem5_extras/``). The adapter looks for that binary in
``network.options.gem5``, then ``$ASTRA_GEM5``, then the build script's default location.
"""

from __future__ import annotations

import os
from pathlib import Path

from orchestrator.errors import AstraCosimError

BUILD_COMMAND = "scripts/build_garnet.sh --gem5-source PATH|URL"
DEFAULT_HOME = Path.home() / ".cache" / "astra-cosim" / "gem5"
BINARY = Path("build") / "Garnet_standalone" / "gem5.opt"
EXTRAS = Path(__file__).with_name("gem5_extras")
DRIVER = Path(__file__).with_name("gem5_driver.py")


class Gem5Unavailable(AstraCosimError):
    """The garnet backend was asked for but no gem5 build was found."""


def candidate(explicit: str | None = None) -> Path:
    """The gem5.opt the adapter would run (it may not exist)."""
    if explicit:
        return Path(explicit)
    if os.environ.get("ASTRA_GEM5"):
        return Path(os.environ["ASTRA_GEM5"])
    home = Path(os.environ.get("ASTRA_GEM5_HOME", DEFAULT_HOME))
    return home / BINARY


def find_gem5(explicit: str | None = None) -> Path:
    """The gem5.opt to run, or one line naming the build command."""
    path = candidate(explicit)
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise Gem5Unavailable(f"the garnet backend needs gem5 built with astra-cosim's "
                              f"extras, and there is no executable {path}; build it with "
                              f"{BUILD_COMMAND} (about an hour on 2 cores), then set "
                              "ASTRA_GEM5 to its gem5.opt")
    return path


def unavailable_reason() -> str | None:
    """Why the garnet backend cannot run here (for tests' skip reasons), or None."""
    try:
        find_gem5()
    except Gem5Unavailable as error:
        return str(error)
    return None
