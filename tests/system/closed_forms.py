"""Closed forms of ASTRA-sim 1.0 collectives, written independently of the engine.

Nothing here imports the engine: every number is derived from the behaviour notes
(/work/notes/collectives_v1.md, network_v1.md, sys_v1.md) and SEMANTICS §4.3-4.5.

Notation: E = endpoint delay (one memory-bus crossing per bundle), N = NPUs in the dimension,
C = the chunk (or phase input) size, d(m, hops) = the 1.0 analytical delay of an m-byte
message, R(m) = 3 * (m // 500000), the 1.0 reduction cost of a reducing bundle.
"""

from __future__ import annotations

import heapq
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass

ALLREDUCE, REDUCESCATTER, ALLGATHER, ALLTOALL = ("ALLREDUCE", "REDUCESCATTER", "ALLGATHER",
                                                 "ALLTOALL")


def reduction(m: int) -> int:
    """R(m): 1.0's SimpleMemory at 500 000 bytes per cycle, three accesses."""
    return 3 * (m // 500000)


@dataclass(frozen=True)
class Dim:
    """One dimension of the 1.0 analytical network (network_v1.md §2)."""

    topology: str            # Ring | Switch | FullyConnected
    npus: int
    links: int
    latency: float
    bandwidth: float         # GB/s
    nic: float = 0.0
    router: float = 0.0

    @property
    def links_factor(self) -> int:
        if self.topology == "Ring":
            return self.links if self.links % 2 == 0 else self.links - 1
        if self.topology == "FullyConnected":
            return self.links // (self.npus - 1)
        return self.links

    def hops(self, a: int, b: int) -> int:
        """Hops between ring indices a and b of this dimension."""
        if self.topology == "Ring":
            distance = abs(a - b)
            return min(distance, self.npus - distance)
        return 2 if self.topology == "Switch" else 1

    def delay(self, m: int, hops: int | None = None) -> int:
        """d(m) = int(int(hops*lat) + m / (bw * 2**30/1e9 * links_factor)) (+ nic, router)."""
        if hops is None:
            hops = self.hops(0, 1)
        c = int(hops * self.latency)
        c = int(c + m / (self.bandwidth * 2**30 / 1e9 * self.links_factor))
        c = int(c + 2 * self.nic)
        if self.topology == "Switch":
            c = int(c + self.router)
        return c


# -- one phase of one chunk ---------------------------------------------------------------------

def ring_time(kind: str, c: int, dim: Dim, e: int) -> int:
    """Ring (collectives_v1.md §2.1), neighbours at equal delay."""
    n = dim.npus
    m = c // n
    d = dim.delay(m)
    if kind == ALLREDUCE:
        return e + 2 * (n - 1) * (d + e) + (n - 1) * reduction(m)
    if kind == REDUCESCATTER:
        return e + (n - 1) * (d + e + reduction(m))
    if kind == ALLGATHER:
        return e + (n - 1) * (dim.delay(c) + e)
    return e + n * (n - 1) // 2 * (d + e)


def direct_window(n: int, window: int) -> int:
    return n - 1 if window <= 0 else min(window, n - 1)


def direct_time(kind: str, c: int, dim: Dim, e: int, window: int = -1) -> int:
    """Direct on a symmetric network (collectives_v1.md §3).

    Window P = N-1: all-reduce 3E + 2d + R, reduce-scatter 2E + d + R, others 2E + d.
    Window P < N-1: all-reduce E + 2*ceil((N-1)/P)*(d+E), one-wave kinds E + ceil((N-1)/P)*(d+E);
    these forms hold only without reduction cost (R(C/N) = 0), the caller must ensure it.
    """
    n = dim.npus
    p = direct_window(n, window)
    waves = -(-(n - 1) // p)
    m = c // n
    d = dim.delay(c if kind == ALLGATHER else m)
    r = reduction(m) if kind in (ALLREDUCE, REDUCESCATTER) else 0
    if p == n - 1:
        return (3 * e + 2 * d + r) if kind == ALLREDUCE else (2 * e + d + r)
    assert r == 0, "the windowed closed form has no reduction term"
    return e + (2 if kind == ALLREDUCE else 1) * waves * (d + e)


def direct_far_time(kind: str, c: int, dim: Dim, e: int) -> int:
    """Direct, window N-1, on a physical Ring (asymmetric, collectives_v1.md §3): when the hop
    latency exceeds E + R, the second wave leaves only after the farthest peer's message,
    so T = 3E + 2 d(C/N, floor(N/2) hops) + R for all-reduce, 2E + d_far (+R) otherwise."""
    n = dim.npus
    far = n // 2
    m = c // n
    if kind == ALLREDUCE:
        return 3 * e + 2 * dim.delay(m, far) + reduction(m)
    if kind == REDUCESCATTER:
        return 2 * e + dim.delay(m, far) + reduction(m)
    if kind == ALLGATHER:
        return 2 * e + dim.delay(c, far)
    return 2 * e + dim.delay(m, far)


def halving_doubling_messages(kind: str, n: int, c: int) -> list[tuple[int, int]]:
    """(size, ring distance) of every message (collectives_v1.md §4). Sizes follow upstream's
    arithmetic: halve with truncation; at the turn of an all-reduce undo the last halving by
    doubling the truncated value (so an odd C/N comes back one byte smaller)."""
    steps = n.bit_length() - 1
    if kind == ALLGATHER:
        return [(c << j, n >> (j + 1)) for j in range(steps)]
    messages = []
    size, distance = c // 2, 1
    for _ in range(steps):
        messages.append((size, distance))
        size, distance = size // 2, distance * 2
    if kind == ALLREDUCE:
        # the turn: the last halving (size // 2) is undone by doubling, distance back to N/2
        size, distance = (messages[-1][0] // 2) * 2, n // 2
        for _ in range(steps):
            messages.append((size, distance))
            size, distance = size * 2, distance // 2
    return messages


def halving_doubling_time(kind: str, c: int, dim: Dim, e: int) -> int:
    """T = E + sum_j (d(m_j, hops_j) + E) + sum_{j=2..log2 N} R(m_j) (no R for all-gather)."""
    n = dim.npus
    steps = n.bit_length() - 1
    messages = halving_doubling_messages(kind, n, c)
    total = e + sum(dim.delay(m, dim.hops(0, k)) + e for m, k in messages)
    if kind != ALLGATHER:
        total += sum(reduction(m) for m, _ in messages[1:steps])
    return total


def _inorder_subtree(ids: Sequence[int]) -> tuple[int | None, list[tuple[int, int]]]:
    """A complete binary tree over ``ids`` (2^k - 1 of them) numbered in order."""
    if not ids:
        return None, []
    mid = len(ids) // 2
    left, left_edges = _inorder_subtree(ids[:mid])
    right, right_edges = _inorder_subtree(ids[mid + 1:])
    edges = left_edges + right_edges + [(ids[mid], child) for child in (left, right)
                                        if child is not None]
    return ids[mid], edges


def double_binary_tree(n: int, root_at_max: bool) -> tuple[int, list[tuple[int, int]]]:
    """(root, parent->child edges) of 1.0's tree (collectives_v1.md §5.1): a root with one
    child, over a complete in-order subtree of the other N-1 indices."""
    if root_at_max:
        top, edges = _inorder_subtree(range(0, n - 1))
        root = n - 1
    else:
        top, edges = _inorder_subtree(range(1, n))
        root = 0
    return root, [(root, top)] + edges


def _max_path(root: int, edges: list[tuple[int, int]], weight: Callable[[int, int], int]) -> int:
    children: dict[int, list[int]] = {}
    for parent, child in edges:
        children.setdefault(parent, []).append(child)

    def longest(node: int) -> int:
        return max((weight(node, kid) + longest(kid) for kid in children.get(node, [])),
                   default=0)

    return longest(root)


def double_binary_tree_time(c: int, dim: Dim, e: int, chunk_index: int) -> int:
    """Latest leaf exit, which the 1.0 phase barrier imposes on every NPU (§5.3):
    (2D+1)E + (2D-1)R(C) + 2 * (the longest root-to-leaf sum of d(C)); with equal edge
    delays this is (2D+1)E + 2D d + (2D-1)R. Chunks alternate trees, highest root first."""
    depth = dim.npus.bit_length() - 1
    root, edges = double_binary_tree(dim.npus, root_at_max=chunk_index % 2 == 0)
    path = _max_path(root, edges, lambda a, b: dim.delay(c, dim.hops(a, b)))
    return (2 * depth + 1) * e + 2 * path + (2 * depth - 1) * reduction(c)


# -- bytes one NPU sends -----------------------------------------------------------------------

def phase_payload(algorithm: str, kind: str, n: int, c: int) -> int:
    """Bytes NPU 0 sends in one phase on a C-byte input (collectives_v1.md §2-§5)."""
    m = c // n
    if algorithm == "ring":
        return {ALLREDUCE: 2 * (n - 1) * m, REDUCESCATTER: (n - 1) * m,
                ALLGATHER: (n - 1) * c, ALLTOALL: n * (n - 1) // 2 * m}[kind]
    if algorithm == "direct":
        return {ALLREDUCE: 2 * (n - 1) * m, REDUCESCATTER: (n - 1) * m,
                ALLGATHER: (n - 1) * c, ALLTOALL: (n - 1) * m}[kind]
    if algorithm == "halvingDoubling":
        # every message is sent; the all-reduce's final self-addressed packet is not
        return sum(size for size, _ in halving_doubling_messages(kind, n, c))
    if algorithm == "doubleBinaryTree":
        # NPU 0 has ring index 0: a leaf of the highest-root tree (one send up) and the root of
        # the lowest-root tree (one send to its only child); either way C once.
        return c
    raise KeyError(algorithm)


# -- chunks ---------------------------------------------------------------------------------

def float32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


def workload_size(size: int, comm_scale: float = 1.0) -> int:
    """1.0 reads a communication size as ``(uint64)(size * (float)comm_scale)`` in float32
    (sys_v1.md §7), even at scale 1: sizes above 2^24 lose their low bits (33554433 ->
    33554432)."""
    return int(float32(float32(float(size)) * float32(comm_scale)))


def chunk_sizes(size: int, splits: int) -> list[int]:
    """chunk = size // splits; ceil(size / chunk) chunks, the last one min(chunk, rest)."""
    chunk = size // splits
    assert chunk > 0
    sizes = []
    while size > 0:
        sizes.append(min(chunk, size))
        size -= sizes[-1]
    return sizes


def one_queue_makespan(times: Sequence[int], active_chunks: int) -> int:
    """Chunks of one queue, started in order as soon as one of ``active_chunks`` slots frees
    (no gap; the congestion-unaware network lets concurrent chunks run at full speed)."""
    slots = [0] * active_chunks
    end = 0
    for duration in times:
        start = heapq.heappop(slots)
        heapq.heappush(slots, start + duration)
        end = max(end, start + duration)
    return end


def two_stage_pipeline(first: Sequence[int], second: Sequence[int]) -> int:
    """Two queues, one chunk running in each: chunk i enters stage 2 when it leaves stage 1
    and stage 2 is free (flow shop, FIFO, no gap)."""
    end_first = end_second = 0
    for a, b in zip(first, second):
        end_first += a
        end_second = max(end_first, end_second) + b
    return end_second


def local_bw_aware_2d(size: int, splits: int, dim0: Dim, dim1: Dim, e: int) -> int:
    """Ring x Ring all-reduce with localBWAware and one queue per dimension.

    A chunk C is reduce-scatter on dim 0 (C), all-reduce on dim 1 (C // N0) and all-gather on
    dim 0 (C // N0). All chunks enter queue 0 at t = 0 (their reduce-scatter phases, FIFO
    since they share one priority); an all-gather joins queue 0 when its all-reduce ends and
    is placed behind every waiting stream of equal priority, i.e. after all the remaining
    reduce-scatters. Queue 1 runs the all-reduces in chunk order."""
    chunks = chunk_sizes(size, splits)
    rs = [ring_time(REDUCESCATTER, c, dim0, e) for c in chunks]
    ar = [ring_time(ALLREDUCE, c // dim0.npus, dim1, e) for c in chunks]
    ag = [ring_time(ALLGATHER, c // dim0.npus, dim0, e) for c in chunks]
    rs_end = []
    clock = 0
    for t in rs:
        clock += t
        rs_end.append(clock)
    ar_end = []
    clock = 0
    for i, t in enumerate(ar):
        clock = max(rs_end[i], clock) + t
        ar_end.append(clock)
    queue0 = rs_end[-1]
    for i, t in enumerate(ag):
        queue0 = max(ar_end[i], queue0) + t
    return queue0


def baseline_2d(kind: str, size: int, splits: int, dim0: Dim, dim1: Dim, e: int) -> int:
    """Baseline 2-D collective: one phase per dimension on one chunk, dims ascending (all-gather
    descending), each phase on the previous one's output; one queue per dimension."""
    chunks = chunk_sizes(size, splits)
    if kind == ALLGATHER:
        first = [ring_time(kind, c, dim1, e) for c in chunks]
        second = [ring_time(kind, c * dim1.npus, dim0, e) for c in chunks]
    elif kind == REDUCESCATTER:
        first = [ring_time(kind, c, dim0, e) for c in chunks]
        second = [ring_time(kind, c // dim0.npus, dim1, e) for c in chunks]
    else:
        first = [ring_time(kind, c, dim0, e) for c in chunks]
        second = [ring_time(kind, c, dim1, e) for c in chunks]
    return two_stage_pipeline(first, second)
