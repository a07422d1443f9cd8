"""Invariants over the collective-algorithm registry and the 1.0 topologies (hypothesis-driven).

For random single-collective MICRO runs (algorithm from the registry, a collective it supports,
1-D or 2-D Ring / Switch / FullyConnected networks, one* variants, direct windows, baseline or
localBWAware, splits, active chunks, endpoint delays):

* the run finishes (no SimulationError) and every NPU finishes at NPU 0's time: 1.0's phase
  barrier releases every NPU from each phase of a chunk at the same tick, so even asymmetric
  cases (direct on a physical ring, double binary tree, one* rings across dimensions) end
  together;
* two runs of the same experiment give identical results (determinism);
* the bytes NPU 0 hands to the network equal what the algorithm must send (computed here from
  the algorithm definitions in collectives_v1.md, not from the engine).
"""

from __future__ import annotations

import dataclasses
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator.errors import InputError
from orchestrator.system.algorithms.base import algorithms
from tests.system.closed_forms import (
    ALLGATHER, ALLREDUCE, ALLTOALL, REDUCESCATTER, chunk_sizes, phase_payload, workload_size)

FAST = settings(derandomize=True, deadline=None,
                max_examples=int(os.environ.get("ASTRA_TEST_EXAMPLES", "150")),
                suppress_health_check=[HealthCheck.too_slow])

BUILTIN = {"ring", "direct", "halvingDoubling", "doubleBinaryTree"}
POWER_OF_TWO_ONLY = {"halvingDoubling", "doubleBinaryTree"}
LINKS = {"Ring": 2, "Switch": 1}


def links_for(topology: str, npus: int) -> int:
    return npus - 1 if topology == "FullyConnected" else LINKS[topology]


# -- what NPU 0 must send ------------------------------------------------------------------------

def phase_output(algorithm: str, kind: str, n: int, c: int) -> int:
    if algorithm == "doubleBinaryTree":
        return c                         # always an all-reduce on the whole chunk
    return {REDUCESCATTER: c // n, ALLGATHER: c * n}.get(kind, c)


def planned_phases(kind: str, dims: list[int], optimization: str) -> list[tuple[str, int]]:
    """(phase kind, dimension) of a chunk (sys_v1.md §2)."""
    order = list(range(len(dims)))
    if kind == ALLREDUCE and optimization == "localBWAware" and len(dims) > 1:
        *lower, last = order
        return ([(REDUCESCATTER, d) for d in lower] + [(ALLREDUCE, last)]
                + [(ALLGATHER, d) for d in reversed(lower)])
    if kind == ALLGATHER:
        order.reverse()
    return [(kind, d) for d in order]


def expected_payload(scenario: dict) -> int:
    dims = scenario["npus"]
    algorithm = scenario["base"]
    if scenario["one"]:
        total = 1
        for n in dims:
            total *= n
        dims = [total]
    phases = planned_phases(scenario["kind"], dims, scenario["optimization"])
    payload = 0
    for chunk in chunk_sizes(workload_size(scenario["size"]), scenario["splits"]):
        data = chunk
        for phase_kind, dim in phases:
            payload += phase_payload(algorithm, phase_kind, dims[dim], data)
            data = phase_output(algorithm, phase_kind, dims[dim], data)
    return payload


# -- scenarios -------------------------------------------------------------------------------------

@st.composite
def scenarios(draw, names=None):
    names = names or algorithms.names()
    name = draw(st.sampled_from(sorted(names)))
    cls = algorithms.get(name)
    kind = draw(st.sampled_from(sorted(cls.supports)))
    dims_count = draw(st.integers(1, 2))
    if name in POWER_OF_TWO_ONLY:
        npus = [draw(st.sampled_from([2, 4, 8])) for _ in range(dims_count)]
    else:
        npus = [draw(st.integers(2, 6)) for _ in range(dims_count)]
    topologies = [draw(st.sampled_from(["Ring", "Switch", "FullyConnected"]))
                  for _ in range(dims_count)]
    one = name in ("ring", "direct", "halvingDoubling") and draw(st.booleans())
    token = name
    if name == "direct" and draw(st.booleans()):
        token = f"direct{draw(st.integers(1, 6))}"
    if one:
        token = "one" + token[0].upper() + token[1:]
        if token.startswith("oneDirect") and token != "oneDirect":
            token = "oneDirect"          # the engine rejects oneDirectN (see test_closed_forms)
        implementation = token
    else:
        implementation = "_".join([token] * dims_count)
    splits = draw(st.integers(1, 6))
    return {
        "base": name, "kind": kind, "npus": npus, "topologies": topologies, "one": one,
        "implementation": implementation,
        "size": draw(st.integers(splits, 1 << 22)), "splits": splits,
        "optimization": draw(st.sampled_from(["baseline", "localBWAware"])),
        "endpoint_delay": draw(st.integers(1, 200)),
        "active_chunks": draw(st.integers(1, 4)),
        "latency": [draw(st.integers(1, 1500)) for _ in range(dims_count)],
        "bandwidth": [draw(st.sampled_from([12.5, 25, 50, 100, 200])) for _ in range(dims_count)],
        "policy": draw(st.sampled_from(["LIFO", "FIFO"])),
        "update": draw(st.integers(1, 20)),
    }


def run(micro, scenario: dict):
    return micro.run(
        scenario["kind"], scenario["size"], topology=scenario["topologies"],
        npus=scenario["npus"],
        links=[links_for(t, n) for t, n in zip(scenario["topologies"], scenario["npus"])],
        latency=scenario["latency"], bandwidth=scenario["bandwidth"],
        algorithm=scenario["implementation"], splits=scenario["splits"],
        endpoint_delay=scenario["endpoint_delay"], active_chunks=scenario["active_chunks"],
        update=scenario["update"], optimization=scenario["optimization"],
        policy=scenario["policy"])


# -- the properties ------------------------------------------------------------------------------

def test_registry_holds_the_upstream_algorithms():
    names = set(algorithms.names())
    assert BUILTIN <= names
    for name in names:
        supports = algorithms.get(name).supports
        assert supports and set(supports) <= {ALLREDUCE, REDUCESCATTER, ALLGATHER, ALLTOALL}
    assert algorithms.get("doubleBinaryTree").supports == (ALLREDUCE,)
    assert ALLTOALL not in algorithms.get("halvingDoubling").supports


@FAST
@given(scenario=scenarios())
def test_runs_finish_together_deterministically_with_expected_payload(micro, scenario):
    first = run(micro, scenario)
    npus = len(first.finish_ns)
    total_npus = 1
    for n in scenario["npus"]:
        total_npus *= n
    assert npus == total_npus
    assert first.total_ns > scenario["update"]
    assert first.finish_ns == [first.total_ns] * npus, "an NPU finished at a different time"
    assert first.compute_ns == 0 and first.exposed_comm_ns == first.total_ns

    second = run(micro, scenario)
    assert dataclasses.asdict(second) == dataclasses.asdict(first)

    if scenario["base"] in BUILTIN:
        assert first.payload_bytes == expected_payload(scenario)


@pytest.mark.parametrize("npus", range(2, 17))
def test_ring_all_reduce_payload(micro, npus):
    """The example of the brief: ring all-reduce on N sends 2*(N-1)*(C//N) per chunk."""
    size, splits = 1000003, 3
    result = micro.run(ALLREDUCE, size, topology="Ring", npus=npus, links=2, algorithm="ring",
                       splits=splits)
    assert result.payload_bytes == sum(2 * (npus - 1) * (c // npus)
                                       for c in chunk_sizes(size, splits))


@FAST
@given(scenario=scenarios(names=["ring"]).filter(lambda s: s["kind"] == ALLREDUCE))
def test_endpoint_delay_only_adds_time(micro, scenario):
    """A larger endpoint delay never makes a ring all-reduce faster, and changes no payload."""
    slow = dict(scenario, endpoint_delay=scenario["endpoint_delay"] + 7)
    base, slower = run(micro, scenario), run(micro, slow)
    assert slower.total_ns > base.total_ns
    assert slower.payload_bytes == base.payload_bytes


# -- unsupported combinations are rejected up front, never a silent hang ---------------------

@pytest.mark.parametrize("algorithm,kind,npus", [
    ("halvingDoubling", ALLREDUCE, 6),         # 1.0 hangs (partners stop being mutual)
    ("halvingDoubling", REDUCESCATTER, 3),
    ("doubleBinaryTree", ALLREDUCE, 6),        # 1.0 crashes (missing tree nodes)
    ("halvingDoubling", ALLTOALL, 8),          # 1.0 exits: unknown communication type
])
def test_unsupported_is_an_input_error(micro, algorithm, kind, npus):
    with pytest.raises(InputError):
        micro.run(kind, 1 << 20, topology="Switch", npus=npus, links=1, algorithm=algorithm,
                  splits=4)
