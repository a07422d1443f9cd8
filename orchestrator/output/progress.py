"""A progress line for runs that take more than a couple of seconds.

It runs in its own thread and only reads counters (the simulated time, the events scheduled
so far, how much of NPU 0's work is done), so the event loop does no work for it. NPU 0's work
is known in advance: a 1.0 training loop's steps (compute, issue, wait, ...) are counted by
walking a copy of the loop before the run, and the run's steps are counted as the driver takes
them; a 2.x trace has its nodes. So even a single-pass run shows a share done and an ETA.

Two styles, on stderr: ``rich`` (a live line, for a terminal) and ``plain`` (a line every
``interval_s`` seconds, for logs); the CLI picks rich on a terminal and plain otherwise
(``--progress``), and none with ``--quiet``.
"""

from __future__ import annotations

import copy
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

SHOW_AFTER_S = 2.0
REFRESH_S = 0.25
PLAIN_INTERVAL_S = 10.0
STYLES = ("rich", "plain", "off")
# the loop's last steps are taken before its last collectives finish: never claim 100%
MOST_DONE = 0.99


class StepCounter:
    """Counts the steps a 1.0 driver takes from its loop, out of the total a dry walk of a
    copy of the same loop yields (a loop's steps do not depend on timing)."""

    def __init__(self, driver: Any) -> None:
        self.total = sum(1 for _ in copy.copy(driver.loop).run(driver.num_passes))
        self.taken = 0
        driver._steps = self._count(driver._steps)

    def _count(self, steps: Iterator[Any]) -> Iterator[Any]:
        for step in steps:
            self.taken += 1
            yield step

    def fraction(self) -> float | None:
        if not self.total or not self.taken:
            return None
        return min(self.taken / self.total, MOST_DONE)


def fraction_done(driver: Any, steps: StepCounter | None = None) -> float | None:
    """How much of NPU 0's work is done: its loop's steps taken (1.0, with a counter) or
    completed passes (1.0 without one), or trace nodes completed (2.x); None when it cannot
    be told yet."""
    if steps is not None:
        return steps.fraction()
    loop = getattr(driver, "loop", None)
    if loop is not None:
        done = loop.passes_started - 1
        return done / driver.num_passes if done > 0 else None
    total = len(driver.trace.nodes)
    # the last nodes complete just before the run ends: as for steps, never claim 100%
    done = 1 - driver.nodes_left() / total if total else 0.0
    return min(done, MOST_DONE) if done > 0 else None


def no_eta_yet(driver: Any) -> str:
    """Why there is no ETA yet (no step or pass completed to extrapolate from)."""
    if getattr(driver, "num_passes", 0) == 1:
        return "one pass: no ETA"
    return "ETA after the first pass"


def describe(now_ns: int, events: int, elapsed_s: float, done: float | None,
             no_eta: str = "ETA after the first pass") -> str:
    """One line: simulated time reached, events per second, share done and ETA."""
    rate = events / elapsed_s if elapsed_s > 0 else 0.0
    eta = no_eta if done is None else (
        f"{done:.0%} done, ETA {elapsed_s * (1 - done) / done:.0f} s" if done > 0 else "")
    return f"simulated {now_ns / 1e6:,.3f} ms · {rate:,.0f} events/s · {eta}"


class ProgressDisplay:
    """Polls the run from a daemon thread; ``stop()`` clears a rich line."""

    def __init__(self, clock: Any, drivers: Sequence[Any], style: str = "rich",
                 interval_s: float = PLAIN_INTERVAL_S) -> None:
        if style not in ("rich", "plain"):
            raise ValueError(f"progress style {style!r}")
        self.clock = clock
        self.driver = drivers[0]
        self.style = style
        self.interval_s = interval_s
        self.steps = StepCounter(self.driver) if hasattr(self.driver, "loop") else None
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

    def line(self) -> str:
        events = self.clock.events_scheduled
        return describe(self.clock.now_ns, events, time.perf_counter() - self._started,
                        fraction_done(self.driver, self.steps), no_eta_yet(self.driver))

    def _run(self) -> None:
        if self.style == "plain":
            while not self._stop.wait(self.interval_s):
                print(f"astra-cosim: progress: {self.line()}", file=sys.stderr, flush=True)
            return
        if self._stop.wait(SHOW_AFTER_S):
            return
        from rich.console import Console
        from rich.live import Live
        from rich.text import Text
        console = Console(file=sys.stderr)
        with Live(Text(self.line()), console=console, transient=True,
                  auto_refresh=False) as live:
            while not self._stop.wait(REFRESH_S):
                live.update(Text(self.line()), refresh=True)
