"""How much HBM one GPU of the busiest pipeline rank (the first) needs: model state and the
activations it keeps for the backward pass. An estimate, to say when a configuration cannot
run, not a prediction of the allocator.

* Model state per parameter: 2 bytes of bf16/fp16 weights, ``grad_bytes`` of gradients, 12 of
  Adam (fp32 master copy, m, v). ZeRO-1 shards the optimizer over DP, ZeRO-2 the gradients
  too, ZeRO-3 the weights too.
* Activations per layer and micro-batch (Korthikanti et al. 2022, Table 2, bytes with B = 2):
  s·b·h·(10 + 24/t + 5·a·s/(h·t)) with TP, s·b·h·(34/t + 5·a·s/(h·t)) with TP and SP; the
  a·s term (the stored attention scores) vanishes with selective recomputation or a flash
  kernel; full recomputation keeps only each layer's input, 2·s·b·h (/t with SP). s is the
  rank's sequence share under CP.
* The first pipeline rank holds the activations of every block it has run forward but not yet
  backward: the warm-up of its schedule plus one block.
"""

from __future__ import annotations

from orchestrator.workload.generate.llm.model import LlmModel
from orchestrator.workload.generate.llm.ops import LayerOps
from orchestrator.workload.generate.llm.parallel import ParallelConfig

GB = 1e9


def activation_bytes_per_layer(model: LlmModel, par: ParallelConfig) -> float:
    s, b, h, a, t = par.seq // par.cp, par.micro_batch, model.hidden, model.heads, par.tp
    if par.recompute == "full":
        return 2 * s * b * h / (t if par.sequence_parallel else 1)
    scores = 0.0 if par.recompute == "selective" or model.attention == "flash" \
        else 5 * a * s / (h * t)
    if par.sequence_parallel:
        return s * b * h * (34 / t + scores)
    return s * b * h * (10 + 24 / t + scores)


def in_flight_layers(model: LlmModel, par: ParallelConfig) -> float:
    """Layers' worth of activations the first pipeline rank keeps at its peak."""
    p, v, m = par.pp, par.virtual_stages, par.micro_batches
    warmup = min(p - 1, m) if v == 1 else min((p - 1) * 2 + (v - 1) * p, m * v)
    chunks = min(warmup + 1, m * v)
    return chunks * model.layers / (p * v)


def memory_gb(model: LlmModel, par: ParallelConfig, ops: LayerOps) -> dict[str, float]:
    params = ops.stage_params(0)
    dp = par.dp
    weights = 2 * params / (dp if par.zero >= 3 else 1)
    grads = par.grad_bytes * params / (dp if par.zero >= 2 else 1)
    optimizer = 12 * params / (dp if par.zero >= 1 else 1)
    activations = activation_bytes_per_layer(model, par) * in_flight_layers(model, par)
    parts = {"weights": weights, "gradients": grads, "optimizer": optimizer,
             "activations": activations}
    out = {key: round(value / GB, 2) for key, value in parts.items()}
    out["total"] = round(sum(parts.values()) / GB, 2)
    return out
