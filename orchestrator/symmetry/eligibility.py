"""When a run may be reduced to one NPU, and under which group of relabellings.

A run is reduced only when every part of it commutes with the group (docs/design.md,
"Symmetry reduction"):

* the network model decides each arrival from (source, destination, bytes) alone and its
  delays are preserved by the group: rotations of a Ring dimension, any relabelling inside a
  Switch or FullyConnected dimension (``SYMMETRIC_NETWORK_MODELS``), or it keeps one queue per
  orbit of links itself (``ORBIT_NETWORK_MODELS``: the congestion-aware links);
  ns-3 simulates every packet of every NPU and is never reduced;
* every collective algorithm in use commutes with its dimension's group: ``ring`` and
  ``direct`` with rotations, ``halvingDoubling`` with bit flips; the double binary tree has a
  root and ``one*`` rings span several dimensions, so neither is reduced on a multi-dimensional
  topology;
* every NPU runs the same workload (1.0: always; 2.x: traces equal up to node numbering, no
  point-to-point SEND/RECV) and no communicator groups are given.

Anything else returns a reason, and the full simulation runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from orchestrator.symmetry.group import CYCLIC, XOR, OrbitGroup
from orchestrator.system.topology import DimensionPlan

# Models whose arrival is a function of (src, dst, bytes) with delays that depend only on the
# dimension and the hop count there: the congestion-unaware analytical networks.
SYMMETRIC_NETWORK_MODELS = frozenset({"analytical-v1", "analytical-v2"})
# Models that take the group (``orbit`` in their configuration), receive only NPU 0's messages
# and keep one queue per orbit of links; they refuse a tie they cannot order with an error
# carrying guard.BROKEN_MARK, in any placement.
ORBIT_NETWORK_MODELS = frozenset({"analytical-v2-aware"})

_GROUP_OF_ALGORITHM = {"ring": CYCLIC, "direct": CYCLIC, "halvingDoubling": XOR}


def _ring_distance(a: int, b: int, n: int) -> int:
    d = abs(a - b) % n
    return min(d, n - d)


def _xor_keeps_ring_distances(n: int) -> bool:
    """Bit flips are isometries of a ring of n only for n <= 4; checked, not assumed."""
    bit = 1
    while bit < n:
        for a in range(n):
            for b in range(a + 1, n):
                if _ring_distance(a, b, n) != _ring_distance(a ^ bit, b ^ bit, n):
                    return False
        bit <<= 1
    return True


def orbit_group(model: str, physical: Sequence[tuple[str, int]], logical: Sequence[int],
                plans: dict[str, list[DimensionPlan]], kinds_used: Iterable[str]
                ) -> tuple[OrbitGroup | None, str]:
    """The group to reduce by, or None and why not.

    ``physical``: (topology, NPUs) per network dimension; ``logical``: the system layer's
    dimension sizes (1.0's model parallelism may split a physical one); ``plans``: the
    dimension plans per collective kind; ``kinds_used``: the collective kinds the workload
    issues (all-reduce with localBWAware uses the all-reduce plans for all its phases)."""
    if model not in SYMMETRIC_NETWORK_MODELS | ORBIT_NETWORK_MODELS:
        return None, f"the {model} network keeps state shared between NPUs"
    kinds: list[str | None] = [None] * len(logical)
    for kind in sorted(set(kinds_used)):
        for position, plan in enumerate(plans.get(kind, [])):
            if plan.ring.size != logical[position] or plan.ring.stride != \
                    _stride(logical, position):
                return None, f"a one* implementation spans several dimensions ({kind})"
            if plan.ring.size == 1:
                continue
            wanted = _GROUP_OF_ALGORITHM.get(plan.algorithm)
            if wanted is None:
                return None, f"{plan.algorithm} ({kind}, dimension {position}) has a root"
            if plan.ring.size == 2:
                wanted = CYCLIC              # on two NPUs a rotation is a bit flip
            if kinds[position] not in (None, wanted):
                return None, (f"dimension {position} runs algorithms that commute with "
                              "different relabellings")
            kinds[position] = wanted
    final = [kind or CYCLIC for kind in kinds]
    problem = _network_invariant(physical, logical, final, model in ORBIT_NETWORK_MODELS)
    if problem:
        return None, problem
    return OrbitGroup(list(logical), final), ""


def _stride(sizes: Sequence[int], position: int) -> int:
    stride = 1
    for size in sizes[:position]:
        stride *= size
    return stride


def _network_invariant(physical: Sequence[tuple[str, int]], logical: Sequence[int],
                       kinds: Sequence[str], routes_links: bool) -> str:
    """Why the physical network's delays are not preserved by the group ('' when they are).

    ``routes_links``: the model queues messages on directed links (the congestion-aware
    network). Then a Ring dimension needs rotations: a bit flip keeps a ring of 4's distances
    but reverses directions, and the route of a message half-way round (clockwise on a tie)
    is not mapped onto the route of its image, so the links' queues would not be the images
    of NPU 0's."""
    position = 0
    for index, (topology, npus) in enumerate(physical):
        parts = []
        product = 1
        while position < len(logical):
            parts.append(position)
            product *= logical[position]
            position += 1
            if product >= npus:
                break
        if product != npus:
            return f"the logical dimensions do not tile network dimension {index}"
        if topology in ("Switch", "FullyConnected") or npus <= 2:
            continue
        if len(parts) > 1:
            return f"model parallelism splits Ring dimension {index}"
        if kinds[parts[0]] == XOR and routes_links:
            return (f"halving-doubling's bit flips reverse the links of Ring dimension {index}, "
                    "on which the congestion-aware network routes half-way messages clockwise")
        if kinds[parts[0]] == XOR and not _xor_keeps_ring_distances(npus):
            return f"halving-doubling's partners on Ring dimension {index} are not symmetric"
    if position != len(logical):
        return "the logical dimensions do not match the network"
    return ""
