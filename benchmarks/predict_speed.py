#!/usr/bin/env python3
"""Wall-clock time of ``astra-cosim predict`` for large jobs, run on demand (never imported by
tests). Each row is one prediction (collective runs, the pipeline of one replica, the DP
tail) on the analytical backend, timed with ``time.perf_counter``, best of N. The section
"LLM predict speed" of results.md is replaced (or appended) with the table.

    python benchmarks/predict_speed.py [--repeats N]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROWS = [
    ("megatron-gpt-1t", "dgx-a100", dict(tp=8, pp=64, dp=6, micro_batch=1, global_batch=3072,
                                         seq=2048, recompute="full"), "fp16"),
    ("megatron-gpt-529.6b", "dgx-a100", dict(tp=8, pp=35, dp=9, micro_batch=1,
                                             global_batch=2520, seq=2048, virtual_stages=3,
                                             recompute="full"), "fp16"),
    ("llama3-405b", "dgx-h100", dict(tp=8, pp=16, dp=128, micro_batch=1, global_batch=2048,
                                     seq=8192, sequence_parallel=True, zero=1,
                                     virtual_stages=2), "bf16"),
    ("llama3-70b", "dgx-h100", dict(tp=8, pp=4, dp=32, cp=2, micro_batch=1,
                                    global_batch=1024, seq=8192, sequence_parallel=True,
                                    zero=1), "bf16"),
    ("deepseek-v3-like", "dgx-h100", dict(tp=2, pp=8, dp=128, ep=64, micro_batch=1,
                                          global_batch=4096, seq=4096, sequence_parallel=True,
                                          zero=1, recompute="selective"), "bf16"),
]


def main() -> int:
    sys.path.insert(0, ROOT)
    from orchestrator.platforms.gpu import load_platform
    from orchestrator.predict.predict import Predictor
    from orchestrator.workload.generate.llm.model import load_llm
    from orchestrator.workload.generate.llm.parallel import ParallelConfig
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    lines = ["## LLM predict speed", "",
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} · {platform.platform()}, "
             f"Python {platform.python_version()}, {os.cpu_count()} CPUs · best of "
             f"{args.repeats} · `python benchmarks/predict_speed.py`", "",
             "| model | platform | GPUs | TP/PP/DP/CP/EP | micro-batches | wall s | "
             "iteration s | TFLOP/s per GPU |", "|---|---|---:|---|---:|---:|---:|---:|"]
    for model, plat, keys, dtype in ROWS:
        par = ParallelConfig(**keys)
        best, prediction = float("inf"), None
        for _ in range(args.repeats):
            start = time.perf_counter()
            prediction = Predictor(load_llm(model), load_platform(plat), par,
                                   dtype=dtype).predict()
            best = min(best, time.perf_counter() - start)
        lines.append(f"| {model} | {plat} | {par.gpus:,} | {par.tp}/{par.pp}/{par.dp}/{par.cp}/"
                     f"{par.ep} | {par.micro_batches} | {best:.2f} | "
                     f"{prediction.iteration_ns / 1e9:.3f} | {prediction.tflops_per_gpu:.1f} |")
        print(lines[-1], flush=True)
    section = "\n".join(lines) + "\n"
    path = os.path.join(ROOT, "benchmarks", "results.md")
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    pattern = re.compile(r"## LLM predict speed\n.*?(?=\n## |\Z)", re.S)
    text = pattern.sub(section.rstrip("\n"), text) if pattern.search(text) else \
        text.rstrip("\n") + "\n\n" + section
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
