"""Full Chakra traces of an LLM training iteration: one trace per GPU of the whole job, with
communicator groups (``pg_name``) for TP, CP, EP, DP and SEND/RECV between pipeline stages,
plus the network (the platform's dimensions) and the groups file to run them:

    astra-cosim workload llm --model llama3-8b --platform dgx-h100 --tp 2 --pp 2 --dp 2 \\
        --global-batch 8 --micro-batch 1 --out out/llama
    astra-cosim run --workload out/llama --system out/llama.system.json \\
        --network out/llama.network.yml --comm-group out/llama.groups.json --out run

Compute nodes carry their time from the GPU compute model (``duration_ns``) and GEMMs their
shape. Every rank's trace is built from its own coordinates; identical ranks get identical
node lists, so the size of a trace set grows with the GPU count (use ``predict`` for
thousands of GPUs).
"""

from __future__ import annotations

import json
import os
from dataclasses import replace

import yaml

from orchestrator.errors import InputError
from orchestrator.platforms.gpu import Platform
from orchestrator.predict.runs import system_doc
from orchestrator.workload import chakra
from orchestrator.workload.generate.llm.model import LlmModel
from orchestrator.workload.generate.llm.ops import LayerOps, Op, gpu_model
from orchestrator.workload.generate.llm.parallel import ParallelConfig, stage_layers, validate
from orchestrator.workload.generate.llm.trace import RankTrace, pipeline_rank

GROUP_KINDS = ("tp", "cp", "ep", "dp")


def rank_blocks(model: LlmModel, par: ParallelConfig, ops: LayerOps):
    """blocks(kind, mb, chunk) for a pipeline rank at ``stage``: the layers of the model
    stage, with the embedding on the first and the head on the last."""
    stages = par.pp * par.virtual_stages

    def make(stage: int):
        def blocks(kind: str, mb: int, chunk: int) -> list[Op]:
            ms = chunk * par.pp + stage
            layers = stage_layers(model.layers, stages, ms)
            out: list[Op] = []
            if kind == "F":
                if ms == 0:
                    out += ops.embedding_forward()
                for index in layers:
                    out += ops.forward(index)
                if ms == stages - 1:
                    out += ops.head_forward()
            else:
                if ms == stages - 1:
                    out += ops.head_backward()
                for index in reversed(layers):
                    out += ops.backward(index)
                if ms == 0:
                    out += ops.embedding_backward()
            return [replace(op, name=f"mb{mb}_{op.name}") for op in out]
        return blocks
    return make


def write_llm_traces(model: LlmModel, par: ParallelConfig, platform: Platform, prefix: str,
                     dtype: str = "bf16") -> dict[str, str]:
    """Write ``prefix.<rank>.et`` for every rank, and the network, system and groups files;
    returns their paths."""
    validate(par, model.layers, model.heads, model.kv, model.experts)
    if par.zero == 3:
        raise InputError("--zero 3: full traces do not carry ZeRO-3's per-layer parameter "
                         "gathers yet; `astra-cosim predict --zero 3` models them")
    if par.gpus < 2:
        raise InputError("a trace set needs at least 2 GPUs (tp x pp x dp x cp)")
    os.makedirs(os.path.dirname(os.path.abspath(prefix)), exist_ok=True)
    gpu = gpu_model(platform.gpu.name, dtype)
    ops = LayerOps(model, par, gpu)
    make_blocks = rank_blocks(model, par, ops)
    groups: dict[str, list[int]] = {}
    act_bytes = par.activation_bytes(model.hidden)
    for rank in range(par.gpus):
        names = {}
        for kind in GROUP_KINDS:
            members = par.group(rank, kind)
            if len(members) > 1:
                name = f"{kind}_{members[0]}"
                groups[name] = members
                names[kind] = name
        trace = RankTrace(names)
        stage = par.coords(rank)["pp"]
        pp_members = par.group(rank, "pp")
        pipeline_rank(trace, stage, par.pp, par.micro_batches, par.virtual_stages,
                      make_blocks(stage), act_bytes, lambda s: pp_members[s],
                      blocking_sends=not par.p2p_overlap)
        params = ops.stage_params(stage)
        if par.dp > 1:
            grads = params * par.grad_bytes
            if par.zero == 0:
                trace.op(Op("dp_allreduce", coll="ALLREDUCE", group="dp", size=grads))
            else:
                trace.op(Op("dp_reducescatter", coll="REDUCESCATTER", group="dp", size=grads))
        shard = params // par.dp if par.zero >= 1 else params
        trace.op(Op("optimizer", ns=gpu.memory_ns(38 * shard)))
        if par.dp > 1 and par.zero >= 1:
            trace.op(Op("dp_allgather_params", coll="ALLGATHER", group="dp",
                        size=2 * params // par.dp))
        chakra.write_trace(chakra.trace_path(prefix, rank), trace.nodes)
    chakra.remove_ranks_from(prefix, par.gpus)     # an earlier, larger set's last ranks
    network = platform.network_doc(par.gpus)
    paths = {"network": prefix + ".network.yml", "system": prefix + ".system.json",
             "groups": prefix + ".groups.json"}
    with open(paths["network"], "w", encoding="utf-8") as handle:
        yaml.safe_dump(network, handle, default_flow_style=None)
    with open(paths["system"], "w", encoding="utf-8") as handle:
        json.dump(system_doc(len(network["topology"]), platform.gpu.hbm_gb_per_s), handle,
                  indent=1)
    with open(paths["groups"], "w", encoding="utf-8") as handle:
        json.dump(groups or {"all": list(range(par.gpus))}, handle)
    return paths
