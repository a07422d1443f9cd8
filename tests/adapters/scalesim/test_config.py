"""The adapter's configuration: SCALE-Sim .cfg keys, the preset, and bad input."""

from __future__ import annotations

import sys

import pytest

from adapters.registry import build_compute
from adapters.scalesim.config import parse_config
from orchestrator.errors import InputError


def test_the_tpu_preset_is_google_cfg_of_scalesim_v2(tmp_path) -> None:
    config, cache = parse_config({"preset": "tpu-256x256-ws", "cache": str(tmp_path / "c.db")},
                                 "x.yaml")
    assert (config.array_height, config.array_width, config.dataflow) == (256, 256, "ws")
    assert (config.ifmap_sram_kb, config.filter_sram_kb, config.ofmap_sram_kb) == \
        (6144, 6144, 2048)
    assert (config.bandwidth_words_per_cycle, config.interface_bandwidth) == (10, "CALC")
    assert cache == str(tmp_path / "c.db")


def test_keys_after_a_preset_override_it() -> None:
    config, cache = parse_config({"preset": "tpu-256x256-ws", "ArrayWidth": 128,
                                  "Dataflow": "os", "cache": "off"}, "x.yaml")
    assert (config.array_height, config.array_width, config.dataflow) == (256, 128, "os")
    assert cache is None


@pytest.mark.parametrize("doc, message", [
    ({"preset": "tpu-256x256-ws", "ArrayHieght": 4}, "unknown key(s) ArrayHieght"),
    ({"preset": "tpu"}, "preset: found 'tpu'; expected one of tpu-256x256-ws"),
    ({"ArrayHeight": 8}, "missing key ArrayWidth"),
    ({"ArrayHeight": 8, "ArrayWidth": 0}, "ArrayWidth: found 0; expected a whole number >= 1"),
    ({"preset": "tpu-256x256-ws", "Dataflow": "rs"}, "Dataflow: found 'rs'; expected one of os"),
    ({"preset": "tpu-256x256-ws", "InterfaceBandwidth": "USER"}, "mode fold is exact only"),
    ({"preset": "tpu-256x256-ws", "cache": 3}, "cache: found 3"),
    ({"ArrayHeight": 8, "ArrayWidth": 8, "InterfaceBandwidth": "USER", "Bandwidth": 12},
     "Bandwidth (12 words/cycle) must split evenly over IfmapSRAMBankNum (10 banks)"),
])
def test_bad_configurations_are_refused_with_the_reason(doc, message) -> None:
    with pytest.raises(InputError, match="^x.yaml: scalesim: ") as error:
        parse_config(doc, "x.yaml")
    assert message in str(error.value)


def test_scalesim_missing_names_the_install_command(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "scalesim", None)        # import scalesim -> ImportError
    monkeypatch.setitem(sys.modules, "scalesim.layout_utils", None)
    with pytest.raises(InputError, match=r"pip install 'astra-cosim\[scalesim\]'"):
        build_compute("scalesim", {"preset": "tpu-256x256-ws", "cache": "off"}, "exp.yaml")
