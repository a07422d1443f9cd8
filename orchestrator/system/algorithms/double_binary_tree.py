"""``doubleBinaryTree``: all-reduce up a binary tree and back down (SEMANTICS §4.4).

Two trees over the dimension's N nodes (N a power of two), numbered in order: one rooted at
the highest index, one at the lowest; successive chunks alternate between them (highest
first). A node receives the whole chunk from each child, reducing each, sends it to its
parent, receives the result back and forwards it to its children. Per-node exits differ; 1.0's
phase barrier lines every NPU up with the slowest, 2.x lets each move on.
"""

from __future__ import annotations

from functools import lru_cache

from orchestrator.system.algorithms.base import ALL_REDUCE, PhaseAlgorithm, algorithms

# Node states.
BEGIN, WAIT_TWO, WAIT_ONE, SEND_UP, WAIT_PARENT, SEND_DOWN, END = range(7)
# Events the state machine reacts to.
RECEIVED, GENERAL = 0, 1


@lru_cache(maxsize=None)
def tree_links(size: int, root_at_max: bool
               ) -> tuple[tuple[int | None, ...], tuple[tuple[int, ...], ...]]:
    """Parent and children of every ring index for one of the two trees.

    The tree is a root with a single child, a complete binary subtree over the other N-1
    indices numbered in order: position q (1-based within the subtree) has height
    h = ctz(q), children q -+ 2^(h-1) and parent q - 2^h or q + 2^h (by bit h+1 of q).
    """
    levels = size.bit_length() - 1
    top = 1 << (levels - 1) if levels > 0 else 0
    parent: list[int | None] = [None] * size
    children: list[list[int]] = [[] for _ in range(size)]
    shift = 1 if root_at_max else 0       # subtree position q sits at index q - 1 (max) or q
    root = size - 1 if root_at_max else 0
    for q in range(1, size):
        index = q - shift
        h = (q & -q).bit_length() - 1
        if q == top:
            up = root
        else:
            up = (q - (1 << h) if q & (1 << (h + 1)) else q + (1 << h)) - shift
        parent[index] = up
        children[up].append(index)
    return tuple(parent), tuple(tuple(sorted(kids)) for kids in children)


@algorithms.register("doubleBinaryTree", summary="double binary tree all-reduce "
                                                  "(power-of-two sizes)")
class DoubleBinaryTree(PhaseAlgorithm):
    supports = (ALL_REDUCE,)

    def __init__(self, npu, stream, phase):
        super().__init__(npu, stream, phase)
        ring = self.ring
        parent, children = tree_links(ring.size, phase.root_at_max)
        me = ring.index(npu.id)
        self._parent = None if parent[me] is None else ring.member(npu.id, parent[me])
        self._children = [ring.member(npu.id, i) for i in children[me]]
        self._state = BEGIN
        self._reductions = 0

    # -- events ---------------------------------------------------------------------------
    def start(self) -> None:
        self._step(GENERAL, begin=True)

    def general(self, _arg: object) -> None:
        self._step(GENERAL)

    def received(self, _arg: object = None) -> None:
        self._step(RECEIVED)

    # -- helpers --------------------------------------------------------------------------
    def _bundle(self, reduce: bool) -> None:
        npu = self.npu
        delay = npu.endpoint_delay + (npu.reduction_cycles(self.size_bytes) if reduce else 0)
        npu.register_event(delay, self.general, None)   # bound here: see PacketAlgorithm

    def _send(self, dst: int) -> None:
        self.npu.send(dst, self.size_bytes, self.stream.num)

    def _recv(self, src: int) -> None:
        self.npu.recv(src, self.size_bytes, self.stream.num, self.received)

    def _step(self, event: int, begin: bool = False) -> None:
        state = self._state
        if self._parent is None:                                   # root
            if begin:
                self._recv(self._children[0])
                self._state = WAIT_ONE
            elif state == WAIT_ONE:
                self._bundle(reduce=True)
                self._state = SEND_DOWN
            elif state == SEND_DOWN:
                self._send(self._children[0])
                self.npu.phase_finished(self.stream)
        elif not self._children:                                   # leaf
            if begin:
                self._bundle(reduce=False)
                self._state = SEND_UP
            elif state == SEND_UP:
                self._send(self._parent)
                self._recv(self._parent)
                self._state = WAIT_PARENT
            elif state == WAIT_PARENT:
                self._bundle(reduce=False)
                self._state = END
            elif state == END:
                self.npu.phase_finished(self.stream)
        else:                                                      # intermediate
            if begin:
                self._recv(self._children[0])
                self._recv(self._children[1])
                self._state = WAIT_TWO
            elif state == WAIT_TWO and event == RECEIVED:
                self._bundle(reduce=True)
                self._state = WAIT_ONE
            elif state == WAIT_ONE and event == RECEIVED:
                self._bundle(reduce=True)
                self._state = SEND_UP
            elif self._reductions < 1 and event == GENERAL:
                self._reductions += 1                               # absorbs one child's bundle
            elif state == SEND_UP:
                self._send(self._parent)
                self._recv(self._parent)
                self._state = WAIT_PARENT
            elif state == WAIT_PARENT and event == RECEIVED:
                self._bundle(reduce=True)
                self._state = SEND_DOWN
            elif state == SEND_DOWN:
                for child in self._children:
                    self._send(child)
                self.npu.phase_finished(self.stream)
