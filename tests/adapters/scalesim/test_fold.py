"""Fold mode equals a full SCALE-Sim run wherever SCALE-Sim is stall-free (CALC bandwidth).

Small arrays make many folds cheap to simulate fully; the identity does not depend on the
array size, and the preset (256x256) relies on it for GPT-3's GEMMs.
"""

from __future__ import annotations

import random

import pytest

from adapters.base import ComputeRequest
from adapters.registry import build_compute
from orchestrator.errors import InputError


def _model(mode: str, dataflow: str, rows: int = 8, cols: int = 6):
    return build_compute("scalesim", {"ArrayHeight": rows, "ArrayWidth": cols,
                                      "Dataflow": dataflow, "mode": mode, "cache": "off"})


@pytest.mark.parametrize("dataflow", ["ws", "os", "is"])
def test_fold_mode_equals_full_simulation(scalesim_available, dataflow) -> None:
    rng = random.Random(7)
    full, fold = _model("full", dataflow), _model("fold", dataflow)
    shapes = [ComputeRequest.gemm(*(rng.randint(1, 30) for _ in range(3))) for _ in range(12)]
    shapes.append(ComputeRequest("conv", ifmap_h=9, ifmap_w=7, filter_h=3, filter_w=2,
                                 channels=3, filters=10, stride=2))
    assert fold.durations_ns(shapes) == full.durations_ns(shapes)
    assert fold.stats()["simulations"] == len(shapes)


def test_weight_stationary_cycles_follow_the_fold_structure(scalesim_available) -> None:
    """WS on R x C: each fold loads weights (R lines), streams M rows and drains
    (R + C - 2 lines); SCALE-Sim counts the last line's index."""
    model = _model("full", "ws", rows=16, cols=16)
    for m, n, k in [(5, 16, 16), (40, 20, 33), (17, 48, 3)]:
        folds = -(-k // 16) * -(-n // 16)
        assert model.duration_ns(ComputeRequest.gemm(m, n, k)) == \
            folds * (2 * 16 + 16 + m - 2) - 1


def test_a_layer_too_big_for_a_full_run_asks_for_fold_mode(scalesim_available) -> None:
    model = _model("full", "ws", rows=256, cols=256)
    with pytest.raises(InputError, match="use mode: fold"):
        model.duration_ns(ComputeRequest.gemm(32768, 768, 12288))


def test_requests_without_a_shape_are_refused(scalesim_available) -> None:
    with pytest.raises(InputError, match="has no shape SCALE-Sim can simulate"):
        _model("fold", "ws").duration_ns(ComputeRequest.ops(1000, 64))
    with pytest.raises(InputError, match="k < 1"):
        _model("fold", "ws").duration_ns(ComputeRequest.gemm(4, 4, 0))


def test_user_bandwidth_stalls_where_calc_does_not(scalesim_available) -> None:
    """With USER bandwidth SCALE-Sim models the memory interface: 10 words per cycle and 1 kB
    buffers starve an 8x8 array, so the same GEMM takes longer than in CALC mode."""
    request = ComputeRequest.gemm(64, 32, 48)
    calc = _model("full", "ws", rows=8, cols=8).duration_ns(request)
    user = build_compute("scalesim", {"ArrayHeight": 8, "ArrayWidth": 8,
                                      "InterfaceBandwidth": "USER", "Bandwidth": 10,
                                      "IfmapSramSzkB": 1, "FilterSramSzkB": 1,
                                      "OfmapSramSzkB": 1, "cache": "off"})
    assert calc == 6 * 4 * (2 * 8 + 8 + 64 - 2) - 1           # 24 folds of 86 lines
    assert user.duration_ns(request) > calc
