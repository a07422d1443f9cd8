"""``HYBRID_TRANSFORMER`` and ``HYBRID_TRANSFORMER_FWD_IN_BCKWD`` (SEMANTICS §3.1).

Header: ``HYBRID_TRANSFORMER model_parallel_NPU_group: <g>``; the checkpointing variant adds
``checkpoints: <n> <layer ids...> checkpoint_initiates: <n> <layer ids...>``.

Forward and input-gradient collectives span the model-parallel dimensions 0..b, where b is the
dimension at which the NPUs per dimension multiply up to ``g`` (the engine splits a physical
dimension when ``g`` falls inside it); weight gradients span the rest. Forward: compute, then
a blocking collective. Backward: input-gradient compute and a *blocking* input-gradient
collective (every layer, layer 0 included), then weight-gradient compute and its FIFO
collective.

With checkpoints, reaching the input gradient of a layer listed in ``checkpoint_initiates``
first recomputes the forward pass from the nearest checkpoint at or below it up to the layer
before it (blocking forward collectives included), then continues the backward pass.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from orchestrator.errors import InputError
from orchestrator.limits import whole_number
from orchestrator.workload.layer import Layer
from orchestrator.workload.loops.base import (
    TICK, Compute, Issue, IssueBlocking, Step, TrainingLoop, Wait, blocking_forward,
    split_dimensions, training_loops)


def _expect(tokens: list[str], position: int, word: str, path: str, line: int) -> None:
    found = tokens[position] if position < len(tokens) else "end of line"
    if found != word:
        raise InputError(f"header: found {found!r}; expected {word!r}", path, line)


def _whole(tokens: list[str], position: int, what: str, path: str, line: int) -> int:
    if position >= len(tokens):
        raise InputError(f"header: missing {what}", path, line)
    try:
        value = whole_number(tokens[position])
    except ValueError:
        raise InputError(f"header: {what}: found {tokens[position]!r}; expected a whole number",
                         path, line) from None
    if value < 0:
        raise InputError(f"header: {what}: found {value}; expected a number >= 0", path, line)
    return value


def _id_list(tokens: list[str], position: int, word: str, path: str, line: int
             ) -> tuple[frozenset[int], int]:
    _expect(tokens, position, word, path, line)
    count = _whole(tokens, position + 1, f"the count after {word}", path, line)
    ids = [_whole(tokens, position + 2 + i, f"layer id {i + 1} of {word}", path, line)
           for i in range(count)]
    return frozenset(ids), position + 2 + count


@training_loops.register("HYBRID_TRANSFORMER",
                         summary="tensor parallel inside model_parallel_NPU_group, data "
                                 "parallel across groups")
class HybridTransformer(TrainingLoop):

    @classmethod
    def parse_header(cls, tokens: list[str], path: str, line: int) -> dict[str, Any]:
        _expect(tokens, 0, "model_parallel_NPU_group:", path, line)
        group = _whole(tokens, 1, "model_parallel_NPU_group", path, line)
        if group < 1:
            raise InputError("header: model_parallel_NPU_group must be >= 1", path, line)
        header: dict[str, Any] = {"model_parallel_npu_group": group}
        rest = cls._parse_more(tokens, 2, header, path, line)
        if rest < len(tokens):
            raise InputError(f"header: unexpected tokens {' '.join(tokens[rest:])!r}", path, line)
        return header

    @classmethod
    def _parse_more(cls, tokens: list[str], position: int, header: dict[str, Any], path: str,
                    line: int) -> int:
        return position

    @classmethod
    def model_parallel_group(cls, header: dict[str, Any]) -> int | None:
        return header["model_parallel_npu_group"]

    @classmethod
    def dimensions(cls, header, mp_boundary):
        return split_dimensions(mp_boundary)

    def run(self, num_passes: int) -> Iterator[Step]:
        for _ in self.passes(num_passes):
            for layer in self.layers:
                yield from blocking_forward(layer)
            for layer in reversed(self.layers):
                yield from self.before_input_gradient(layer)
                yield Compute(layer, "ig")
                yield IssueBlocking(layer, "ig", "LIFO")
                yield TICK
                yield Compute(layer, "wg")
                yield Issue(layer, "wg", "FIFO")
                yield Wait(layer, "ig")
                yield TICK

    def before_input_gradient(self, layer: Layer) -> Iterator[Step]:
        return iter(())


@training_loops.register("HYBRID_TRANSFORMER_FWD_IN_BCKWD",
                         summary="HYBRID_TRANSFORMER with activation checkpointing "
                                 "(forward recomputed in the backward pass)")
class HybridTransformerFwdInBckwd(HybridTransformer):

    @classmethod
    def _parse_more(cls, tokens, position, header, path, line):
        header["checkpoints"], position = _id_list(tokens, position, "checkpoints:", path, line)
        header["checkpoint_initiates"], position = _id_list(
            tokens, position, "checkpoint_initiates:", path, line)
        return position

    @classmethod
    def validate(cls, header: dict[str, Any], layers: Sequence[Layer], path: str) -> None:
        count = len(layers)
        for key in ("checkpoints", "checkpoint_initiates"):
            for layer_id in sorted(header[key]):
                if layer_id >= count:
                    raise InputError(f"header: {key} names layer {layer_id}, but the workload "
                                     f"has {count} layers (0..{count - 1})", path, 1)
        initiates = header["checkpoint_initiates"]
        for layer_id in sorted(initiates):
            below = [c for c in header["checkpoints"] if c < layer_id]
            if not below:
                # upstream walks off the layer array here (no checkpoint below) or recomputes
                # past the last layer (checkpoint at the initiating layer itself)
                raise InputError(f"header: layer {layer_id} initiates recomputation but no "
                                 "checkpoint lies below it", path, 1)
            start = max(below)
            between = [t for t in initiates if start < t < layer_id]
            if between:
                raise InputError(f"header: layer {between[0]} initiates recomputation inside the "
                                 f"segment {start}..{layer_id}; upstream would then skip layers "
                                 "of the backward pass", path, 1)

    def before_input_gradient(self, layer: Layer) -> Iterator[Step]:
        if layer.index not in self.header["checkpoint_initiates"]:
            return
        start = max(c for c in self.header["checkpoints"] if c < layer.index)
        yield TICK
        index = start
        while True:
            yield from blocking_forward(self.layers[index], recompute=True)
            index += 1
            if index in self.header["checkpoint_initiates"]:
                break
