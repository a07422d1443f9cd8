"""Reproduce Megatron-LM's weak-scaling table (Narayanan et al., SC'21, Table 1) with
``astra-cosim predict``: every row on DGX A100 nodes, fp16, sequence 2048, full activation
recomputation, achieved TFLOP/s per GPU by the paper's Eq. 3.

Published figures: megatron_table1_published.csv (Table 1 of arXiv:2104.04473). Micro-batch
sizes, interleaving (layers per virtual stage) and the DDP implementation come from the
paper's artifact, NVIDIA/Megatron-LM examples/sc21/run_table_1.sh: torch DDP (rows 1-4)
reduces fp16 gradients overlapped with the backward pass; Megatron's local DDP (rows 5-10)
all-reduces fp32 gradients after it.

    python experiments/validation/run_table1.py [--backend analytical] [--out DIR]

writes DIR/megatron_table1.csv (predicted vs published, error per row) and
DIR/megatron_table1.png; DIR defaults to experiments/validation/.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def predict_row(row: dict[str, str], backend: str):
    from orchestrator.platforms.gpu import load_platform
    from orchestrator.predict.predict import Predictor
    from orchestrator.workload.generate.llm.model import load_llm
    from orchestrator.workload.generate.llm.parallel import ParallelConfig
    tp, pp, gpus = int(row["tp"]), int(row["pp"]), int(row["gpus"])
    torch_ddp = row["ddp"] == "torch"
    par = ParallelConfig(tp=tp, pp=pp, dp=gpus // (tp * pp), micro_batch=int(row["micro_batch"]),
                         global_batch=int(row["global_batch"]), seq=2048,
                         virtual_stages=int(row["virtual_stages"]), recompute="full",
                         dp_overlap=torch_ddp, grad_bytes=2 if torch_ddp else 4)
    return Predictor(load_llm(row["model"]), load_platform("dgx-a100"), par, backend,
                     dtype="fp16").predict("megatron-eq3")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="analytical")
    parser.add_argument("--out", default=HERE)
    args = parser.parse_args(argv)
    with open(os.path.join(HERE, "megatron_table1_published.csv"), encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    os.makedirs(args.out, exist_ok=True)
    results = []
    for row in rows:
        start = time.perf_counter()
        prediction = predict_row(row, args.backend)
        seconds = time.perf_counter() - start
        published = float(row["published_tflops_per_gpu"])
        error = prediction.tflops_per_gpu / published - 1
        b = prediction.breakdown_ns
        results.append({
            "model": row["model"], "gpus": row["gpus"], "tp": row["tp"], "pp": row["pp"],
            "dp": prediction.parallel["dp"], "micro_batches": prediction.micro_batches,
            "published_tflops_per_gpu": published,
            "predicted_tflops_per_gpu": round(prediction.tflops_per_gpu, 1),
            "error_percent": round(100 * error, 1),
            "iteration_s": round(prediction.iteration_ns / 1e9, 3),
            **{f"{key}_s": round(value / 1e9, 3) for key, value in b.items()},
            "wall_s": round(seconds, 2)})
        print(f"{row['model']:>22}  published {published:6.1f}  predicted "
              f"{prediction.tflops_per_gpu:6.1f}  error {100 * error:+5.1f}%  ({seconds:.1f} s)",
              flush=True)
    path = os.path.join(args.out, "megatron_table1.csv")
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(results[0]))
        writer.writeheader()
        writer.writerows(results)
    errors = [abs(r["error_percent"]) / 100 for r in results]
    geomean = math.exp(sum(math.log(1 + e) for e in errors) / len(errors)) - 1
    print(f"max |error| {100 * max(errors):.1f}%, geometric mean {100 * geomean:.1f}%; "
          f"wrote {path}")
    plot(results, os.path.join(args.out, "megatron_table1.png"))
    return 0


def plot(results: list[dict], path: str) -> None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no plot", file=sys.stderr)
        return
    labels = [r["model"].replace("megatron-gpt-", "") for r in results]
    x = range(len(results))
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.plot(x, [r["published_tflops_per_gpu"] for r in results], "o-", label="published (SC'21 Table 1)")
    ax.plot(x, [r["predicted_tflops_per_gpu"] for r in results], "s--", label="astra-cosim predict")
    ax.set_xticks(list(x), labels)
    ax.set_xlabel("GPT model (32 to 3072 A100 GPUs)")
    ax.set_ylabel("achieved TFLOP/s per GPU")
    ax.set_ylim(0, 200)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))
    sys.exit(main())
