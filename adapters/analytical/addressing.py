"""Mixed-radix NPU addresses shared by every analytical network: dimension 0 varies fastest
(SEMANTICS §5.2, §5.3)."""

from __future__ import annotations

from collections.abc import Sequence


class MixedRadix:
    __slots__ = ("sizes", "strides", "npus_count")

    def __init__(self, sizes: Sequence[int]) -> None:
        self.sizes = list(sizes)
        self.strides = []
        stride = 1
        for size in self.sizes:
            self.strides.append(stride)
            stride *= size
        self.npus_count = stride

    def coordinate(self, npu: int, dim: int) -> int:
        return (npu // self.strides[dim]) % self.sizes[dim]
