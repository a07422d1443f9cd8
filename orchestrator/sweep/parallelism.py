"""A parallelism search: a sweep whose trials are ``astra-cosim predict`` runs, not experiments.

```yaml
name: llama3_70b_1024_h100
predict:                       # the job: astra-cosim predict's options, underscores for dashes
  model: llama3-70b            # a preset or a model YAML (relative to this file)
  platform: dgx-h100           # a preset or a platform YAML
  gpus: 1024
  global_batch: 1024
  seq: 8192
axes:                          # any job option -> the values it takes
  tp: [2, 4, 8]
  pp: [2, 4, 8, 16]
  cp: [1, 2]
  micro_batch: [1, 2]
  zero: [0, 1]
  # dp: omitted, so it is gpus / (tp x pp x cp)
```

A point becomes a trial only when it can run: tp x pp x dp x cp = gpus (``dp`` is derived when
no axis gives it), the splits divide (heads by tp, layers by pp, the batch by dp x micro_batch:
the checks ``predict`` makes), and the memory per GPU of ``predict``'s documented model
(``orchestrator/predict/memory.py``: weights, gradients and Adam state per parameter, sharded
by the ZeRO stage, plus the activations the first pipeline rank keeps at its peak) is within
the platform's HBM. The others are counted in the sweep's notes, each reason once with an
example, and never run. Each trial's record holds the prediction's figures; ``ranking.csv``
lists the trials by predicted TFLOP/s per GPU, best first, and ``astra-cosim sweep`` names the
best ones.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Sequence
from typing import Any

from orchestrator import __version__
from orchestrator.errors import InputError, expected_one_of
from orchestrator.sweep.store import PREDICT_FIGURES
from orchestrator.workload.generate.llm.parallel import ParallelConfig

KIND = "predict"
# Job options besides ParallelConfig's fields, with their defaults.
_JOB_DEFAULTS = {"model": None, "platform": None, "gpus": None, "backend": "analytical",
                 "dtype": "bf16", "flops": "model"}
_PAR_FIELDS = tuple(field.name for field in dataclasses.fields(ParallelConfig))
JOB_KEYS = (*_JOB_DEFAULTS, *_PAR_FIELDS)
RANKING_NAME = "ranking.csv"


def check_job(job: Any, axes: Sequence[str], origin_dir: str, where: str) -> dict[str, Any]:
    """The fixed part of the job, checked, with model and platform files made absolute."""
    if not isinstance(job, dict):
        raise InputError(f"predict: found {job!r}; expected a mapping of predict's options "
                         "(model, platform, gpus, global_batch, ...)", where)
    for key in (*job, *axes):
        if key not in JOB_KEYS:
            raise InputError(f"predict: unknown option: {expected_one_of(key, JOB_KEYS)}",
                             where)
    for key in ("model", "platform", "gpus", "global_batch"):
        if key not in job and key not in axes:
            raise InputError(f"predict: missing {key}; a parallelism search needs model, "
                             "platform, gpus and global_batch", where)
    doc = dict(job)
    for key in ("model", "platform"):
        value = doc.get(key)
        if isinstance(value, str) and os.path.isfile(os.path.join(origin_dir, value)):
            doc[key] = os.path.normpath(os.path.join(origin_dir, value))
    return doc


def _file_digest(value: Any) -> Any:
    if isinstance(value, str) and os.path.isfile(value):
        with open(value, "rb") as handle:
            return {"sha256": hashlib.file_digest(handle, "sha256").hexdigest()}
    return value


def trial_key(job: dict[str, Any]) -> str:
    """sha256 of the job with model and platform files named by content, and the version."""
    keyed = {key: _file_digest(value) if key in ("model", "platform") else value
             for key, value in job.items()}
    text = json.dumps({"kind": KIND, "job": keyed, "astra_cosim": __version__},
                      sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def build_job(job: dict[str, Any]):
    """Model, platform and parallel config of one job (a search's trial, or the LLM
    generator's options in a sweep's ``workload: {llm: ...}``, generated.py)."""
    from orchestrator.platforms.gpu import load_platform
    from orchestrator.workload.generate.llm.model import load_llm

    model = load_llm(str(job["model"]))
    platform = load_platform(str(job["platform"]))
    fields = {key: job[key] for key in _PAR_FIELDS if key in job}
    fields.setdefault("seq", model.seq)
    for key, value in fields.items():
        default = getattr(ParallelConfig, key, None)
        if isinstance(default, bool) and not isinstance(value, bool) or \
                isinstance(default, int) and not isinstance(default, bool) and \
                (isinstance(value, bool) or not isinstance(value, int)):
            raise InputError(f"{key}: found {value!r}; expected "
                             f"{'true or false' if isinstance(default, bool) else 'a whole number'}")
    par = ParallelConfig(**fields)
    return model, platform, par


def feasibility(job: dict[str, Any]) -> str | None:
    """Why the job cannot run (the constraints of the module docstring), or None."""
    from orchestrator.predict.memory import memory_gb
    from orchestrator.workload.generate.llm.ops import LayerOps, gpu_model
    from orchestrator.workload.generate.llm.parallel import validate

    model, platform, par = build_job(job)
    if job.get("gpus") is not None and par.gpus != job["gpus"]:
        return f"tp x pp x dp x cp is not gpus ({job['gpus']})"
    try:
        validate(par, model.layers, model.heads, model.kv, model.experts)
    except InputError as exc:
        return str(exc)
    gpu = gpu_model(platform.gpu.name, str(job.get("dtype", "bf16")))
    need = memory_gb(model, par, LayerOps(model, par, gpu))["total"]
    if need > platform.gpu.hbm_gb:
        return f"memory per GPU over the platform's HBM ({platform.gpu.hbm_gb:g} GB)"
    return None


def point_job(base: dict[str, Any], point: dict[str, Any]) -> dict[str, Any] | None:
    """The job of one point; ``dp`` derived from gpus when no axis sets it (None: it does
    not divide)."""
    job = {**base, **point}
    if "dp" not in job and isinstance(job.get("gpus"), int):
        rest = 1
        for key in ("tp", "pp", "cp"):
            value = job.get(key, 1)
            rest *= value if isinstance(value, int) and value > 0 else 0
        if rest == 0 or job["gpus"] % rest:
            return None
        job["dp"] = job["gpus"] // rest
    return job


def run_prediction(job: dict[str, Any]) -> dict[str, Any]:
    """The summary of one trial: predict's figures, rounded so every executor tables the
    same text."""
    from orchestrator.predict.predict import Predictor

    model, platform, par = build_job(job)
    prediction = Predictor(model, platform, par, str(job.get("backend", "analytical")),
                           str(job.get("dtype", "bf16"))).predict(str(job.get("flops", "model")))
    return {"iteration_ns": prediction.iteration_ns,
            "tflops_per_gpu": round(prediction.tflops_per_gpu, 3),
            "mfu": round(prediction.mfu, 4),
            "memory_gb": prediction.memory_gb_per_gpu["total"],
            "hbm_gb": prediction.hbm_gb,
            "micro_batches": prediction.micro_batches,
            "memory_gb_per_gpu": prediction.memory_gb_per_gpu,
            "breakdown_ns": prediction.breakdown_ns}


def ranked(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Finished rows by TFLOP/s per GPU, best first (ties: less memory, then sweep order)."""
    done = [row for row in rows if row["status"] == "ok"]
    return sorted(done, key=lambda row: (-row["tflops_per_gpu"], row["memory_gb"]))


def best_lines(rows: list[dict[str, Any]], count: int = 5) -> list[str]:
    lines = []
    for place, row in enumerate(ranked(rows)[:count], 1):
        split = " ".join(f"{key}={row[key]}" for key in ("tp", "pp", "dp", "cp", "ep",
                                                         "micro_batch", "zero"))
        lines.append(f"{place}. {split}: {row['tflops_per_gpu']:.1f} TFLOP/s per GPU "
                     f"(MFU {100 * row['mfu']:.1f}%), {row['iteration_ns'] / 1e9:.3f} s per "
                     f"step, {row['memory_gb']:.1f} of {row['hbm_gb']:g} GB per GPU")
    return lines
