"""One layer through SCALE-Sim 3.0, in-process and without files: the only module that
imports ``scalesim``.

The cycle count is SCALE-Sim's ``total_cycles`` (``Total Cycles`` of COMPUTE_REPORT.csv; v3
puts a new ``Total Cycles (incl. prefetch)`` column before it). That is the column ASTRA-sim's
generator read from SCALE-Sim v2 (SEMANTICS §6). ``get_total_cycles()`` of SCALE-Sim's
top-level class is broken in 3.0.0, so the single-layer simulator is driven directly.

A GEMM (M, N, K) is SCALE-Sim's GEMM row: IFMAP M x K, a 1 x K filter, one channel, N
filters, stride 1 (what ``load_arrays_gemm`` builds from an M,N,K topology file).

``fold`` mode: the systolic array processes a layer as ``ceil(Sr/rows) * ceil(Sc/cols)``
folds, each ``T + constant`` demand lines long, where (Sr, Sc, T) is (K, N, M) for ``ws``,
(M, N, K) for ``os`` and (K, M, N) for ``is``. Without memory stalls (CALC bandwidth) the
total is ``folds * (one fold's cycles + 1 + T - T') - 1``, with one fold simulated at
T' = min(T, rows). SCALE-Sim still decides the per-fold cost; we only skip repeating it.
"""

from __future__ import annotations

import contextlib
import io
import math
import warnings
from dataclasses import dataclass

from adapters.base import ComputeRequest
from adapters.scalesim.config import ScaleSimConfig
from orchestrator.errors import InputError

INSTALL_HINT = "pip install 'astra-cosim[scalesim]'"
# A full simulation keeps three demand matrices of (lines x array width) float64 and the
# operand matrices; past this many bytes it would not fit beside other work on a workstation.
FULL_MODE_LIMIT_BYTES = 4 << 30

_simulations = 0


def simulation_count() -> int:
    """SCALE-Sim layer simulations run by this process (the cache tests count them)."""
    return _simulations


@dataclass(frozen=True, slots=True)
class Layer:
    """A SCALE-Sim topology row."""

    ifmap_h: int
    ifmap_w: int
    filter_h: int
    filter_w: int
    channels: int
    filters: int
    stride: int = 1

    @property
    def ofmap_pixels(self) -> int:
        # SCALE-Sim's own rounding: ceil((ifmap - filter + stride) / stride)
        out_h = math.ceil((self.ifmap_h - self.filter_h + self.stride) / self.stride)
        out_w = math.ceil((self.ifmap_w - self.filter_w + self.stride) / self.stride)
        return out_h * out_w

    def as_gemm(self) -> tuple[int, int, int]:
        """(M, N, K): ofmap pixels, filters, window size."""
        return self.ofmap_pixels, self.filters, self.filter_h * self.filter_w * self.channels


def gemm_layer(m: int, n: int, k: int) -> Layer:
    return Layer(m, k, 1, k, 1, n, 1)


def request_layer(request: ComputeRequest, source: str) -> Layer:
    """The SCALE-Sim layer a request describes; shapes SCALE-Sim would assert on are errors."""
    if request.kind == "gemm":
        dims = {"m": request.m, "n": request.n, "k": request.k}
        layer = gemm_layer(request.m, request.n, request.k)
    elif request.kind == "conv":
        dims = {"ifmap_h": request.ifmap_h, "ifmap_w": request.ifmap_w,
                "filter_h": request.filter_h, "filter_w": request.filter_w,
                "channels": request.channels, "filters": request.filters,
                "stride": request.stride}
        layer = Layer(request.ifmap_h, request.ifmap_w, request.filter_h, request.filter_w,
                      request.channels, request.filters, request.stride)
    else:
        raise InputError(f"scalesim: a {request.kind!r} request has no shape SCALE-Sim can "
                         "simulate; expected a gemm or conv request", source)
    bad = [name for name, value in dims.items() if value < 1]
    if bad:
        raise InputError(f"scalesim: {request.kind} request with {', '.join(bad)} < 1: "
                         f"{dims}", source)
    if layer.filter_h > layer.ifmap_h or layer.filter_w > layer.ifmap_w:
        raise InputError(f"scalesim: conv filter {layer.filter_h}x{layer.filter_w} larger than "
                         f"its IFMAP {layer.ifmap_h}x{layer.ifmap_w}", source)
    return layer


def _import_scalesim(source: str):
    try:
        import numpy
        from scalesim.layout_utils import layouts
        from scalesim.scale_config import scale_config
        from scalesim.single_layer_sim import single_layer_sim
        from scalesim.topology_utils import topologies
    except ImportError as exc:
        raise InputError(f"scalesim: SCALE-Sim is not installed ({exc}): {INSTALL_HINT}",
                         source) from None
    major, minor = (int(part) for part in numpy.__version__.split(".")[:2])
    if (major, minor) >= (2, 4):
        raise InputError(f"scalesim: SCALE-Sim 3.0.0 needs numpy<2.4, found numpy "
                         f"{numpy.__version__}: {INSTALL_HINT}", source)
    return scale_config, topologies, layouts, single_layer_sim


def check_available(source: str) -> None:
    """Fail now, naming the install command, rather than at the first request."""
    _import_scalesim(source)


def _run_scalesim(config: ScaleSimConfig, layer: Layer, source: str) -> int:
    global _simulations
    scale_config, topologies, layouts, single_layer_sim = _import_scalesim(source)
    cfg = scale_config()
    cfg.array_rows, cfg.array_cols = config.array_height, config.array_width
    cfg.ifmap_sz_kb = config.ifmap_sram_kb
    cfg.filter_sz_kb = config.filter_sram_kb
    cfg.ofmap_sz_kb = config.ofmap_sram_kb
    cfg.df = config.dataflow
    cfg.use_user_bandwidth = config.interface_bandwidth == "USER"
    cfg.bandwidths = [config.bandwidth_words_per_cycle]
    cfg.ifmap_sram_bank_bandwidth = config.bandwidth_words_per_cycle
    cfg.filter_sram_bank_bandwidth = config.bandwidth_words_per_cycle
    cfg.ifmap_sram_bank_num = config.ifmap_sram_banks
    cfg.filter_sram_bank_num = config.filter_sram_banks
    cfg.valid_conf_flag = True
    topology = topologies()
    topology.load_layer_params_from_list("layer", [
        "layer", layer.ifmap_h, layer.ifmap_w, layer.filter_h, layer.filter_w, layer.channels,
        layer.filters, layer.stride, layer.stride, 1, 1])
    topology.topo_calc_hyperparams()
    simulator = single_layer_sim()
    # SCALE-Sim prints progress notes, and numpy warns about its array-to-int conversions
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        simulator.set_params(layer_id=0, config_obj=cfg, topology_obj=topology,
                             layout_obj=layouts(), verbose=False)
        try:
            simulator.run()
            cycles = simulator.get_compute_report_items()[1]
        except AssertionError as exc:            # SCALE-Sim checks its inputs with asserts
            raise InputError(f"scalesim: SCALE-Sim refused {layer}: {exc}", source) from None
    _simulations += 1
    return int(cycles)


def _fold_geometry(config: ScaleSimConfig, m: int, n: int, k: int
                   ) -> tuple[int, int, tuple[int, int, int]]:
    """(folds, T, the representative fold's GEMM (M', N', K')) for the dataflow."""
    rows, cols = config.array_height, config.array_width
    if config.dataflow == "ws":
        spatial_rows, spatial_cols, temporal = k, n, m
        fold = (min(m, rows), min(n, cols), min(k, rows))
        fold_temporal = fold[0]
    elif config.dataflow == "os":
        spatial_rows, spatial_cols, temporal = m, n, k
        fold = (min(m, rows), min(n, cols), min(k, rows))
        fold_temporal = fold[2]
    else:
        spatial_rows, spatial_cols, temporal = k, m, n
        fold = (min(m, cols), min(n, rows), min(k, rows))
        fold_temporal = fold[1]
    folds = math.ceil(spatial_rows / rows) * math.ceil(spatial_cols / cols)
    return folds, temporal - fold_temporal, fold


def _full_mode_bytes(config: ScaleSimConfig, m: int, n: int, k: int) -> int:
    folds, extra, _ = _fold_geometry(config, m, n, k)
    width = max(config.array_height, config.array_width)
    lines = folds * (extra + 2 * config.array_height + config.array_width + width)
    return 8 * (3 * lines * width + m * k + k * n + m * n)


def layer_cycles(config: ScaleSimConfig, layer: Layer, source: str) -> int:
    """SCALE-Sim's cycle count for one layer, in the configured mode."""
    m, n, k = layer.as_gemm()
    if config.mode == "full":
        needed = _full_mode_bytes(config, m, n, k)
        if needed > FULL_MODE_LIMIT_BYTES:
            raise InputError(f"scalesim: a full simulation of GEMM M={m} N={n} K={k} needs "
                             f"about {needed >> 30} GiB; use mode: fold (exact with "
                             "InterfaceBandwidth: CALC)", source)
        return _run_scalesim(config, layer, source)
    folds, extra, (fold_m, fold_n, fold_k) = _fold_geometry(config, m, n, k)
    one_fold = _run_scalesim(config, gemm_layer(fold_m, fold_n, fold_k), source)
    return folds * (one_fold + 1 + extra) - 1
