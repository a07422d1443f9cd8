"""How long one kernel takes on one GPU: a roofline on the datasheet peak and HBM bandwidth,
derated by measured efficiencies (efficiency.yaml, one table per GPU architecture).

* GEMM (m x k by k x n, ``batch`` of them): cuBLAS runs it as output tiles over the SMs. For
  each candidate tile we count the tiles, the waves they need (ceil(tiles / SMs)) and the
  fraction of the last wave's SM slots and of the padded tile area doing real work; the best
  tile's utilisation times its own efficiency, times ``k / (k + k_half)`` (the main loop's
  prologue and epilogue), times the achievable fraction of peak, gives the rate. Small GEMMs
  therefore run far below peak and large ones at the measured maximum. A GEMM is never
  faster than reading and writing its three matrices at the achievable HBM bandwidth.
* Attention (fused, flash-style): 4·b·h·sq·skv·d FLOPs forward (half of that for causal
  masking, whose blocks the kernel skips), 2.5x forward for backward, at the measured forward
  and backward fractions, derated for short sequences.
* Memory-bound kernels (norms, activations, dropout, softmax, the optimizer step): bytes moved
  over the achievable HBM bandwidth.
* Every kernel takes at least ``kernel_floor_us``.
* Compute-bound work runs at the clock the GPU sustains at its power limit
  (``sustained_clock_fraction`` of the clock the datasheet peak assumes).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import yaml

from adapters.base import ComputeModel, ComputeRequest
from orchestrator.errors import InputError, not_text
from orchestrator.platforms.gpu import Gpu

TABLE_FILE = os.path.join(os.path.dirname(__file__), "efficiency.yaml")


@dataclass(frozen=True, slots=True)
class Efficiency:
    gemm_max: float
    tiles: tuple[tuple[int, int, float], ...]
    k_half: float
    attn_fwd: float
    attn_bwd: float
    seq_half: float
    memory: float
    floor_ns: float
    clock: float = 1.0


def load_efficiency(arch: str, path: str = TABLE_FILE) -> Efficiency:
    try:
        with open(path, encoding="utf-8") as handle:
            doc = yaml.safe_load(handle)
    except OSError as exc:
        raise InputError(f"cannot read the efficiency table ({exc.strerror})", path) from None
    except UnicodeDecodeError as exc:
        raise InputError(not_text(exc), path) from None
    if not isinstance(doc, dict) or arch not in doc:
        raise InputError(f"no efficiency entry for GPU architecture {arch!r}", path)
    entry: Any = doc[arch]
    try:
        gemm, attn = entry["gemm"], entry["attention"]
        return Efficiency(float(gemm["max_fraction"]),
                          tuple((int(t[0]), int(t[1]), float(t[2])) for t in gemm["tiles"]),
                          float(gemm["k_half"]), float(attn["fwd_fraction"]),
                          float(attn["bwd_fraction"]), float(attn["seq_half"]),
                          float(entry["memory_fraction"]),
                          float(entry["kernel_floor_us"]) * 1000.0,
                          float(entry.get("sustained_clock_fraction", 1.0)))
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise InputError(f"{arch}: bad or missing field ({exc})", path) from None


class GpuComputeModel(ComputeModel):
    """Kernel durations on one GPU in integer ns (pure: a function of the kernel alone)."""

    pure = True

    def __init__(self, gpu: Gpu, dtype: str = "bf16", efficiency: Efficiency | None = None
                 ) -> None:
        self.gpu = gpu
        self.dtype = dtype
        self.bytes_per_element = 1 if dtype == "fp8" else 4 if dtype in ("fp32", "tf32") else 2
        self.eff = efficiency or load_efficiency(gpu.arch)
        # what the tensor cores deliver at the clock held under sustained load
        self.datasheet_flops = gpu.peak(dtype) * 1e12
        self.peak_flops = self.datasheet_flops * self.eff.clock
        self.hbm_bytes_per_ns = gpu.hbm_gb_per_s * self.eff.memory      # GB/s == bytes/ns
        self.requests = 0

    # -- kernels ----------------------------------------------------------------------------
    def gemm_fraction(self, m: int, n: int, k: int, batch: int = 1) -> float:
        """The fraction of peak a GEMM of this shape reaches (before the memory bound)."""
        sms = self.gpu.sms
        best = 0.0
        for rows, cols, tile_eff in self.eff.tiles:
            tiles = batch * math.ceil(m / rows) * math.ceil(n / cols)
            waves = math.ceil(tiles / sms)
            used = batch * m * n / (waves * sms * rows * cols)
            best = max(best, used * tile_eff)
        return self.eff.gemm_max * best * k / (k + self.eff.k_half)

    def gemm_ns(self, m: int, n: int, k: int, batch: int = 1) -> int:
        if min(m, n, k, batch) <= 0:
            return 0
        flops = 2.0 * batch * m * n * k
        compute = flops / (self.peak_flops * self.gemm_fraction(m, n, k, batch)) * 1e9
        memory = batch * (m * k + k * n + m * n) * self.bytes_per_element / self.hbm_bytes_per_ns
        return self._floor(max(compute, memory))

    def attention_ns(self, batch_heads: int, seq_q: int, seq_kv: int, head_dim: int,
                     causal: bool, backward: bool) -> int:
        flops = 4.0 * batch_heads * seq_q * seq_kv * head_dim * (0.5 if causal else 1.0)
        fraction = self.eff.attn_bwd if backward else self.eff.attn_fwd
        if backward:
            flops *= 2.5
        fraction *= seq_kv / (seq_kv + self.eff.seq_half)
        return self._floor(flops / (self.peak_flops * fraction) * 1e9)

    def memory_ns(self, bytes_moved: float) -> int:
        return self._floor(bytes_moved / self.hbm_bytes_per_ns)

    def _floor(self, ns: float) -> int:
        return int(max(ns, self.eff.floor_ns))

    # -- the compute-adapter interface --------------------------------------------------------
    def duration_ns(self, request: ComputeRequest) -> int:
        self.requests += 1
        if request.kind == "gemm":
            return self.gemm_ns(request.m, request.n, request.k)
        if request.kind == "ops":
            compute = request.num_ops / (self.peak_flops * self.eff.gemm_max) * 1e9
            return self._floor(max(compute, request.tensor_bytes / self.hbm_bytes_per_ns))
        raise InputError(f"gpu model: request kind {request.kind!r} is not timed; expected "
                         "gemm or ops")

    def stats(self) -> dict[str, int]:
        return {"requests": self.requests}


def build_gpu_roofline(doc: dict[str, Any], source: str) -> GpuComputeModel:
    """The compute adapter (``--compute-backend gpu-roofline``): keys ``gpu`` (a name of
    orchestrator/platforms/gpus.yaml) and ``dtype`` (bf16, fp16, fp8, ...)."""
    from orchestrator.platforms.gpu import load_gpu
    unknown = sorted(set(doc) - {"gpu", "dtype"}, key=str)
    if unknown:
        raise InputError(f"gpu-roofline: unknown key(s) {', '.join(map(str, unknown))}; "
                         "expected gpu, dtype", source)
    if "gpu" not in doc:
        raise InputError("gpu-roofline: missing key gpu (e.g. h100-sxm5-80gb)", source)
    return GpuComputeModel(load_gpu(str(doc["gpu"])), str(doc.get("dtype", "bf16")))
