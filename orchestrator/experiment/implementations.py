"""Per collective, the algorithm of every logical dimension: the system file's
``*-implementation`` lists checked against the topology (both generations)."""

from __future__ import annotations

import warnings

from orchestrator.errors import InputError
from orchestrator.experiment.system_file import COLLECTIVE_KEYS
from orchestrator.system.config import SystemConfig

_KIND_OF_KEY = {name: key for key, name in COLLECTIVE_KEYS.items()}
_COLLECTIVE_OF_FIELD = {"all_reduce": "ALLREDUCE", "all_gather": "ALLGATHER",
                        "reduce_scatter": "REDUCESCATTER", "all_to_all": "ALLTOALL"}


def implementations(system: SystemConfig, logical_dims: list[int], split_at: int | None
                    ) -> dict[str, tuple[str, ...]]:
    """Per collective, the algorithm of every logical dimension (a split dimension's entry is
    used for both of its halves, as 1.0's ``break_dimension`` does)."""
    result = {}
    for field_name, collective in _COLLECTIVE_OF_FIELD.items():
        names = getattr(system, field_name)
        key = _KIND_OF_KEY[field_name]
        line = system.line_of(key)
        if split_at is not None:
            if split_at >= len(names):
                raise InputError(f"{key} names {len(names)} dimension(s) but model parallelism "
                                 f"splits dimension {split_at}", system.path, line)
            names = names[:split_at + 1] + names[split_at:]
        if not any(name.startswith("one") for name in names):
            if len(names) > len(logical_dims):
                raise InputError(f"{key} names {len(names)} algorithms but the topology has "
                                 f"{len(logical_dims)} dimension(s) {logical_dims}",
                                 system.path, line)
            if len(names) < len(logical_dims):
                warnings.warn(f"{system.path}: {key} names {len(names)} "
                              f"algorithm(s) for {len(logical_dims)} dimensions; as in ASTRA-sim "
                              "1.0 the dimensions without one are not used by that collective",
                              stacklevel=2)
        result[collective] = names
    return result
