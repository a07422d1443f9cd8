"""The logical topology the system layer runs collectives on (SEMANTICS §4.2, §5.3).

NPU ids are mixed-radix over the logical dimensions, dimension 0 varying fastest. Each
collective type has one implementation per dimension (``ring_direct``...); a dimension's
ring is the NPUs that differ from an NPU only in that coordinate. ``one*`` implementations
treat all NPUs as one ring. ``HYBRID_TRANSFORMER`` may split a physical dimension in two
(``break_dimension``) so that model parallelism covers exactly ``model_parallel_NPU_group``
NPUs; the network still sees the physical topology.
"""

from __future__ import annotations

from dataclasses import dataclass

ONE_PREFIX = "one"


@dataclass(frozen=True, slots=True)
class RingView:
    """The ring of one logical dimension: ``size`` members ``stride`` ids apart."""

    size: int
    stride: int

    def index(self, npu: int) -> int:
        return (npu // self.stride) % self.size

    def member(self, npu: int, index: int) -> int:
        """The id at ``index`` on ``npu``'s ring."""
        return npu + (index - self.index(npu)) * self.stride

    def peer(self, npu: int, steps: int) -> int:
        """The member ``steps`` positions further round the ring (negative: backwards).
        ``member(npu, (index(npu) + steps) % size)``, written out: asked twice per phase."""
        size, stride = self.size, self.stride
        index = (npu // stride) % size
        return npu + ((index + steps) % size - index) * stride


@dataclass(frozen=True, slots=True)
class DimensionPlan:
    """One logical dimension of a collective type: its ring and algorithm token."""

    ring: RingView
    algorithm: str        # upstream token without window: ring, direct, halvingDoubling, ...
    window: int           # directW's W; -1 for no window


def parse_implementation(token: str) -> tuple[str, int, bool]:
    """``directN`` -> ("direct", N, False); ``oneRing`` -> ("ring", -1, True)."""
    one = token.startswith(ONE_PREFIX)
    name = token[len(ONE_PREFIX):] if one else token
    if one:
        name = name[0].lower() + name[1:]
    window = -1
    if name.startswith("direct") and name != "direct":
        window = int(name[len("direct"):])
        name = "direct"
    return name, window, one


def plan_dimensions(dims: list[int], implementations: tuple[str, ...]) -> list[DimensionPlan]:
    """One plan per implementation entry, as 1.0 builds its topology: a ``one*`` entry makes a
    single ring over every NPU and ends the list; a shorter list leaves the last dimensions
    out."""
    plans = []
    stride = 1
    total = 1
    for size in dims:
        total *= size
    for position, token in enumerate(implementations):
        name, window, one = parse_implementation(token)
        if one:
            plans.append(DimensionPlan(RingView(total, 1), name, window))
            break
        if position >= len(dims):
            break
        plans.append(DimensionPlan(RingView(dims[position], stride), name, window))
        stride *= dims[position]
    return plans


def break_dimension(dims: list[int], group: int) -> tuple[int, list[int]]:
    """Where model parallelism of ``group`` NPUs ends, and the logical dims that result.

    Walks the dimensions multiplying their sizes: if the product reaches ``group`` exactly at
    dimension d, model parallelism spans 0..d. If it overshoots inside dimension d, d is split
    into ``group / product_before`` and the rest (ValueError when that does not divide).
    Returns -1 when ``group`` is 1 or exceeds the NPU count (then nothing is model parallel).
    """
    if group == 1:
        return -1, list(dims)
    product = 1
    for index, size in enumerate(dims):
        if product * size < group:
            product *= size
        elif product * size == group:
            return index, list(dims)
        else:
            first = group // product
            if first * product != group or size % first:
                raise ValueError(f"model_parallel_NPU_group {group} does not fit the "
                                 f"topology: dimension {index} has {size} NPUs and the "
                                 f"dimensions below it {product}; the group must be their "
                                 "product times a divisor of the dimension")
            return index, dims[:index] + [first, size // first] + dims[index + 1:]
    return -1, list(dims)
