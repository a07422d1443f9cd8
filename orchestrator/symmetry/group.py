"""The relabellings of NPUs that a symmetric run is invariant under.

Per logical dimension the group is either the rotations of that dimension's ring (``cyclic``:
x -> x + a mod n, what ring and direct algorithms commute with) or the bit flips of its index
(``xor``: x -> x XOR a, what halving-doubling commutes with). The whole group is their product;
it acts *regularly* on the NPUs (exactly one element maps NPU 0 to any given NPU), so an element
is named by the NPU it maps NPU 0 to, and NPU 0 can stand for every NPU.
"""

from __future__ import annotations

from collections.abc import Sequence

CYCLIC = "cyclic"
XOR = "xor"


class OrbitGroup:
    """A product of per-dimension cyclic or xor groups; elements are NPU ids."""

    __slots__ = ("sizes", "kinds", "strides", "npus_count", "_one_cyclic")

    def __init__(self, sizes: Sequence[int], kinds: Sequence[str]) -> None:
        if len(sizes) != len(kinds):
            raise ValueError("one group kind per dimension")
        for size, kind in zip(sizes, kinds):
            if kind not in (CYCLIC, XOR):
                raise ValueError(kind)
            if kind == XOR and size & (size - 1):
                raise ValueError(f"a xor group needs a power-of-two size, not {size}")
        self.sizes = tuple(sizes)
        self.kinds = tuple(kinds)
        strides, stride = [], 1
        for size in sizes:
            strides.append(stride)
            stride *= size
        self.strides = tuple(strides)
        self.npus_count = stride
        self._one_cyclic = len(sizes) == 1 and kinds[0] == CYCLIC

    def compose(self, a: int, b: int) -> int:
        """The NPU that ``a`` lands on when relabelled by ``b`` (the group is abelian)."""
        if self._one_cyclic:
            return (a + b) % self.npus_count
        result = 0
        for size, kind, stride in zip(self.sizes, self.kinds, self.strides):
            x, y = (a // stride) % size, (b // stride) % size
            result += ((x + y) % size if kind == CYCLIC else x ^ y) * stride
        return result

    def inverse(self, a: int) -> int:
        if self._one_cyclic:
            return -a % self.npus_count
        result = 0
        for size, kind, stride in zip(self.sizes, self.kinds, self.strides):
            x = (a // stride) % size
            result += ((-x) % size if kind == CYCLIC else x) * stride
        return result

    def describe(self) -> str:
        return " x ".join(f"{'Z' if kind == CYCLIC else 'XOR'}{size}"
                          for size, kind in zip(self.sizes, self.kinds))
