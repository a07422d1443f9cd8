"""A live progress line for runs that take more than a couple of seconds.

It runs in its own thread and only reads what the engine already keeps (the simulated time,
the events scheduled so far, NPU 0's passes begun or trace nodes left), so the event loop does
no work for it. Shown on stderr through ``rich``; the CLI turns it off with ``--quiet`` or when
stderr is not a terminal.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

SHOW_AFTER_S = 2.0
REFRESH_S = 0.25


def fraction_done(driver: Any) -> float | None:
    """How much of NPU 0's work is done: completed passes (1.0 loops), or trace nodes
    completed (2.x); None when it cannot be told yet."""
    loop = getattr(driver, "loop", None)
    if loop is not None:
        done = loop.passes_started - 1
        return done / driver.num_passes if done > 0 else None
    total = len(driver.trace.nodes)
    return 1 - len(driver.outstanding()) / total if total else None


def no_eta_yet(driver: Any) -> str:
    """Why there is no ETA yet: a one-pass 1.0 run has no earlier pass to go by."""
    if getattr(driver, "num_passes", 0) == 1:
        return "one pass: no ETA"
    return "ETA after the first pass"


def describe(now_ns: int, events: int, elapsed_s: float, done: float | None,
             no_eta: str = "ETA after the first pass") -> str:
    """One line: simulated time reached, events per second, ETA."""
    rate = events / elapsed_s if elapsed_s > 0 else 0.0
    eta = no_eta if done is None else (
        f"{done:.0%} done, ETA {elapsed_s * (1 - done) / done:.0f} s" if done > 0 else "")
    return f"simulated {now_ns / 1e6:,.3f} ms · {rate:,.0f} events/s · {eta}"


class ProgressDisplay:
    """Polls the run from a daemon thread; ``stop()`` clears the line."""

    def __init__(self, clock: Any, drivers: Sequence[Any]) -> None:
        self.clock = clock
        self.driver = drivers[0]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="astra-cosim-progress",
                                        daemon=True)
        self._started = 0.0

    def start(self) -> None:
        self._started = time.perf_counter()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _line(self) -> str:
        events = self.clock.events_scheduled
        return describe(self.clock.now_ns, events, time.perf_counter() - self._started,
                        fraction_done(self.driver), no_eta_yet(self.driver))

    def _run(self) -> None:
        if self._stop.wait(SHOW_AFTER_S):
            return
        from rich.console import Console
        from rich.live import Live
        from rich.text import Text
        console = Console(file=sys.stderr)
        with Live(Text(self._line()), console=console, transient=True,
                  auto_refresh=False) as live:
            while not self._stop.wait(REFRESH_S):
                live.update(Text(self._line()), refresh=True)
