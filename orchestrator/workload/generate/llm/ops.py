"""The kernels and collectives of one transformer layer on one GPU, forward and backward,
under tensor (Megatron column/row split, optionally sequence parallel), context and expert
parallelism; plus the embedding and the output head.

Per layer and micro-batch, with T = micro_batch x seq / cp tokens on this rank, h hidden,
t = tp, B = 2 bytes (bf16/fp16), Tn = T/t with sequence parallelism (SP) else T:

| step | kernel | communication (comm_size per rank, Chakra convention) |
|---|---|---|
| norm 1 | memory 4·Tn·h bytes | SP: ALLGATHER Tn·h·B (tp) |
| QKV | GEMM T x (heads + 2·kv)/t·d x h | CP: ring of K,V blocks 2·T·kv/t·d·B (cp) |
| attention | flash: one kernel, causal; unfused: QK^T, softmax+dropout (9 B/elem), AV | |
| projection | GEMM T x h x heads/t·d | ALLREDUCE T·h·B, or SP: REDUCESCATTER T·h·B (tp) |
| dropout+residual, norm 2 | memory 7·Tn·h + 4·Tn·h | SP: ALLGATHER Tn·h·B |
| MLP | GEMMs T x m·ffn/t x h, T x h x ffn/t; activation | as the projection |
| MoE (instead) | router; experts as grouped GEMMs of T/t·top_k·cf·ep/E tokens each | ALLTOALL T/t·top_k·cf·h·B dispatch and combine (ep) |

Context parallelism is ring attention: the cp ranks pass their K,V blocks round a ring (the
traffic of a ring all-gather of the local K,V, so it is one ALLGATHER) while the attention
kernel works on the blocks already there; only what the ring takes beyond the attention
shows. Its backward passes K,V again beside the attention backward, then reduce-scatters the
K,V gradients. The causal mask is load-balanced (each rank holds two of 2·cp chunks), so a
rank does half the work of its s/cp x s score block.

Backward: every GEMM becomes its data- and weight-gradient GEMMs, memory kernels move twice
the bytes, flash attention does 2.5x the forward FLOPs, and each collective is mirrored
(all-reduce stays, all-gather <-> reduce-scatter, all-to-all twice). Full recomputation
re-runs the forward (with its collectives) before the backward; selective recomputation
re-runs the attention core only (Korthikanti et al. 2022).

Experts are not split by TP (expert-TP 1, Megatron-core's default with EP): the T tokens of a
TP group are divided among its t ranks before dispatch (without SP, an all-gather over TP
puts the combined tokens, and in the backward their gradients, together again).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from orchestrator.workload.generate.llm.model import LlmModel
from orchestrator.workload.generate.llm.parallel import ParallelConfig, stage_layers

if TYPE_CHECKING:      # built by name through adapters.registry (gpu_model below)
    from adapters.gpu_roofline.model import GpuComputeModel


@dataclass(frozen=True, slots=True)
class Op:
    """A compute kernel (``ns`` > 0, ``coll`` empty) or a collective in ``group``."""

    name: str
    ns: int = 0
    coll: str = ""                 # ALLREDUCE | ALLGATHER | REDUCESCATTER | ALLTOALL
    group: str = ""                # tp | cp | ep | dp | pp
    size: int = 0                  # bytes per rank (comm_size)
    gemm: tuple[int, int, int] | None = None
    # a collective that runs beside the next op (ring attention passes K,V blocks while the
    # attention kernel works on the block it has); what it takes longer shows
    overlap: bool = False

    @property
    def is_comm(self) -> bool:
        return bool(self.coll)


# the backward of a forward collective (Megatron's f/g operators): an all-reduce after a
# row-parallel GEMM has an identity backward; SP's all-gather and reduce-scatter swap
MIRROR = {"ALLGATHER": "REDUCESCATTER", "REDUCESCATTER": "ALLGATHER"}


def gpu_model(gpu_name: str, dtype: str) -> GpuComputeModel:
    """The GPU compute adapter, by name through the registry as every compute model."""
    from adapters.registry import build_compute
    return build_compute("gpu-roofline", {"gpu": gpu_name, "dtype": dtype})


class LayerOps:
    """Op lists for one rank; ``B`` bytes per activation element."""

    def __init__(self, model: LlmModel, par: ParallelConfig, gpu: GpuComputeModel,
                 element_bytes: int = 2) -> None:
        self.m, self.p, self.g, self.B = model, par, gpu, element_bytes
        self.T = par.micro_batch * par.seq // par.cp
        self.Tn = self.T // par.tp if par.sequence_parallel else self.T
        self.heads = model.heads // par.tp
        self.kv = max(1, model.kv // par.tp)

    # -- helpers -----------------------------------------------------------------------------
    def _gemm(self, name: str, m: int, n: int, k: int, batch: int = 1) -> Op:
        return Op(name, self.g.gemm_ns(m, n, k, batch), gemm=(m, n, k) if batch == 1 else None)

    def _mem(self, name: str, nbytes: float) -> Op:
        return Op(name, self.g.memory_ns(nbytes))

    def _tp_out(self, name: str) -> list[Op]:
        """The collective after a row-parallel GEMM."""
        if self.p.tp == 1:
            return []
        coll = "REDUCESCATTER" if self.p.sequence_parallel else "ALLREDUCE"
        return [Op(name, coll=coll, group="tp", size=self.T * self.m.hidden * self.B,
                   overlap=self.p.tp_overlap)]

    def _tp_in(self, name: str) -> list[Op]:
        """The all-gather before a column-parallel GEMM under sequence parallelism."""
        if self.p.tp == 1 or not self.p.sequence_parallel:
            return []
        return [Op(name, coll="ALLGATHER", group="tp", size=self.Tn * self.m.hidden * self.B,
                   overlap=self.p.tp_overlap)]

    def _input_grad(self, name: str) -> list[Op]:
        """The collective on a column-parallel GEMM's input gradient: summed over TP (an
        all-reduce; reduce-scattered under SP). Placed between the data- and weight-gradient
        GEMMs; with TP overlap it runs beside the weight-gradient GEMM."""
        if self.p.tp == 1:
            return []
        coll = "REDUCESCATTER" if self.p.sequence_parallel else "ALLREDUCE"
        return [Op(name, coll=coll, group="tp", size=self.T * self.m.hidden * self.B,
                   overlap=self.p.tp_overlap)]

    def _row(self, gemm: Op, out: list[Op]) -> list[Op]:
        """A row-parallel GEMM and its output collective; overlapped, the collective runs
        beside the GEMM (chunk by chunk, as TE's userbuffers do)."""
        return [*out, gemm] if self.p.tp_overlap else [gemm, *out]

    def _kv_bytes(self) -> int:
        return 2 * self.T * self.kv * self.m.head_dim * self.B

    def _attention(self, backward: bool, prefix: str = "") -> list[Op]:
        m, p, g = self.m, self.p, self.g
        bh = p.micro_batch * self.heads
        sq, skv, d = p.seq // p.cp, p.seq, m.head_dim
        if m.attention == "flash":
            return [Op(prefix + ("attention_bwd" if backward else "attention"),
                       g.attention_ns(bh, sq, skv, d, causal=True, backward=backward))]
        elements = bh * sq * skv
        if not backward:
            return [self._gemm(prefix + "attn_qk", sq, skv, d, bh),
                    self._mem(prefix + "softmax_dropout", 9 * elements),
                    self._gemm(prefix + "attn_av", sq, d, skv, bh)]
        return [self._gemm(prefix + "attn_av_dgrad", sq, skv, d, bh),
                self._gemm(prefix + "attn_av_vgrad", skv, d, sq, bh),
                self._mem(prefix + "softmax_dropout_bwd", 11 * elements),
                self._gemm(prefix + "attn_qk_qgrad", sq, d, skv, bh),
                self._gemm(prefix + "attn_qk_kgrad", skv, d, sq, bh)]

    # -- one layer ------------------------------------------------------------------------------
    def forward(self, index: int, prefix: str = "") -> list[Op]:
        m, p, T, Tn, h, B = self.m, self.p, self.T, self.Tn, self.m.hidden, self.B
        qkv_n = (self.heads + 2 * self.kv) * m.head_dim
        ops = [self._mem(prefix + "norm1", 4 * Tn * h), *self._tp_in(prefix + "sp_ag_attn"),
               self._gemm(prefix + "qkv", T, qkv_n, h)]
        if p.cp > 1:
            ops.append(Op(prefix + "cp_ring_kv", coll="ALLGATHER", group="cp",
                          size=self._kv_bytes(), overlap=True))
        ops += self._attention(False, prefix)
        ops += [*self._row(self._gemm(prefix + "proj", T, h, self.heads * m.head_dim),
                           self._tp_out(prefix + "tp_attn_out")),
                self._mem(prefix + "dropout_add1", 7 * Tn * h),
                self._mem(prefix + "norm2", 4 * Tn * h)]
        ops += self._moe(False, prefix) if m.is_moe_layer(index) else self._mlp(False, prefix)
        ops.append(self._mem(prefix + "dropout_add2", 7 * Tn * h))
        return ops

    def _mlp(self, backward: bool, prefix: str, ffn: int | None = None) -> list[Op]:
        m, T, h, B = self.m, self.T, self.m.hidden, self.B
        f = (ffn or m.ffn) // self.p.tp
        up = f * (2 if m.mlp == "swiglu" else 1)
        act_bytes = T * (up + f) * B
        if not backward:
            return [*self._tp_in(prefix + "sp_ag_mlp"), self._gemm(prefix + "fc1", T, up, h),
                    self._mem(prefix + "activation", act_bytes),
                    *self._row(self._gemm(prefix + "fc2", T, h, f),
                               self._tp_out(prefix + "tp_mlp_out"))]
        return [*self._mirror(self._tp_out(prefix + "tp_mlp_out")),
                self._gemm(prefix + "fc2_dgrad", T, f, h), self._gemm(prefix + "fc2_wgrad", f, h, T),
                self._mem(prefix + "activation_bwd", 2 * act_bytes),
                self._gemm(prefix + "fc1_dgrad", T, h, up),
                *self._input_grad(prefix + "tp_mlp_in_bwd"),
                self._gemm(prefix + "fc1_wgrad", h, up, T)]

    def moe_dispatch_bytes(self) -> int:
        """Bytes one rank sends into a dispatch all-to-all: tokens x top_k x cf x hidden x B."""
        m = self.m
        tokens = self.T // self.p.tp
        return int(tokens * m.top_k * m.capacity_factor) * m.hidden * self.B

    def _moe(self, backward: bool, prefix: str) -> list[Op]:
        m, p, h = self.m, self.p, self.m.hidden
        tokens = self.T // p.tp
        local = m.experts // p.ep
        per_expert = max(1, int(tokens * m.top_k * m.capacity_factor * p.ep / m.experts))
        f = m.moe_ffn
        up = f * (2 if m.mlp == "swiglu" else 1)
        a2a = [Op(prefix + "ep_a2a", coll="ALLTOALL", group="ep", size=self.moe_dispatch_bytes())
               ] if p.ep > 1 else []
        act = self._mem(prefix + "expert_activation", local * per_expert * (up + f) * self.B)
        # without SP the TP ranks hold all T tokens, route a 1/t slice each, and gather the
        # combined slices again (forward) and the input-gradient slices (backward)
        regather = [Op(prefix + "tp_moe_gather", coll="ALLGATHER", group="tp",
                       size=tokens * h * self.B)] if p.tp > 1 and not p.sequence_parallel else []
        if not backward:
            ops = [self._gemm(prefix + "router", tokens, m.experts, h), *a2a,
                   self._gemm(prefix + "experts_fc1", per_expert, up, h, local), act,
                   self._gemm(prefix + "experts_fc2", per_expert, h, f, local), *a2a, *regather]
        else:
            ops = [*a2a, self._gemm(prefix + "experts_fc2_dgrad", per_expert, f, h, local),
                   self._gemm(prefix + "experts_fc2_wgrad", f, h, per_expert, local),
                   self._mem(prefix + "expert_activation_bwd", 2 * local * per_expert * (up + f) * self.B),
                   self._gemm(prefix + "experts_fc1_dgrad", per_expert, h, up, local),
                   self._gemm(prefix + "experts_fc1_wgrad", h, up, per_expert, local), *a2a,
                   self._gemm(prefix + "router_dgrad", tokens, h, m.experts), *regather]
        if m.shared_experts:
            ops += self._mlp(backward, prefix + "shared_", m.moe_ffn * m.shared_experts)
        return ops

    def _mirror(self, ops: list[Op]) -> list[Op]:
        """The backward of forward output collectives: SP's reduce-scatter becomes an
        all-gather before the data-gradient GEMM (an all-reduce's backward is nothing)."""
        return [Op(op.name + "_bwd", coll=MIRROR[op.coll], group=op.group,
                   size=op.size * (self.p.tp if op.coll == "ALLGATHER" else 1)
                   // (self.p.tp if op.coll == "REDUCESCATTER" else 1), overlap=op.overlap)
                for op in ops if op.coll in MIRROR]

    def backward(self, index: int) -> list[Op]:
        m, p, T, Tn, h = self.m, self.p, self.T, self.Tn, self.m.hidden
        ops: list[Op] = []
        if p.recompute == "full":
            ops += self.forward(index, "recompute_")
        elif p.recompute == "selective":
            ops += self._attention(False, "recompute_")
        ops.append(self._mem("dropout_add2_bwd", 2 * 7 * Tn * h))
        ops += self._moe(True, "") if m.is_moe_layer(index) else self._mlp(True, "")
        qkv_n = (self.heads + 2 * self.kv) * m.head_dim
        d_attn = self.heads * m.head_dim
        ops += [self._mem("norm2_bwd", 8 * Tn * h), self._mem("dropout_add1_bwd", 2 * 7 * Tn * h),
                *self._mirror(self._tp_out("tp_attn_out")),
                self._gemm("proj_dgrad", T, d_attn, h), self._gemm("proj_wgrad", d_attn, h, T)]
        if p.cp > 1:
            ops.append(Op("cp_ring_kv_bwd", coll="ALLGATHER", group="cp",
                          size=self._kv_bytes(), overlap=True))
        ops += self._attention(True)
        if p.cp > 1:
            ops.append(Op("cp_rs_dkv", coll="REDUCESCATTER", group="cp",
                          size=self._kv_bytes() * p.cp))
        ops += [self._gemm("qkv_dgrad", T, h, qkv_n), *self._input_grad("tp_attn_in_bwd"),
                self._gemm("qkv_wgrad", h, qkv_n, T), self._mem("norm1_bwd", 8 * Tn * h)]
        return ops

    # -- embedding and head -----------------------------------------------------------------------
    def embedding_forward(self) -> list[Op]:
        ops = [self._mem("embedding", 2 * self.Tn * self.m.hidden * self.B)]
        return ops + self._tp_out("tp_embedding")

    def embedding_backward(self) -> list[Op]:
        return [self._mem("embedding_bwd", self.T * self.m.hidden * (self.B + 4))]

    def head_forward(self) -> list[Op]:
        m, T, h = self.m, self.T, self.m.hidden
        v = m.vocab // self.p.tp
        ops = [self._mem("final_norm", 4 * self.Tn * h), *self._tp_in("sp_ag_head"),
               self._gemm("logits", T, v, h), self._mem("cross_entropy", 12 * T * v)]
        if self.p.tp > 1:
            ops.append(Op("tp_cross_entropy", coll="ALLREDUCE", group="tp", size=3 * T * 4))
        return ops

    def head_backward(self) -> list[Op]:
        m, T, h = self.m, self.T, self.m.hidden
        v = m.vocab // self.p.tp
        return [self._mem("cross_entropy_bwd", 8 * T * v), self._gemm("logits_dgrad", T, h, v),
                *self._input_grad("tp_head_in_bwd"), self._gemm("logits_wgrad", v, h, T),
                self._mem("final_norm_bwd", 8 * self.Tn * h)]

    # -- parameters held by this rank ------------------------------------------------------------
    def layer_params(self, index: int) -> int:
        m, p = self.m, self.p
        dense = (m.attention_params() + 4 * m.hidden) // p.tp
        if m.is_moe_layer(index):
            per_expert = m.mlp_matrices * m.hidden * m.moe_ffn
            return dense + per_expert * m.experts // p.ep + \
                per_expert * m.shared_experts // p.tp + m.hidden * m.experts
        return dense + m.dense_mlp_params() // p.tp

    def embedding_params(self) -> int:
        return self.m.vocab * self.m.hidden // self.p.tp

    def stage_params(self, stage: int) -> int:
        """Parameters on a rank of pipeline rank ``stage``: its chunks' layers, the input
        embedding on the first model stage, the output head on the last (a tied head is a
        copy there when the two are different stages)."""
        p = self.p
        stages = p.pp * p.virtual_stages
        params = 0
        for chunk in range(p.virtual_stages):
            ms = chunk * p.pp + stage
            params += sum(self.layer_params(i) for i in stage_layers(self.m.layers, stages, ms))
            if ms == 0:
                params += self.embedding_params()
            if ms == stages - 1 and (stages > 1 or not self.m.tied_embeddings):
                params += self.embedding_params()
        return params
