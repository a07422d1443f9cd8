"""The training-loop extension point (SEMANTICS §3.1).

A training loop is a small class registered under the header token of the workload files it
runs (``DATA``, ``HYBRID_TRANSFORMER``, ...). Its ``run`` method is a generator that yields
*steps*; the engine's workload driver interprets them with ASTRA-sim 1.0's timing, so a loop
reads like the prose of the reference semantics and never touches the event queue:

* ``Compute(layer, kind)``: busy for the layer's ``kind`` compute time (no wait when 0);
* ``Tick()``: the 1-cycle event every 1.0 state transition goes through;
* ``Issue(layer, kind, policy)``: start the layer's ``kind`` collective (``"fwd"``, ``"ig"``,
  ``"wg"``) without waiting; ``policy`` is ``"NONE"``, ``"FIFO"``, ``"LIFO"`` or ``"HIGHEST"``;
* ``IssueBlocking(layer, kind, policy, recompute=False)``: start it and wait until it has
  finished (``recompute``: a forward rerun in the backward pass, labelled apart);
* ``Wait(layer, kind)``: wait until that collective (if outstanding) has finished.

``run`` walks its passes with ``for _ in self.passes(num_passes)`` so progress can be shown.
When ``run`` returns, the NPU waits for all of its collectives and then finishes, as 1.0's
``check_for_sim_end`` does. Subclasses must define ``run``; they may override
``parse_header`` (extra header tokens), ``validate`` (cross-checks against the layers),
``dimensions`` (which topology dimensions each collective spans) and ``model_parallel_group``.

A new loop is one small class in any imported module::

    @training_loops.register("MY_LOOP", summary="what it does")
    class MyLoop(DataParallel):
        def backward(self):
            ...
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from orchestrator.errors import InputError
from orchestrator.registry import Registry
from orchestrator.workload.layer import Layer

training_loops: Registry[type[TrainingLoop]] = Registry("training_loops",
                                                          "orchestrator.workload.loops")

# Involved-dimension vectors have 10 entries in 1.0; the engine reads as many as it has dims.
MAX_DIMS = 10
ALL_DIMS: tuple[bool, ...] = (True,) * MAX_DIMS
NO_DIMS: tuple[bool, ...] = (False,) * MAX_DIMS
FIRST_DIM_ONLY: tuple[bool, ...] = (True,) + (False,) * (MAX_DIMS - 1)
ALL_BUT_FIRST: tuple[bool, ...] = (False,) + (True,) * (MAX_DIMS - 1)

KINDS = ("fwd", "ig", "wg")


@dataclass(frozen=True, slots=True)
class Compute:
    layer: Layer
    kind: str


@dataclass(frozen=True, slots=True)
class Tick:
    pass


@dataclass(frozen=True, slots=True)
class Issue:
    layer: Layer
    kind: str
    policy: str


@dataclass(frozen=True, slots=True)
class IssueBlocking:
    layer: Layer
    kind: str
    policy: str
    recompute: bool = False      # a forward collective rerun in the backward pass (statistics)


@dataclass(frozen=True, slots=True)
class Wait:
    layer: Layer
    kind: str


Step = Compute | Tick | Issue | IssueBlocking | Wait
TICK = Tick()


def blocking_forward(layer: Layer, recompute: bool = False) -> Iterator[Step]:
    """The forward step of every model-parallel loop: wait for the layer's weight-gradient
    collective of the previous pass, compute, run the forward collective to completion.
    ``recompute`` marks the forward of activation checkpointing, rerun in the backward pass,
    so that its collective is told from the first one in the statistics."""
    yield Wait(layer, "wg")
    yield Compute(layer, "fwd")
    yield IssueBlocking(layer, "fwd", "NONE", recompute)
    yield TICK


def split_dimensions(boundary: int) -> dict[str, tuple[bool, ...]]:
    """Model parallelism on dims 0..boundary, data parallelism above (HYBRID_TRANSFORMER)."""
    model = tuple(i <= boundary for i in range(MAX_DIMS))
    data = tuple(not flag for flag in model)
    return {"fwd": model, "ig": model, "wg": data}


class TrainingLoop:
    """Base of every training loop; the class docstring of the module is the full spec."""

    token: ClassVar[str] = ""
    per_layer_policy: ClassVar[bool] = False       # HYBRID_CUSTOMIZED: a policy column
    layer_policies: ClassVar[tuple[str, ...]] = ()

    def __init__(self, layers: Sequence[Layer], header: dict[str, Any],
                 dims: dict[str, tuple[bool, ...]]) -> None:
        self.layers = layers
        self.header = header
        self._dims = dims
        self.passes_started = 0

    def passes(self, num_passes: int) -> Iterator[int]:
        """The pass loop of ``run``: counts the passes begun, which the progress display
        reads (from another thread) to estimate the time left; the count costs nothing per
        event."""
        for index in range(num_passes):
            self.passes_started = index + 1
            yield index

    # -- configuration -------------------------------------------------------------------
    @classmethod
    def parse_header(cls, tokens: list[str], path: str, line: int) -> dict[str, Any]:
        """Read the header tokens after the loop's own token; the base accepts none."""
        if tokens:
            raise InputError(f"found {' '.join(tokens)!r} after the parallelism token; this "
                             "training loop takes no further header tokens", path, line)
        return {}

    @classmethod
    def validate(cls, header: dict[str, Any], layers: Sequence[Layer], path: str) -> None:
        """Cross-check the header against the layers (e.g. layer indices it names)."""

    @classmethod
    def model_parallel_group(cls, header: dict[str, Any]) -> int | None:
        """NPUs per model-parallel group when the loop splits the topology, else None."""
        return None

    @classmethod
    def dimensions(cls, header: dict[str, Any], mp_boundary: int | None
                   ) -> dict[str, tuple[bool, ...]]:
        """Which dimensions the fwd / ig / wg collectives span (SEMANTICS §3.1)."""
        raise NotImplementedError

    def layer_dimensions(self, layer: Layer, kind: str) -> tuple[bool, ...]:
        """Dimensions of one layer's collective; per-layer loops override this."""
        return self._dims[kind]

    # -- behaviour -----------------------------------------------------------------------
    def run(self, num_passes: int) -> Iterator[Step]:
        raise NotImplementedError
