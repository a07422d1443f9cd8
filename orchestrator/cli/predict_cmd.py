"""``astra-cosim predict``: one LLM training iteration on a GPU platform, and where the time
goes; ``astra-cosim workload llm``: the same job as full Chakra traces.

    astra-cosim predict --model llama3-70b --platform dgx-h100 --gpus 1024 --tp 8 --pp 4
        --dp 32 [--cp C] [--ep E] --global-batch 1024 --micro-batch 1 --seq 8192
        [--zero 1] [--recompute none|selective|full] [--sequence-parallel]
        [--virtual-stages V] [--backend analytical|analytical-aware|ns3]
        [--flops model|megatron-eq3] [--json]

MFU = model FLOPs / (iteration time x GPUs x datasheet peak). ``--flops model`` counts
6 x active matrix parameters per token + 12·l·h·s per token for attention (no recomputation,
no causal discount); ``--flops megatron-eq3`` is Narayanan et al.'s Eq. 3 (with full
recomputation), for comparing with that paper.
"""

from __future__ import annotations

import argparse
import json

from orchestrator.errors import InputError
from orchestrator.experiment.model import NETWORK_BACKENDS
from orchestrator.platforms.gpu import load_platform, platform_names
from orchestrator.workload.generate.llm.model import load_llm, preset_names
from orchestrator.workload.generate.llm.parallel import DEFAULT_ORDER, RECOMPUTE, ParallelConfig


def add_job_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True,
                        help=f"a preset ({', '.join(preset_names())}) or a model YAML file")
    parser.add_argument("--platform", required=True,
                        help=f"a preset ({', '.join(platform_names())}) or a platform YAML file")
    parser.add_argument("--gpus", type=int, help="total GPUs (checked: tp x pp x dp x cp)")
    for dim in ("tp", "pp", "dp", "cp", "ep"):
        parser.add_argument(f"--{dim}", type=int, default=1)
    parser.add_argument("--virtual-stages", type=int, default=1,
                        help="model chunks per pipeline rank (> 1: interleaved 1F1B)")
    parser.add_argument("--sequence-parallel", action="store_true")
    parser.add_argument("--global-batch", type=int, required=True, help="sequences per step")
    parser.add_argument("--micro-batch", type=int, default=1)
    parser.add_argument("--seq", type=int, help="sequence length (default: the model's)")
    parser.add_argument("--zero", type=int, default=0, help="0 (all-reduce), 1, 2 or 3")
    parser.add_argument("--recompute", default="none", choices=RECOMPUTE)
    parser.add_argument("--dp-overlap", action="store_true",
                        help="the gradient reduction overlaps the last backward pass")
    parser.add_argument("--grad-bytes", type=int, default=4,
                        help="bytes per gradient element reduced across DP (4: fp32)")
    parser.add_argument("--tp-overlap", action="store_true",
                        help="TP collectives overlap their adjacent GEMM (Megatron-core's "
                             "--tp-comm-overlap); default: they block")
    parser.add_argument("--p2p-overlap", action="store_true",
                        help="stage-to-stage sends overlap compute (default: they block)")
    parser.add_argument("--no-scatter-gather", action="store_true",
                        help="send whole activations between stages from every TP rank")
    parser.add_argument("--dtype", default="bf16", help="bf16 | fp16 | fp8")
    parser.add_argument("--order", default=DEFAULT_ORDER,
                        help="rank mapping, innermost dimension first")


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("predict", help="LLM training step time, TFLOP/s per GPU, MFU",
                                 description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    add_job_arguments(parser)
    parser.add_argument("--backend", default="analytical", choices=NETWORK_BACKENDS)
    parser.add_argument("--flops", default="model", choices=("model", "megatron-eq3"))
    parser.add_argument("--json", action="store_true", help="print the prediction as JSON")
    parser.set_defaults(handler=predict_command)


def job(args: argparse.Namespace):
    model = load_llm(args.model)
    platform = load_platform(args.platform)
    par = ParallelConfig(tp=args.tp, pp=args.pp, dp=args.dp, cp=args.cp, ep=args.ep,
                         sequence_parallel=args.sequence_parallel,
                         virtual_stages=args.virtual_stages, zero=args.zero,
                         recompute=args.recompute, micro_batch=args.micro_batch,
                         global_batch=args.global_batch,
                         seq=model.seq if args.seq is None else args.seq,     # 0 is refused
                         order=args.order, dp_overlap=args.dp_overlap,
                         grad_bytes=args.grad_bytes,
                         scatter_gather=not args.no_scatter_gather,
                         p2p_overlap=args.p2p_overlap, tp_overlap=args.tp_overlap)
    if args.gpus is not None and args.gpus != par.gpus:
        raise InputError(f"--gpus {args.gpus} differs from tp x pp x dp x cp = {par.tp} x "
                         f"{par.pp} x {par.dp} x {par.cp} = {par.gpus}")
    return model, platform, par


def predict_command(args: argparse.Namespace) -> int:
    from orchestrator.predict.predict import Predictor
    model, platform, par = job(args)
    prediction = Predictor(model, platform, par, args.backend, args.dtype).predict(args.flops)
    if args.json:
        print(json.dumps(prediction.to_json(), indent=1))
        return 0
    seconds = prediction.iteration_ns / 1e9
    print(f"{model.name} on {par.gpus} x {platform.gpu.name} ({platform.name}), "
          f"TP {par.tp} PP {par.pp} DP {par.dp} CP {par.cp} EP {par.ep}, "
          f"{prediction.micro_batches} micro-batches of {par.micro_batch} x {par.seq}")
    print(f"iteration time   {seconds:.3f} s")
    print(f"TFLOP/s per GPU  {prediction.tflops_per_gpu:.1f}   MFU {100 * prediction.mfu:.1f}% "
          f"(FLOPs by {prediction.flop_formula}: {prediction.flops_per_iteration:.4g} per step)")
    memory = prediction.memory_gb_per_gpu
    fits = "fits" if memory["total"] <= prediction.hbm_gb else "DOES NOT FIT"
    print(f"memory per GPU   {memory['total']:.1f} GB of {prediction.hbm_gb:.0f} ({fits}; "
          + ", ".join(f"{k} {v:.1f}" for k, v in memory.items() if k != "total") + ")")
    print("breakdown (the slowest pipeline rank):")
    for key, value in prediction.breakdown_ns.items():
        print(f"  {key:<24} {value / 1e9:9.3f} s  {100 * value / prediction.iteration_ns:5.1f}%")
    return 0


def add_workload_verb(verbs: argparse._SubParsersAction) -> None:
    gen = verbs.add_parser("llm", help="an LLM training iteration as full Chakra traces")
    add_job_arguments(gen)
    gen.add_argument("--out", required=True, help="trace prefix: writes PREFIX.<rank>.et, "
                     "PREFIX.network.yml, PREFIX.system.json, PREFIX.groups.json")
    gen.set_defaults(handler=workload_llm_command)


def workload_llm_command(args: argparse.Namespace) -> int:
    from orchestrator.workload.generate.llm.generate import write_llm_traces
    model, platform, par = job(args)
    paths = write_llm_traces(model, par, platform, args.out, args.dtype)
    print(f"wrote {args.out}.0.et ... {args.out}.{par.gpus - 1}.et; run with --system "
          f"{paths['system']} --network {paths['network']} --comm-group {paths['groups']}")
    return 0
