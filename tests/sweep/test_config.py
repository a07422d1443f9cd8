"""A trial's resolved config is self-contained (system and network read into mappings) and
its key changes exactly when something that can change the result changes."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from orchestrator.errors import InputError
from orchestrator.sweep.runner import make_trials
from orchestrator.sweep.spec import load_sweep
from tests.sweep.sweeps import TUTORIAL, write_sweep
from tests.workload import traces


def _trials(tmp_path: Path, body: str, **kwargs) -> list:
    return make_trials(load_sweep(write_sweep(tmp_path, body, **kwargs)))[0]


def test_file_sections_become_mappings_and_edits_land_in_them(tmp_path: Path) -> None:
    trials = _trials(tmp_path, "axes:\n  network.link-bandwidth[0]: [50, 12.5]\n"
                               "  system.all-reduce-implementation: [ring, direct]\n")
    assert len(trials) == 4
    config = trials[1].config
    assert config["network"] == {"backend": "analytical", "config": {
        "dimensions-count": 1, "topologies-per-dim": ["Ring"], "units-count": [8],
        "links-count": [2], "link-latency": [500], "link-bandwidth": [50]}}
    # the 1.0 system file, as the strings its lines hold
    assert config["system"]["all-reduce-implementation"] == "direct"
    assert config["system"]["endpoint-delay"] == "10"
    assert trials[3].config["network"]["config"]["link-bandwidth"] == [12.5]
    # the workload stays a path, relative to the sweep file
    assert os.path.normpath(os.path.join(tmp_path, config["workload"])) == \
        os.path.join(TUTORIAL, "inputs", "allreduce_1MiB.txt")
    assert len({trial.key for trial in trials}) == 4
    json.dumps(config)      # plain JSON data, storable as it is


def test_equal_configs_spelled_differently_share_a_key(tmp_path: Path) -> None:
    as_numbers = _trials(tmp_path, "axes:\n  options.comm_scale: [2]\n"
                                   "  system.endpoint-delay: [10]\n")
    as_text = _trials(tmp_path, "axes:\n  options.comm_scale: [2.0]\n"
                                "  system.endpoint-delay: ['10']\n")
    assert as_numbers[0].key == as_text[0].key
    # endpoint-delay 10 is the base's own value, comm_scale 1 the default: still the same run
    base_values = _trials(tmp_path, "axes:\n  options.comm_scale: [1]\n"
                                    "  system.endpoint-delay: [10]\n")
    default = _trials(tmp_path, "axes:\n  options.num_passes: [1]\n")
    assert base_values[0].key == default[0].key


def test_duplicate_points_run_once(tmp_path: Path) -> None:
    trials, notes = make_trials(load_sweep(write_sweep(
        tmp_path, "axes:\n  options.comm_scale: [1, 1.0, 2]\n")))
    assert len(trials) == 2
    assert any("1 point(s) resolve to a config another point already has" in n for n in notes)


def test_the_key_follows_the_workload_content_not_its_path(tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(Path(TUTORIAL), copy)
    body = "axes:\n  options.comm_scale: [1]\n"
    original = _trials(tmp_path, body)[0]
    moved = _trials(tmp_path, body, base=str(copy / "ex1.yaml"))[0]
    assert moved.key == original.key
    workload = copy / "inputs" / "allreduce_1MiB.txt"
    workload.write_text(workload.read_text().replace("1048576", "2097152"))
    assert _trials(tmp_path, body, base=str(copy / "ex1.yaml"))[0].key != original.key


def test_placement_is_not_part_of_the_key(tmp_path: Path) -> None:
    inline = (f"base:\n  workload: {TUTORIAL}/inputs/allreduce_1MiB.txt\n"
              f"  system: {TUTORIAL}/inputs/sys_ring.txt\n"
              "  network:\n    config: {c}\n    placement: {p}\n"
              "axes:\n  options.comm_scale: [1]\n")
    keys = []
    for placement in ("inprocess", "process"):
        path = tmp_path / f"{placement}.yaml"
        path.write_text(inline.format(c=f"{TUTORIAL}/inputs/ring8.json", p=placement))
        keys.append(make_trials(load_sweep(str(path)))[0][0].key)
    assert keys[0] == keys[1]


def test_a_whole_system_file_as_an_axis_value(tmp_path: Path) -> None:
    shutil.copy(Path(TUTORIAL, "inputs", "sys_direct.txt"), tmp_path / "direct.txt")
    trials = _trials(tmp_path, "axes:\n  system: [direct.txt]\n"
                               "  system.endpoint-delay: [20]\n")
    assert trials[0].config["system"]["all-reduce-implementation"] == "direct"
    assert trials[0].config["system"]["endpoint-delay"] == "20"


def test_an_index_past_the_end_is_an_error_naming_the_axis(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"s\.yaml: axes: network.link-bandwidth\[1\]: index 1 "
                                         r"is out of range; network.config.link-bandwidth has "
                                         r"1 item"):
        _trials(tmp_path, "axes:\n  network.link-bandwidth[1]: [1]\n")


def test_a_key_new_to_the_base_is_noted(tmp_path: Path) -> None:
    _, notes = make_trials(load_sweep(write_sweep(
        tmp_path, "axes:\n  system.seprate-log: [1]\n  options.comm_scale: [1]\n")))
    assert notes == [f"{tmp_path / 's.yaml'}: axes: system.seprate-log: not in the base "
                     "experiment; each trial adds it"]


def test_v2_inputs_json_system_and_yaml_network_become_mappings(tmp_path: Path) -> None:
    prefix = traces.write_micro(tmp_path, 8, traces.CT.ALL_REDUCE, 1 << 20, name="ar")
    sys_path, net_path = traces.write_configs(tmp_path)
    base = tmp_path / "base.yaml"
    base.write_text(f"workload: ar\nsystem: {Path(sys_path).name}\n"
                    f"network: {Path(net_path).name}\n")
    trials = _trials(tmp_path, "axes:\n  network.bandwidth[0]: [50.0, 100.0]\n"
                               "  system.all-reduce-implementation[0]: [ring, direct]\n",
                     base=str(base))
    config = trials[3].config
    assert config["workload"] == "ar" and Path(prefix).name == "ar"
    assert config["network"]["config"]["bandwidth"] == [100.0]
    assert config["system"]["all-reduce-implementation"] == ["direct"]
    assert config["system"]["local-mem-bw"] == 1600


def test_a_whole_network_as_an_axis_value(tmp_path: Path) -> None:
    shutil.copy(Path(TUTORIAL, "inputs", "switch8.json"), tmp_path / "switch8.json")
    inline = {"topologies-per-dim": ["FullyConnected"], "units-count": [8],
              "links-count": [7], "link-latency": [500], "link-bandwidth": [50]}
    trials = _trials(tmp_path, f"axes:\n  network: [switch8.json, {json.dumps(inline)}]\n")
    assert trials[0].config["network"]["config"]["topologies-per-dim"] == ["Switch"]
    assert trials[1].config["network"] == {"backend": "analytical", "config": inline}


def test_a_compute_config_file_travels_inside_the_trial(tmp_path: Path) -> None:
    base_dir = tmp_path / "exp"
    base_dir.mkdir()
    (base_dir / "compute.yaml").write_text("peak_tflops: 10\nlocal_mem_bw_gb_per_s: 100\n",
                                           encoding="utf-8")
    (base_dir / "exp.yaml").write_text(
        f"workload: {TUTORIAL}/inputs/allreduce_1MiB.txt\n"
        f"system: {TUTORIAL}/inputs/sys_ring.txt\nnetwork: {TUTORIAL}/inputs/ring8.json\n"
        "compute: {backend: roofline, config: compute.yaml}\n", encoding="utf-8")
    # the sweep file is elsewhere: the compute file is found next to the base experiment
    trials = _trials(tmp_path, "axes:\n  options.comm_scale: [1, 2]\n",
                     base=str(base_dir / "exp.yaml"))
    assert trials[0].config["compute"] == {"backend": "roofline", "config": {
        "peak_tflops": 10, "local_mem_bw_gb_per_s": 100}}
