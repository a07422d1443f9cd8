"""Chakra microbenchmark traces: one collective per NPU, as ASTRA-sim's tutorials build them.

Every NPU's file holds the same single ``COMM_COLL_NODE`` (id 0, ``comm_type``, ``comm_size``
as int64, optional ``involved_dim``), so the file is serialised once and written N times —
thousands of NPUs take a fraction of a second, and the run's symmetry is plain to see.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from orchestrator.errors import InputError
from orchestrator.workload import chakra

COLLECTIVES = {"all_reduce": chakra.CollectiveCommType.ALL_REDUCE,
               "all_gather": chakra.CollectiveCommType.ALL_GATHER,
               "reduce_scatter": chakra.CollectiveCommType.REDUCE_SCATTER,
               "all_to_all": chakra.CollectiveCommType.ALL_TO_ALL}


def collective_trace_bytes(collective: str, size_bytes: int,
                           involved_dims: Sequence[bool] | None = None) -> bytes:
    """The bytes of one NPU's trace file."""
    if collective not in COLLECTIVES:
        raise InputError(f"--collective: found {collective!r}; expected one of "
                         f"{', '.join(COLLECTIVES)}")
    if not 0 < size_bytes < 1 << 63:
        raise InputError(f"--size: found {size_bytes}; expected 1 byte to 2^63 - 1 bytes")
    node = chakra.pb.Node(id=0, name=collective, type=chakra.NodeType.COMM_COLL_NODE)
    node.attr.add(name="is_cpu_op", bool_val=False)
    node.attr.add(name="comm_type", int64_val=COLLECTIVES[collective])
    node.attr.add(name="comm_size", int64_val=size_bytes)
    if involved_dims is not None:
        node.attr.add(name="involved_dim").bool_list.values.extend(involved_dims)
    return chakra.encode_frames([chakra.pb.GlobalMetadata(version="0.0.4"), node])


def write_collective_traces(prefix: str, npus: int, collective: str, size_bytes: int,
                            involved_dims: Sequence[bool] | None = None) -> list[str]:
    """``PREFIX.0.et`` ... ``PREFIX.<npus-1>.et``; returns the paths."""
    if npus < 1:
        raise InputError(f"--npus: found {npus}; expected a number >= 1")
    data = collective_trace_bytes(collective, size_bytes, involved_dims)
    os.makedirs(os.path.dirname(os.path.abspath(prefix)), exist_ok=True)
    paths = []
    for npu in range(npus):
        path = chakra.trace_path(prefix, npu)
        with open(path, "wb") as handle:
            handle.write(data)
        paths.append(path)
    return paths
