"""The collective planner remembers plans across NPUs but hands each chunk its own phases."""

from __future__ import annotations

from orchestrator.experiment.system_file import system_from_mapping
from orchestrator.system.collective import CollectivePlanner
from orchestrator.system.topology import plan_dimensions

KINDS = ("ALLREDUCE", "ALLGATHER", "REDUCESCATTER", "ALLTOALL")


def _planner(implementation: str) -> CollectivePlanner:
    system = system_from_mapping({"scheduling-policy": "LIFO", "endpoint-delay": 10,
                                  "collective-optimization": "localBWAware",
                                  "all-reduce-implementation": implementation,
                                  "all-gather-implementation": implementation,
                                  "reduce-scatter-implementation": implementation,
                                  "all-to-all-implementation": implementation}, "<test>")
    names = tuple(implementation.split("_"))
    plans = {kind: plan_dimensions([4, 4], names) for kind in KINDS}
    return CollectivePlanner(plans, True, system)


def test_a_second_npu_gets_equal_phases_as_new_objects() -> None:
    planner = _planner("ring_ring")
    first = planner.phases("ALLREDUCE", 4096, (True, True), {})
    first[0].queue = 7                                   # the scheduler assigns queues
    second = planner.phases("ALLREDUCE", 4096, (True, True), {})
    assert [phase.kind for phase in second] == ["REDUCESCATTER", "ALLREDUCE", "ALLGATHER"]
    assert [phase.size_bytes for phase in second] == [4096, 1024, 1024]
    assert second[0].queue == 0 and all(a is not b for a, b in zip(first, second))


def test_double_binary_tree_plans_follow_each_npus_tree_parity() -> None:
    planner = _planner("doubleBinaryTree_doubleBinaryTree")
    parity: dict[tuple[str, int], int] = {}
    # the all-reduce phase on dimension 1 alternates trees from chunk to chunk of one NPU
    roots = [planner.phases("ALLREDUCE", 4096, (True, True), parity)[1].root_at_max
             for _ in range(3)]
    assert roots == [True, False, True]
    other_npu = planner.phases("ALLREDUCE", 4096, (True, True), {})
    assert other_npu[1].root_at_max is True
