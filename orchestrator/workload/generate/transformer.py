"""TRANSFORMER: Megatron-style tensor parallelism inside a group of TP NPUs, data parallelism
across the P/TP groups, written for 1.0's ``HYBRID_TRANSFORMER_FWD_IN_BCKWD`` loop (or
``HYBRID_TRANSFORMER`` without activation checkpointing).

Layers per block, named and communicating as the MLSys'22 tutorial's GPT-3 workload does
(M = batch per data-parallel group x sequence, d = d_model, B = bytes per element):

| layer | split | forward | input gradient | weight gradient |
|---|---|---|---|---|
| Q, K, V | columns (d -> d/TP) | – | ALLREDUCE M·d·B (on Q, once for the three) | ALLREDUCE d·d/TP·B |
| QK | heads (per sample and head: seq x hd by hd x seq) | – | – | – |
| softmax | elementwise | – | – | – |
| concat (attention output) | rows (d/TP -> d) | ALLREDUCE M·d·B | ALLGATHER M·d·B/TP | ALLREDUCE d·d/TP·B |
| W1 (d -> ffn) | columns | – | ALLREDUCE M·d·B | ALLREDUCE d·ffn/TP·B |
| W2 (ffn -> d) | rows | ALLREDUCE M·d·B | – | ALLREDUCE ffn·d/TP·B |
| layerNorm | elementwise | – | – | – |

then one ``projection`` to the vocabulary (columns): forward ALLGATHER M·vocab·B/TP, input
gradient ALLREDUCE M·d·B, weight gradient ALLREDUCE d·vocab/TP·B. Weight-gradient sizes are
the NPU's shard, all-reduced across the data-parallel groups. Checkpoints sit at the first
layer of every block and recomputation starts at its layerNorm, as in the tutorial's header.

Elementwise layers (softmax, layerNorm) have no GEMM: a systolic-array model cannot time
them, so they cost 0 cycles here. The tutorial has no attention-times-V layer; neither do we,
so that the layer list matches it.
"""

from __future__ import annotations

from orchestrator.errors import InputError
from orchestrator.workload.generate.model_file import ModelDescription
from orchestrator.workload.generate.recipes import (
    NO_COMM, Parallel, Plan, PlannedLayer, Work, exact, three_gemms)

LAYERS_PER_BLOCK = 9


def transformer_plan(model: ModelDescription, parallel: Parallel, checkpointing: bool = True
                     ) -> Plan:
    spec = model.transformer
    if spec is None:
        raise InputError("parallelism TRANSFORMER expands a transformer: section; this model "
                         "lists layers: use DATA, MODEL or HYBRID_*", model.path)
    if parallel.tp is None:
        raise InputError("TRANSFORMER needs --tp (the tensor-parallel group size)")
    if parallel.pp != 1:
        raise InputError(f"--pp {parallel.pp}: ASTRA-sim 1.0's training loops have no pipeline "
                         "stages; expected --pp 1")
    tp, line, size = parallel.tp, spec.line, model.datatype_bytes
    dp = exact(parallel.npus, tp, "TRANSFORMER: --npus over --tp", model, None)
    m = exact(model.batch, dp, "TRANSFORMER: batch over the data-parallel groups", model,
              line) * spec.seq
    d, ffn, vocab = spec.d_model, spec.ffn, spec.vocab
    heads = exact(spec.heads, tp, "TRANSFORMER: heads over --tp", model, line)
    d_tp = exact(d, tp, "TRANSFORMER: d_model over --tp", model, line)
    ffn_tp = exact(ffn, tp, "TRANSFORMER: ffn over --tp", model, line)
    vocab_tp = exact(vocab, tp, "TRANSFORMER: vocab over --tp", model, line)
    activations = m * d * size
    head_dim = d // spec.heads
    samples = m // spec.seq

    def column(name: str, n_tp: int, k: int, ig_comm=NO_COMM, fwd_comm=NO_COMM) -> PlannedLayer:
        return PlannedLayer(name, *three_gemms(m, n_tp, k), fwd_comm=fwd_comm, ig_comm=ig_comm,
                            wg_comm=("ALLREDUCE", k * n_tp * size))

    def row(name: str, n: int, k_tp: int, ig_comm=NO_COMM) -> PlannedLayer:
        return PlannedLayer(name, *three_gemms(m, n, k_tp), fwd_comm=("ALLREDUCE", activations),
                            ig_comm=ig_comm, wg_comm=("ALLREDUCE", k_tp * n * size))

    elementwise = (Work(), Work(), Work())
    layers: list[PlannedLayer] = []
    for block in range(1, spec.blocks + 1):
        layers += [
            column(f"Q{block}", d_tp, d, ig_comm=("ALLREDUCE", activations)),
            column(f"K{block}", d_tp, d),
            column(f"V{block}", d_tp, d),
            PlannedLayer(f"QK{block}", *three_gemms(spec.seq, spec.seq, head_dim,
                                                    count=samples * heads)),
            PlannedLayer(f"softmax{block}", *elementwise),
            row(f"concat{block}", d, d_tp, ig_comm=("ALLGATHER", activations // tp)),
            column(f"X{block}W1b1", ffn_tp, d, ig_comm=("ALLREDUCE", activations)),
            row(f"X{block}W2b2", d, ffn_tp),
            PlannedLayer(f"layerNorm{block}", *elementwise),
        ]
    layers.append(column("projection", vocab_tp, d, ig_comm=("ALLREDUCE", activations),
                         fwd_comm=("ALLGATHER", exact(m * vocab * size, tp,
                                                      "TRANSFORMER: projection bytes over --tp",
                                                      model, line))))
    header = f"HYBRID_TRANSFORMER model_parallel_NPU_group: {tp}"
    if checkpointing:
        starts = [LAYERS_PER_BLOCK * block for block in range(spec.blocks)]
        initiates = [start + LAYERS_PER_BLOCK - 1 for start in reversed(starts)]
        header = (f"HYBRID_TRANSFORMER_FWD_IN_BCKWD model_parallel_NPU_group: {tp} "
                  f"checkpoints: {len(starts)} {' '.join(map(str, starts))} "
                  f"checkpoint_initiates: {len(initiates)} {' '.join(map(str, initiates))}")
    return Plan(header, layers)
