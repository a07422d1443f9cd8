"""``inter-dimension-scheduling``: the order in which each chunk visits the dimensions.

* ``roundRobin``: each NPU rotates the default order (ascending; all-gather descending) by a
  counter that advances with every chunk it creates, whatever the collective, and wraps at the
  collective's number of dimensions. It is never reset, so consecutive collectives continue
  the rotation.
* ``offlineGreedy`` (Themis, ISCA'22) and ``offlineGreedyFlex``: one scheduler for the whole
  system (1.0 keeps it on NPU 0; the other NPUs ask it) tracks the expected busy time of every
  dimension, in units of "MiB at dimension 0's bandwidth". Each chunk visits the dimensions
  from the least to the most loaded (all-gather: the reverse), and its load is added as it
  would shrink (reduce-scatter: divided by the dimension size) or grow (all-gather). All-reduce
  counts as reduce-scatter; all-to-all keeps the default order. The loads restart from zero
  when NPU 0 creates a collective at a later tick than the previous one.

  - ``offlineGreedy`` keeps the chunk size. If balancing would gain less than 1/16 of a chunk
    (the load gap, converted to bytes on the least loaded dimension, is below chunk/16), the
    chunk takes the ascending order instead and the loads are charged to the dimensions by
    position (1.0's bookkeeping, reproduced as it is).
  - ``offlineGreedyFlex`` resizes the chunk so that it fills the load gap (never below the
    preferred chunk size, never beyond what is left of the collective); the collective may so
    have fewer, larger chunks.

  A chunk's decision is made once, by the first NPU that creates it, and shared by number.

The arithmetic is 1.0's, in the same double-precision operations and the same truncations,
because the chosen order and the chunk sizes decide the times to the nanosecond.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from orchestrator.system.algorithms.base import ALL_GATHER, ALL_REDUCE, REDUCE_SCATTER
from orchestrator.system.scheduling.policies import OFFLINE_GREEDY, OFFLINE_GREEDY_FLEX

MIB = 1048576


def default_order(kind: str, dims: int) -> list[int]:
    order = list(range(dims))
    if kind == ALL_GATHER:
        order.reverse()
    return order


class RoundRobinOrder:
    """One NPU's rotating dimension order (``roundRobin``)."""

    __slots__ = ("_offset",)

    def __init__(self) -> None:
        self._offset = 0

    def next_order(self, kind: str, dims: int) -> list[int]:
        order = default_order(kind, dims)
        order = order[self._offset:] + order[:self._offset]
        self._offset += 1
        if self._offset == dims:
            self._offset = 0
        return order


@dataclass(slots=True)
class _DimLoad:
    dim: int
    elapsed: float = 0.0


class ThemisScheduler:
    """The system-wide load tracker of ``offlineGreedy`` / ``offlineGreedyFlex``.

    ``sizes`` and ``bandwidths`` are per logical dimension (bandwidth = links x link GB/s as
    the network reports it; only ratios to dimension 0 matter). ``consumers`` is the NPU
    count: a chunk's shared decision is dropped once every NPU has read it.
    """

    def __init__(self, policy: str, sizes: Sequence[int], bandwidths: Sequence[float],
                 consumers: int) -> None:
        if policy not in (OFFLINE_GREEDY, OFFLINE_GREEDY_FLEX):
            raise ValueError(policy)
        self.flex = policy == OFFLINE_GREEDY_FLEX
        self.sizes = list(sizes)
        self.bandwidths = list(bandwidths)
        self.consumers = consumers
        self.loads = [_DimLoad(dim) for dim in range(len(self.sizes))]
        self.last_reset_ns = 0
        # chunk number -> [order, chunk bytes, NPUs that have read it]
        self._decided: dict[int, list] = {}

    # -- NPU 0's reset ----------------------------------------------------------------------
    def collective_created(self, now_ns: int) -> None:
        """NPU 0 creates a collective: loads restart when the tick differs from the last."""
        if self.last_reset_ns != now_ns:
            for position, load in enumerate(self.loads):
                load.elapsed = 0.0
                load.dim = position
            self.last_reset_ns = now_ns

    # -- per chunk --------------------------------------------------------------------------
    def schedule(self, chunk_id: int, remaining: int, preferred: int,
                 involved: Sequence[bool], kind: str) -> tuple[list[int], int]:
        """The chunk's dimension order and size (taken from what is ``remaining``)."""
        decided = self._decided.get(chunk_id)
        if decided is None:
            order, size = self._decide(remaining, preferred, involved, kind)
            self._decided[chunk_id] = [order, size, 1]
            return order, size
        decided[2] += 1
        if decided[2] == self.consumers:
            del self._decided[chunk_id]
        return decided[0], decided[1]

    def _used(self, dim: int, involved: Sequence[bool]) -> bool:
        return dim < len(involved) and involved[dim] and self.sizes[dim] != 1

    def _load(self, dim: int, chunk: int, gathering: bool) -> tuple[float, int]:
        """Load a chunk adds to ``dim`` and the chunk size it hands on."""
        n = self.sizes[dim]
        ratio = self.bandwidths[dim] / self.bandwidths[0]
        if gathering:
            return ((float(chunk) / MIB) * float(n - 1)) / ratio, chunk * n
        return ((float(chunk) / MIB) * (float(n - 1) / n)) / ratio, chunk // n

    def _bytes_for(self, elapsed: float, dim: int, gathering: bool) -> int:
        """The chunk size whose load on ``dim`` is ``elapsed`` (1.0's inverse, truncated)."""
        n = self.sizes[dim]
        ratio = self.bandwidths[dim] / self.bandwidths[0]
        share = float(n - 1) if gathering else float(n - 1) / n
        return int(((elapsed * ratio) / share) * MIB)

    def _gap_bytes(self, position: int, involved: Sequence[bool], gathering: bool) -> int:
        """Bytes that would fill the gap between the least loaded used dimension (at
        ``position``) and the most loaded one."""
        loads = self.loads
        first = loads[position]
        if not gathering:
            gap = abs(loads[-1].elapsed - first.elapsed)
            return self._bytes_for(gap, first.dim, False)
        last = len(loads) - 1
        while not self._used(loads[last].dim, involved):
            last -= 1
        size = self._bytes_for(abs(loads[last].elapsed - first.elapsed), loads[last].dim, True)
        last -= 1
        while position <= last:
            if self._used(loads[last].dim, involved):
                size //= self.sizes[loads[last].dim]
            last -= 1
        return size

    def _decide(self, remaining: int, preferred: int, involved: Sequence[bool],
                kind: str) -> tuple[list[int], int]:
        gathering = kind == ALL_GATHER
        if kind == ALL_REDUCE:
            kind = REDUCE_SCATTER
        self.loads.sort(key=lambda load: load.elapsed)      # stable, like 1.0's small sort
        if gathering:
            self.loads.reverse()
        order: list[int] = []
        chunk = preferred
        taken = min(remaining, preferred)    # offlineGreedy never resizes
        sized = False
        for position, load in enumerate(self.loads):
            if not self._used(load.dim, involved):
                order.append(load.dim)
                continue
            if not sized:
                sized = True
                gap = self._gap_bytes(position, involved, gathering)
                if self.flex:
                    if gap < preferred:
                        return self._ascending(min(remaining, preferred),
                                               min(remaining, preferred), involved, gathering)
                    chunk = gap
                    taken = min(remaining, gap)
                elif gap < preferred // 16:
                    return self._ascending(taken, preferred, involved, gathering)
            order.append(load.dim)
            added, chunk = self._load(load.dim, chunk, gathering)
            load.elapsed += added
        return order, taken

    def _ascending(self, taken: int, chunk: int, involved: Sequence[bool],
                   gathering: bool) -> tuple[list[int], int]:
        """Fall back to the ascending order. As in 1.0, the loads are put back in dimension
        order (reversed for all-gather) and charged by position, not by dimension."""
        self.loads.sort(key=lambda load: load.dim)
        if gathering:
            self.loads.reverse()
        for dim in range(len(self.loads)):
            if not self._used(dim, involved):
                continue
            added, chunk = self._load(dim, chunk, gathering)
            self.loads[dim].elapsed += added
        return list(range(len(self.loads))), taken
