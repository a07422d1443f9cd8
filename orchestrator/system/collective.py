"""From a collective to the phases of one chunk (SEMANTICS §4.2).

* Dimensions with one NPU, or not involved, are skipped; all-gather walks them in reverse.
* Collectives other than all-reduce, and all-reduce with ``baseline``: one phase per
  dimension running the collective itself, each on the previous phase's output.
* All-reduce with ``localBWAware``: reduce-scatter up to the last involved dimension,
  all-reduce there, all-gather back down; all three use the all-reduce implementations.

The planner is shared by all NPUs; the per-NPU state it needs (the double binary tree's
alternation) is passed in.
"""

from __future__ import annotations

from collections.abc import Sequence

from orchestrator.errors import InputError
from orchestrator.system.config import SystemConfig
from orchestrator.system.algorithms.base import (
    ALL_GATHER, ALL_REDUCE, REDUCE_SCATTER, PhaseAlgorithm, algorithms)
from orchestrator.system.algorithms.ring import Ring
from orchestrator.system.groups import CommGroup
from orchestrator.system.streams import Phase
from orchestrator.system.topology import DimensionPlan

KEY_OF_KIND = {
    "ALLREDUCE": "all-reduce-implementation",
    "ALLGATHER": "all-gather-implementation",
    "REDUCESCATTER": "reduce-scatter-implementation",
    "ALLTOALL": "all-to-all-implementation",
}


class CollectivePlanner:
    """Turns (kind, chunk size, involved dimensions) into the chunk's phase list."""

    def __init__(self, plans: dict[str, list[DimensionPlan]], local_bw_aware: bool,
                 system: SystemConfig, gather_anticlockwise: bool = False) -> None:
        self.plans = plans
        self.local_bw_aware = local_bw_aware
        self.system = system
        # 2.x puts localBWAware's all-gather phases in the anticlockwise half of the queues
        self.gather_anticlockwise = gather_anticlockwise
        self._classes = {kind: [algorithms.get(p.algorithm) for p in kind_plans]
                         for kind, kind_plans in plans.items()}
        # phases() arguments -> the fields of the phases planned for them
        self._recipes: dict[tuple, list[tuple]] = {}

    def check(self, kind: str, involved: Sequence[bool]) -> None:
        """Fail early, naming the system key, when an algorithm cannot run this collective."""
        uses = [(kind, kind)]
        if kind == ALL_REDUCE and self.local_bw_aware:
            uses = [(REDUCE_SCATTER, ALL_REDUCE), (ALL_REDUCE, ALL_REDUCE),
                    (ALL_GATHER, ALL_REDUCE)]
        for phase_kind, plan_kind in uses:
            for dim, (plan, cls) in enumerate(zip(self.plans[plan_kind], self._classes[plan_kind])):
                if not self._active(self.plans[plan_kind], dim, involved):
                    continue
                runs_as_all_reduce = plan_kind == ALL_REDUCE and cls.supports == (ALL_REDUCE,)
                if phase_kind not in cls.supports and not runs_as_all_reduce:
                    raise InputError(f"{KEY_OF_KIND[plan_kind]}: {plan.algorithm} cannot run "
                                     f"{kind} (dimension {dim}); it supports "
                                     f"{', '.join(cls.supports)}", *self._where(plan_kind))
                if plan.algorithm in ("halvingDoubling", "doubleBinaryTree") and \
                        plan.ring.size & (plan.ring.size - 1):
                    raise InputError(f"{KEY_OF_KIND[plan_kind]}: {plan.algorithm} needs a "
                                     f"power-of-two number of NPUs, but dimension {dim} has "
                                     f"{plan.ring.size} (ASTRA-sim 1.0 hangs or crashes here)",
                                     *self._where(plan_kind))

    def phases(self, kind: str, size_bytes: int, involved: Sequence[bool],
               tree_parity: dict[tuple[str, int], int],
               order: Sequence[int] | None = None, split_all_reduce_fully: bool = False
               ) -> list[Phase]:
        """The chunk's phases. ``order`` (inter-dimension scheduling, default ascending; all-
        gather reversed) is the order the chunk visits the dimensions in;
        ``split_all_reduce_fully`` is Themis's localBWAware all-reduce: reduce-scatter on every
        dimension, then all-gather back, with no all-reduce phase in between.

        Every NPU plans the same chunks, so a plan that does not depend on the NPU's tree
        parity is remembered; each call still gets its own ``Phase`` objects (the scheduler
        assigns their queues)."""
        key = (kind, size_bytes, tuple(involved), None if order is None else tuple(order),
               split_all_reduce_fully)
        recipe = self._recipes.get(key)
        if recipe is None:
            phases = self._plan(kind, size_bytes, involved, tree_parity, order,
                                split_all_reduce_fully)
            if not any(phase.algorithm.supports == (ALL_REDUCE,) for phase in phases):
                self._recipes[key] = [
                    (phase.kind, phase.dim, phase.queue, phase.algorithm, phase.ring,
                     phase.size_bytes, phase.window, phase.root_at_max, phase.direction)
                    for phase in phases]
            return phases
        return [Phase(*fields) for fields in recipe]

    def _plan(self, kind: str, size_bytes: int, involved: Sequence[bool],
              tree_parity: dict[tuple[str, int], int], order: Sequence[int] | None,
              split_all_reduce_fully: bool) -> list[Phase]:
        if order is None:
            order = range(len(self.plans[kind]))
            if kind == ALL_GATHER:
                order = reversed(order)
        if kind != ALL_REDUCE or not self.local_bw_aware:
            plans = self.plans[kind]
            steps = [(kind, dim) for dim in order if self._active(plans, dim, involved)]
            plan_kind = kind
        else:
            plans = self.plans[ALL_REDUCE]
            plan_kind = ALL_REDUCE
            active = [dim for dim in order if self._active(plans, dim, involved)]
            if not active:
                return []
            if split_all_reduce_fully:
                steps = [(REDUCE_SCATTER, dim) for dim in active]
                steps += [(ALL_GATHER, dim) for dim in reversed(active)]
            else:
                last = active[-1]
                steps = [(REDUCE_SCATTER, dim) for dim in active[:-1]]
                steps.append((ALL_REDUCE, last))
                steps += [(ALL_GATHER, dim) for dim in reversed(active[:-1])]
        phases = []
        size = size_bytes
        split_all_reduce = kind == ALL_REDUCE and self.local_bw_aware
        for phase_kind, dim in steps:
            plan = plans[dim]
            cls = self._classes[plan_kind][dim]
            direction = -1 if (split_all_reduce and phase_kind == ALL_GATHER
                               and self.gather_anticlockwise) else 1
            phase = Phase(phase_kind, dim, dim, cls, plan.ring, size, plan.window,
                          direction=direction)
            if cls.supports == (ALL_REDUCE,):
                # upstream builds the all-reduce algorithm for any phase on such a dimension
                phase.kind = ALL_REDUCE
                key = (plan_kind, dim)
                count = tree_parity.get(key, 0)
                phase.root_at_max = count % 2 == 0
                tree_parity[key] = count + 1
            else:
                size = PhaseAlgorithm.output_size(phase_kind, size, plan.ring.size)
            phases.append(phase)
        return phases

    def _where(self, plan_kind: str) -> tuple[str, int | None]:
        key = KEY_OF_KIND[plan_kind]
        return self.system.path, self.system.line_of(key)

    def group_phases(self, kind: str, size_bytes: int, group: CommGroup,
                     tree_parity: dict[tuple[str, int], int]) -> list[Phase]:
        """Phases of a chunk in a communicator group: the whole system on every dimension, or
        one ring phase over the members (upstream forces the ring algorithm there)."""
        if group.whole_system:
            return self.phases(kind, size_bytes, (True,) * len(self.plans[kind]), tree_parity)
        return [Phase(kind, 0, 0, Ring, group.ring, size_bytes)]

    @staticmethod
    def _active(plans: list[DimensionPlan], dim: int, involved: Sequence[bool]) -> bool:
        return (dim < len(plans) and plans[dim].ring.size > 1 and dim < len(involved)
                and involved[dim])
