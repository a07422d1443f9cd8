"""Predict one training iteration of an LLM on a GPU platform.

Data-parallel replicas are identical, and inside a replica the ranks of one tensor-parallel
group run the same kernels, so the prediction simulates, through the chosen network backend:

1. every distinct collective of a layer (TP, CP, EP) once, on its communicator group's own
   network (the dimensions of the platform that group spans);
2. the pipeline of one replica: ``pp`` ranks, each running its 1F1B or interleaved schedule
   of forward/backward blocks (a block's time is its kernels from the GPU compute model plus
   the exposed part of its collectives from step 1), with the activations sent between
   stages as SEND/RECV on the pipeline group's network (Megatron's scatter-gather: each TP
   rank sends its 1/t share on its own link, so a message is b·s·h·B / t);
3. the data-parallel tail per stage: gradient all-reduce (or ZeRO's reduce-scatter +
   all-gather) on the DP group's network, exposed unless overlapped with the last backward,
   then the optimizer step. ZeRO-3's per-block parameter gathers run beside the block's
   compute; only what they take beyond it shows. The tied-embedding gradient all-reduce
   between the first and last stage is not modelled (small against a step).

Iteration time = the latest stage's pipeline finish + its exposed DP time + its optimizer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from orchestrator.errors import InputError
from orchestrator.limits import TIME_LIMIT_NS
from orchestrator.output.instruments import Instruments
from orchestrator.platforms.gpu import Platform
from orchestrator.predict.memory import memory_gb
from orchestrator.predict.runs import CollectiveTimer, run_nodes
from orchestrator.workload.generate.llm.model import LlmModel
from orchestrator.workload.generate.llm.ops import LayerOps, Op, gpu_model
from orchestrator.workload.generate.llm.parallel import ParallelConfig, stage_layers, validate
from orchestrator.workload.generate.llm.trace import RankTrace, pipeline_rank

OPTIMIZER_BYTES_PER_PARAM = 38   # Adam, fp32 master: read p,g,m,v (16) write p,m,v (12),
# write the bf16 copy (2), gradient unscale / norm passes over fp32 grads (8)
FLOP_FORMULAS = ("model", "megatron-eq3")


def block_name(kind: str, model_stage: int, micro_batch: int) -> str:
    return f"{kind}{model_stage}_mb{micro_batch}"


@dataclass(slots=True)
class Cost:
    """Time of a list of ops on one rank, split by where it goes."""

    compute: int = 0
    comm: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.compute + sum(self.comm.values())

    def add(self, other: "Cost", times: int = 1) -> None:
        self.compute += other.compute * times
        for key, value in other.comm.items():
            self.comm[key] = self.comm.get(key, 0) + value * times


@dataclass(slots=True)
class Prediction:
    model: str
    platform: str
    backend: str
    gpus: int
    parallel: dict[str, Any]
    micro_batches: int
    iteration_ns: int
    tflops_per_gpu: float
    mfu: float
    flop_formula: str
    flops_per_iteration: float
    breakdown_ns: dict[str, int]
    stage_finish_ns: list[int]
    memory_gb_per_gpu: dict[str, float]
    hbm_gb: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Predictor:
    def __init__(self, model: LlmModel, platform: Platform, par: ParallelConfig,
                 backend: str = "analytical", dtype: str = "bf16") -> None:
        validate(par, model.layers, model.heads, model.kv, model.experts)
        if par.gpus % platform.gpus_per_node and par.gpus > platform.gpus_per_node:
            raise InputError(f"--gpus {par.gpus} is not a whole number of "
                             f"{platform.gpus_per_node}-GPU nodes")
        self.model, self.platform, self.par, self.backend = model, platform, par, backend
        self.gpu = gpu_model(platform.gpu.name, dtype)
        self.ops = LayerOps(model, par, self.gpu)
        self.timer = CollectiveTimer(backend, platform.gpu.hbm_gb_per_s)

    # -- step 1: blocks ---------------------------------------------------------------------
    def _group_network(self, kind: str) -> dict[str, Any]:
        return self.platform.group_network(self.par.group_size(kind),
                                           self.par.group_stride(kind))

    def cost(self, ops: list[Op]) -> Cost:
        cost = Cost()
        for index, op in enumerate(ops):
            if op.is_comm:
                ns = self.timer.time_ns(op, self._group_network(op.group))
                if op.overlap and index + 1 < len(ops) and not ops[index + 1].is_comm:
                    ns = max(0, ns - ops[index + 1].ns)      # hidden behind the next kernel
                cost.comm[op.group] = cost.comm.get(op.group, 0) + ns
            else:
                cost.compute += op.ns
        return cost

    def block_costs(self) -> dict[tuple[str, int], Cost]:
        """(F|B, model stage) -> cost of one micro-batch through that stage's layers."""
        par, model = self.par, self.model
        stages = par.pp * par.virtual_stages
        layer_cache: dict[tuple[str, bool], Cost] = {}
        out = {}
        for stage in range(stages):
            for kind in ("F", "B"):
                cost = Cost()
                for index in stage_layers(model.layers, stages, stage):
                    key = (kind, model.is_moe_layer(index))
                    if key not in layer_cache:
                        ops = self.ops.forward(index) if kind == "F" else self.ops.backward(index)
                        layer_cache[key] = self.cost(ops)
                    cost.add(layer_cache[key])
                if stage == 0:
                    cost.add(self.cost(self.ops.embedding_forward() if kind == "F"
                                       else self.ops.embedding_backward()))
                if stage == stages - 1:
                    cost.add(self.cost(self.ops.head_forward() if kind == "F"
                                       else self.ops.head_backward()))
                if par.zero == 3 and par.dp > 1:
                    cost = self._fsdp(cost, stage, kind)
                out[(kind, stage)] = cost
        return out

    def _fsdp(self, cost: Cost, stage: int, kind: str) -> Cost:
        """ZeRO-3: the block's parameters are all-gathered (and, backward, its gradients
        reduce-scattered) while it computes; only the part longer than the compute shows."""
        stages = self.par.pp * self.par.virtual_stages
        params = sum(self.ops.layer_params(i)
                     for i in stage_layers(self.model.layers, stages, stage))
        ops = [Op("fsdp_ag", coll="ALLGATHER", group="dp", size=2 * params // self.par.dp)]
        if kind == "B":
            ops.append(Op("fsdp_rs", coll="REDUCESCATTER", group="dp",
                          size=self.par.grad_bytes * params))
        comm = self.cost(ops).comm.get("dp", 0)
        exposed = max(0, comm - cost.total)
        if exposed:
            cost.comm["dp"] = cost.comm.get("dp", 0) + exposed
        return cost

    # -- step 2: the pipeline ---------------------------------------------------------------
    def pipeline(self, blocks: dict[tuple[str, int], Cost]) -> list[int]:
        """Per pipeline rank, when its last backward ends.

        Past the warm-up a schedule repeats itself every p micro-batches. With more than
        m2 = p + p micro-batches (2p + p interleaved) the pipeline is simulated for m2 only;
        the period is the time between the backwards of model stage 0 for micro-batches 0
        and p on rank 0 (both in the steady phase), and every rank's finish is extrapolated
        by (m - m2) / p periods (``tests/predict`` checks this against the full simulation)."""
        par = self.par
        m, p = par.micro_batches, par.pp
        if p == 1:
            total = sum(blocks[(k, c)].total for k in "FB" for c in range(par.virtual_stages))
            return [m * total]
        m2 = (2 if par.virtual_stages == 1 else 3) * p
        if m <= m2 or (par.virtual_stages > 1 and m % p):
            return self.simulate_pipeline(blocks, m)[0]
        finish, starts = self.simulate_pipeline(blocks, m2)
        period = starts[block_name("B", 0, p)] - starts[block_name("B", 0, 0)]
        return [end + period * (m - m2) // p for end in finish]

    def simulate_pipeline(self, blocks: dict[tuple[str, int], Cost], m: int
                          ) -> tuple[list[int], dict[str, int]]:
        """Each rank's finish, and when each block of rank 0 started."""
        par = self.par
        p, v = par.pp, par.virtual_stages
        act_bytes = par.activation_bytes(self.model.hidden)
        per_rank = []
        for stage in range(p):
            trace = RankTrace()

            def block(kind: str, mb: int, chunk: int, stage: int = stage) -> list[Op]:
                cost = blocks[(kind, chunk * p + stage)]
                return [Op(block_name(kind, chunk * p + stage, mb), ns=max(1, cost.total))]
            pipeline_rank(trace, stage, p, m, v, block, act_bytes, lambda s: s,
                          blocking_sends=not par.p2p_overlap)
            per_rank.append(trace.nodes)
        instruments = Instruments()
        result = run_nodes(per_rank, self._group_network("pp"), self.backend,
                           self.platform.gpu.hbm_gb_per_s, "pipeline", instruments)
        starts = {span.name: span.start_ns for span in instruments.recorder.compute
                  if span.npu == 0}
        return list(result.finish_ns), starts

    # -- step 3: data parallelism and the optimizer --------------------------------------------
    def dp_ops(self, params: int) -> list[Op]:
        par = self.par
        if par.dp == 1:
            return []
        grads = params * par.grad_bytes
        if par.zero == 0:
            return [Op("dp_allreduce", coll="ALLREDUCE", group="dp", size=grads)]
        ops = [Op("dp_allgather_params", coll="ALLGATHER", group="dp",
                  size=2 * params // par.dp)]
        if par.zero < 3:
            ops.insert(0, Op("dp_reducescatter", coll="REDUCESCATTER", group="dp", size=grads))
        return ops

    def predict(self, flop_formula: str = "model") -> Prediction:
        if flop_formula not in FLOP_FORMULAS:
            raise InputError(f"--flops {flop_formula!r}: expected one of "
                             + ", ".join(FLOP_FORMULAS))
        par, model = self.par, self.model
        blocks = self.block_costs()
        finish = self.pipeline(blocks)
        ends, details = [], []
        for stage in range(par.pp):
            params = self.ops.stage_params(stage)
            dp_ns = self.cost(self.dp_ops(params)).comm.get("dp", 0)
            if par.dp_overlap:
                window = sum(blocks[("B", c * par.pp + stage)].total
                             for c in range(par.virtual_stages))
                dp_ns = max(0, dp_ns - window)
            shard = params // par.dp if par.zero >= 1 else params
            opt_ns = self.gpu.memory_ns(OPTIMIZER_BYTES_PER_PARAM * shard)
            ends.append(finish[stage] + dp_ns + opt_ns)
            details.append((dp_ns, opt_ns))
        critical = max(range(par.pp), key=lambda s: ends[s])
        iteration = ends[critical]
        if iteration >= TIME_LIMIT_NS:
            raise InputError(f"the iteration would take {iteration} ns, past {TIME_LIMIT_NS} ns "
                             "(2^62 ns, about 146 years, the longest time a run can reach): "
                             f"--global-batch {par.global_batch} is too large for this platform")
        tokens = par.global_batch * par.seq
        flops = (model.megatron_eq3_flops(par.global_batch, par.seq)
                 if flop_formula == "megatron-eq3" else model.model_flops(tokens, par.seq))
        seconds = iteration / 1e9
        tflops = flops / seconds / par.gpus / 1e12
        busy = Cost()
        for chunk in range(par.virtual_stages):
            for kind in "FB":
                busy.add(blocks[(kind, chunk * par.pp + critical)], par.micro_batches)
        dp_ns, opt_ns = details[critical]
        breakdown = {"compute": busy.compute + opt_ns,
                     "optimizer": opt_ns,
                     **{f"exposed_{k}": busy.comm.get(k, 0) for k in ("tp", "cp", "ep")},
                     "exposed_dp": dp_ns + busy.comm.get("dp", 0),
                     "pipeline_bubble_and_pp": finish[critical] - busy.total}
        return Prediction(
            model=model.name, platform=self.platform.name, backend=self.backend,
            gpus=par.gpus,
            parallel={"tp": par.tp, "pp": par.pp, "dp": par.dp, "cp": par.cp, "ep": par.ep,
                      "virtual_stages": par.virtual_stages, "sequence_parallel":
                      par.sequence_parallel, "zero": par.zero, "recompute": par.recompute,
                      "micro_batch": par.micro_batch, "global_batch": par.global_batch,
                      "seq": par.seq, "order": par.order, "dp_overlap": par.dp_overlap,
                      "tp_overlap": par.tp_overlap, "p2p_overlap": par.p2p_overlap,
                      "scatter_gather": par.scatter_gather, "grad_bytes": par.grad_bytes},
            micro_batches=par.micro_batches, iteration_ns=iteration,
            tflops_per_gpu=tflops, mfu=tflops * 1e12 / self.gpu.datasheet_flops,
            flop_formula=flop_formula, flops_per_iteration=flops, breakdown_ns=breakdown,
            stage_finish_ns=ends, memory_gb_per_gpu=memory_gb(model, par, self.ops),
            hbm_gb=self.platform.gpu.hbm_gb)
