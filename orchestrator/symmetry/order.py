"""The full run's event order, computed from the representative's events alone.

In the full simulation every event sits in one queue ordered by time and then by the sequence
number it was given when it was scheduled (SEMANTICS §2). Events scheduled while another event
is processed therefore inherit that event's place: the full order of two same-time events is
the order of the events that scheduled them, then of the calls that did the scheduling; at
the bottom, the workloads were started NPU by NPU in id order.

In a symmetric run every event of NPU x is the relabelled copy of one event of NPU 0. A
``Record`` is such an event of NPU 0 together with where its scheduler ran (``copy``: the NPU,
relative to this event's own NPU, whose processing of ``parent`` scheduled it — 0 for NPU 0's
own work, the sender for a message arrival) and its position among the parent's children
(``idx``). ``precedes`` walks two events' ancestries back in lock step until they part; that
is exactly how the full queue ordered them, so the reduced run processes NPU 0's events in the
full run's order, ties between NPUs included.
"""

from __future__ import annotations

from orchestrator.symmetry.group import OrbitGroup


class SymmetryBroken(Exception):
    """The run is not symmetric after all (found while simulating the representative); the
    caller runs the full simulation instead."""


class Record:
    """One event (or reserved slot) of the representative NPU, placed in the full order."""

    __slots__ = ("time", "parent", "copy", "idx", "root")

    def __init__(self, time: int, parent: Record | None, copy: int, idx: tuple[int, int, int],
                 root: int) -> None:
        self.time = time          # when it runs (-1 until a reserved slot is filed)
        self.parent = parent      # the event during whose processing it was scheduled
        self.copy = copy          # where that processing ran, relative to this event's NPU
        self.idx = idx            # its place among the parent's children
        self.root = root          # this event at NPU x descends from NPU (x ⊕ root)'s start


ROOT = Record(-1, None, 0, (0, 0, 0), 0)
"""The start of the run: NPU x's copy is NPU x's workload being started, in id order."""


def precedes(a: Record, x: int, b: Record, y: int, group: OrbitGroup) -> bool:
    """Does event ``a`` at NPU ``x`` run before event ``b`` at NPU ``y`` in the full run?"""
    compose = group.compose
    while True:
        if a is b:
            # the same event at two NPUs: identical ancestries down to two different starts
            return x != y and compose(x, a.root) < compose(y, b.root)
        if a.time != b.time:
            return a.time < b.time
        pa, pb = a.parent, b.parent
        xa = compose(x, a.copy) if a.copy else x
        yb = compose(y, b.copy) if b.copy else y
        if pa is pb and xa == yb:
            return a.idx < b.idx
        a, x, b, y = pa, xa, pb, yb


def action_precedes(first: Record, second: Record, group: OrbitGroup) -> bool:
    """Was the call that reserved slot ``first`` made before the one that reserved ``second``
    (both reserved on behalf of NPU 0, possibly by a relabelled copy)?"""
    if first.parent is second.parent and first.copy == second.copy:
        return first.idx < second.idx
    return precedes(first.parent, first.copy, second.parent, second.copy, group)
