"""ASTRA-sim 2.x's roofline: an operation runs at min(peak, memory bandwidth x intensity).

For a Chakra COMP node (``ops`` request) this is upstream's formula, bit for bit:
time = num_ops / min(local_mem_bw * num_ops / tensor_size, peak), truncated to whole ns.
A GEMM is 2*M*N*K operations over its three matrices (``bytes_per_element`` each); a
convolution is its equivalent GEMM (im2col), so every request kind has an answer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from adapters.base import NEVER, ComputeModel, ComputeRequest
from orchestrator.errors import InputError


@dataclass(frozen=True, slots=True)
class RooflineConfig:
    peak_tflops: float
    local_mem_bw_gb_per_s: float
    bytes_per_element: int = 2

    KEYS = ("peak_tflops", "local_mem_bw_gb_per_s", "bytes_per_element")


def conv_as_gemm(request: ComputeRequest) -> tuple[int, int, int]:
    """(M, N, K) of a convolution lowered to a GEMM, as SCALE-Sim's im2col view does."""
    out_h = (request.ifmap_h - request.filter_h) // request.stride + 1
    out_w = (request.ifmap_w - request.filter_w) // request.stride + 1
    return (out_h * out_w, request.filters,
            request.filter_h * request.filter_w * request.channels)


class RooflineModel(ComputeModel):
    pure = True

    def __init__(self, config: RooflineConfig) -> None:
        self.config = config
        self.requests = 0

    def duration_ns(self, request: ComputeRequest) -> int:
        self.requests += 1
        if request.kind == "ops":
            return self.runtime_ns(request.num_ops, request.tensor_bytes)
        if request.kind == "gemm":
            m, n, k = request.m, request.n, request.k
        elif request.kind == "conv":
            m, n, k = conv_as_gemm(request)
        else:
            raise InputError(f"roofline: unknown request kind {request.kind!r}; expected one "
                             f"of {', '.join(ComputeRequest.KINDS)}")
        element = self.config.bytes_per_element
        return self.runtime_ns(2 * m * n * k, (m * k + k * n + m * n) * element)

    def runtime_ns(self, num_ops: int, tensor_bytes: int) -> int:
        if num_ops <= 0:              # no work (a GEMM with a zero side): 0/0 otherwise
            return 0
        config = self.config
        intensity = num_ops / tensor_bytes if tensor_bytes else float("inf")
        perf = min(config.local_mem_bw_gb_per_s * 1e9 * intensity, config.peak_tflops * 1e12)
        seconds_ns = num_ops / perf * 1e9 if perf > 0 else math.inf
        # beyond the clock (a tiny peak or bandwidth: float infinity, which int() cannot
        # take): NEVER, which the engine reports as a run too long to give a result
        return int(seconds_ns) if seconds_ns < NEVER else NEVER

    def stats(self) -> dict[str, int]:
        return {"requests": self.requests}


def build_roofline(doc: dict[str, Any], source: str) -> RooflineModel:
    unknown = sorted(set(doc) - set(RooflineConfig.KEYS), key=str)
    if unknown:
        raise InputError(f"roofline: unknown key(s) {', '.join(map(str, unknown))}; expected "
                         f"{', '.join(RooflineConfig.KEYS)}", source)
    try:
        config = RooflineConfig(float(doc["peak_tflops"]), float(doc["local_mem_bw_gb_per_s"]),
                                int(doc.get("bytes_per_element", 2)))
    except KeyError as exc:
        raise InputError(f"roofline: missing key {exc.args[0]}", source) from None
    except (TypeError, ValueError) as exc:
        raise InputError(f"roofline: {exc}", source) from None
    if not (config.peak_tflops > 0 and config.local_mem_bw_gb_per_s > 0) or \
            math.isinf(config.peak_tflops) or math.isinf(config.local_mem_bw_gb_per_s) or \
            config.bytes_per_element <= 0:
        raise InputError("roofline: peak_tflops, local_mem_bw_gb_per_s and bytes_per_element "
                         "must be positive and finite", source)
    return RooflineModel(config)
