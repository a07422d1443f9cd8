"""What a run is asked to record and show besides its result: statistics, a trace, progress.

The runners call ``observe(instruments, clock, network, drivers)`` around the event loop. With
``instruments`` None (library use, tests, benchmarks) it does nothing at all. Otherwise it
gives a ``Recorder`` to the NPUs whose spans are wanted (NPU 0 for the statistics, which
report NPU 0 as the reference does, plus the NPUs selected for the trace), starts the progress
display when asked, and after the run reads per-link counters from the network model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from orchestrator.errors import InputError
from orchestrator.limits import MAX_NPUS, whole_number
from orchestrator.output.recorder import Recorder
from orchestrator.units import gb_per_s_to_bytes_per_ns

# A network model's stats() carries per-link byte counters under keys "link_bytes/<link>"
# (a flat map, as the protocol's Goodbye carries it, in every placement).
LINK_BYTES_PREFIX = "link_bytes/"
# ... and a model that measures each link's busy time (ns-3) its share of the run under
# "link_utilisation/<link>"; the analytical models leave it to bytes / (bandwidth x time).
LINK_UTILISATION_PREFIX = "link_utilisation/"
TRACE_ALL_NPUS_UP_TO = 16


@dataclass
class Instruments:
    """Options of one run's instrumentation, and what it recorded."""

    trace: bool = False
    trace_npus: str = ""          # --trace-npus text; "" = every NPU up to 16, else NPU 0
    progress: bool = False
    progress_style: str = "rich"                  # rich (a terminal) or plain (logs)
    progress_interval_s: float = 10.0             # between plain lines
    link_gb_per_s: Sequence[float] = ()           # per dimension, for link utilisation
    recorder: Recorder = field(default_factory=Recorder)

    def traced(self, npus_count: int) -> frozenset[int]:
        """The NPUs whose spans go into the trace."""
        if not self.trace:
            return frozenset()
        if not self.trace_npus:
            count = npus_count if npus_count <= TRACE_ALL_NPUS_UP_TO else 1
            return frozenset(range(count))
        chosen = parse_npu_selection(self.trace_npus, npus_count)
        return frozenset(range(npus_count)) if chosen is None else chosen

    def selected(self, npus_count: int) -> frozenset[int]:
        """The NPUs that get a recorder: NPU 0 (statistics) and the traced ones."""
        wanted = {0} | set(self.traced(npus_count))
        beyond = sorted(npu for npu in wanted if npu >= npus_count)
        if beyond:
            raise InputError(f"--trace-npus: found NPU {beyond[0]}; this network has "
                             f"{npus_count} NPUs (0..{npus_count - 1})")
        return frozenset(wanted)


def npu_ranges(text: str, npus_count: int = MAX_NPUS) -> list[tuple[int, int]] | None:
    """``0,1,8`` or ``0-7,16`` -> inclusive (low, high) ranges; ``all`` -> None (every NPU).
    Every id is checked against ``npus_count`` before anything is expanded (0-10000000000
    would fill the memory); without a network yet, against upstream's int."""
    if text.strip() == "all":
        return None
    ranges: list[tuple[int, int]] = []
    for item in text.split(","):
        first, sep, last = item.strip().partition("-")
        try:
            low = whole_number(first.strip())
            high = whole_number(last.strip()) if sep else low
        except ValueError:
            raise InputError(f"--trace-npus: found {item.strip()!r}; expected NPU ids like "
                             "0,1,8 or ranges like 0-7, or 'all'") from None
        if low < 0 or high < low:
            raise InputError(f"--trace-npus: found {item.strip()!r}; expected ids >= 0 and "
                             "ranges low-high with low <= high")
        if high >= npus_count:
            expected = (f"expected ids below {MAX_NPUS} (2^31 - 1)" if npus_count == MAX_NPUS
                        else f"this network has {npus_count} NPUs (0..{npus_count - 1})")
            raise InputError(f"--trace-npus: found NPU {high}; {expected}")
        ranges.append((low, high))
    return ranges


def parse_npu_selection(text: str, npus_count: int) -> frozenset[int] | None:
    """The NPU ids of ``text`` (see ``npu_ranges``) on a network of ``npus_count``; None for
    every NPU."""
    ranges = npu_ranges(text, npus_count)
    if ranges is None:
        return None
    return frozenset(npu for low, high in ranges for npu in range(low, high + 1))


@contextmanager
def observe(instruments: Instruments | None, clock: Any, network: Any,
            drivers: Sequence[Any], npus_count: int | None = None) -> Iterator[None]:
    """Wrap a run's event loop (see the module docstring); a no-op for None.

    A reduced run (orchestrator/symmetry) has one driver for ``npus_count`` NPUs: NPU 0 is
    recorded and its spans are copied, relabelled, to the other traced NPUs afterwards (in a
    symmetric run every NPU does what NPU 0 does, at the same times)."""
    if instruments is None:
        yield
        return
    npus_count = len(drivers) if npus_count is None else npus_count
    for npu in instruments.selected(npus_count):
        if npu < len(drivers):
            drivers[npu].recorder = instruments.recorder
            drivers[npu].npu.recorder = instruments.recorder
    traced = set(instruments.traced(npus_count))
    instruments.recorder.npus = traced
    display = None
    if instruments.progress:
        from orchestrator.output.progress import ProgressDisplay
        display = ProgressDisplay(clock, drivers, instruments.progress_style,
                                  instruments.progress_interval_s)
        display.start()
    try:
        yield
    finally:
        if display is not None:
            display.stop()
    if len(drivers) < npus_count:
        instruments.recorder.replicate(0, sorted(npu for npu in traced if npu >= len(drivers)),
                                       _boosted_phases(drivers[0].npu, network))
    _read_links(instruments, network)


def _boosted_phases(npu: Any, network: Any) -> Callable[[int, int], bool] | None:
    """Under 1.0's boost mode, which NPUs run a dimension's phases: those on NPU 0's axis
    along it (every other coordinate 0; ``Npu._advance_boosted``), over the reduced run's
    group of logical dimensions. None when every NPU runs every phase."""
    if not npu.context.boost_mode:
        return None
    sizes, strides = network.group.sizes, network.group.strides

    def runs_phase(npu_id: int, dim: int) -> bool:
        return npu_id == (npu_id // strides[dim]) % sizes[dim] * strides[dim]
    return runs_phase


def _read_links(instruments: Instruments, network: Any) -> None:
    """Per-link bytes from the model's final stats (``Goodbye.stats``, any placement)."""
    client = network.client
    # sorted: a map that came through the protocol has no order of its own
    stats = dict(sorted((getattr(client, "final_stats", {}) or {}).items()))
    recorder = instruments.recorder
    recorder.network_stats = {key: value for key, value in stats.items()
                              if not key.startswith(LINK_BYTES_PREFIX)}
    links = {key[len(LINK_BYTES_PREFIX):]: int(value) for key, value in stats.items()
             if key.startswith(LINK_BYTES_PREFIX)}
    recorder.links = links
    recorder.link_utilisation = {key[len(LINK_UTILISATION_PREFIX):]: float(value)
                                 for key, value in stats.items()
                                 if key.startswith(LINK_UTILISATION_PREFIX)}
    for name in links:
        dim = _link_dimension(name)
        if dim is not None and dim < len(instruments.link_gb_per_s):
            recorder.link_bytes_per_ns[name] = gb_per_s_to_bytes_per_ns(
                instruments.link_gb_per_s[dim])


def _link_dimension(name: str) -> int | None:
    """``dim1[0]:3->4`` -> 1; None for names that do not say their dimension."""
    if not name.startswith("dim"):
        return None
    digits = name[3:].split("[", 1)[0]
    return int(digits) if digits.isdigit() else None
