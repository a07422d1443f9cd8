"""Predict published training runs that the efficiency table was *not* calibrated on
(published_runs.csv -> published_runs_predicted.csv: Narayanan et al. SC'21 Table 2, PTD-P rows; Llama 3 405B, Dubey et al.
2024 Table 4) and compare TFLOP/s per GPU, each by its paper's FLOP formula.

    python experiments/validation/run_published.py [--backend analytical] [--out DIR]

Settings a paper does not state are assumptions listed in experiments/validation/README.md.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def predict_run(row: dict[str, str], backend: str):
    from orchestrator.platforms.gpu import load_platform
    from orchestrator.predict.predict import Predictor
    from orchestrator.workload.generate.llm.model import load_llm
    from orchestrator.workload.generate.llm.parallel import ParallelConfig
    number = {k: int(row[k]) for k in ("tp", "pp", "dp", "cp", "ep", "virtual_stages",
                                       "micro_batch", "global_batch", "seq", "zero",
                                       "grad_bytes")}
    par = ParallelConfig(**number, recompute=row["recompute"],
                         sequence_parallel=row["sequence_parallel"] == "true",
                         dp_overlap=row["dp_overlap"] == "true")
    return Predictor(load_llm(row["model"]), load_platform(row["platform"]), par, backend,
                     dtype=row["dtype"]).predict(row["flops"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="analytical")
    parser.add_argument("--out", default=HERE)
    args = parser.parse_args(argv)
    with open(os.path.join(HERE, "published_runs.csv"), encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    os.makedirs(args.out, exist_ok=True)
    results = []
    for row in rows:
        start = time.perf_counter()
        prediction = predict_run(row, args.backend)
        published = float(row["published_tflops_per_gpu"])
        error = prediction.tflops_per_gpu / published - 1
        results.append({"run": row["run"], "source": row["source"], "gpus": prediction.gpus,
                        "published_tflops_per_gpu": published,
                        "predicted_tflops_per_gpu": round(prediction.tflops_per_gpu, 1),
                        "error_percent": round(100 * error, 1),
                        "mfu_percent": round(100 * prediction.mfu, 1),
                        "iteration_s": round(prediction.iteration_ns / 1e9, 3),
                        "wall_s": round(time.perf_counter() - start, 2)})
        print(f"{row['run']:>18}  published {published:6.1f}  predicted "
              f"{prediction.tflops_per_gpu:6.1f}  error {100 * error:+5.1f}%", flush=True)
    path = os.path.join(args.out, "published_runs_predicted.csv")
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(results[0]))
        writer.writeheader()
        writer.writerows(results)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))
    sys.exit(main())
