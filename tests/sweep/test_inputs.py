"""Inputs named by content and laid out in a node's cache (no Ray needed)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from orchestrator.sweep import inputs


def _trace_set(folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    for npu in range(3):
        (folder / f"job.{npu}.et").write_bytes(f"trace {npu}".encode())
    (folder / "job.extra.et").write_bytes(b"not a member")     # no <npu>: not in the set
    return str(folder / "job")


def test_a_trace_set_is_its_members_by_name_and_sha256(tmp_path: Path) -> None:
    unit = inputs.describe_unit(_trace_set(tmp_path / "a"))
    assert [m.name for m in unit.members] == ["job.0.et", "job.1.et", "job.2.et"]
    assert unit.members[1].sha256 == hashlib.sha256(b"trace 1").hexdigest()
    # the same content elsewhere is the same unit; one changed byte is another
    assert inputs.describe_unit(_trace_set(tmp_path / "b")).digest == unit.digest
    (tmp_path / "b" / "job.2.et").write_bytes(b"trace 3")
    assert inputs.describe_unit(str(tmp_path / "b" / "job")).digest != unit.digest


def test_a_unit_is_fetched_once_per_node_and_keeps_its_names(tmp_path: Path) -> None:
    unit = inputs.describe_unit(_trace_set(tmp_path / "in"))
    fetches = []

    def fetch():
        fetches.append(1)
        return inputs.read_unit(unit)

    cache = str(tmp_path / "cache")
    prefix = inputs.materialise(unit, fetch, cache)
    assert os.path.basename(prefix) == "job" and not prefix.startswith(str(tmp_path / "in"))
    assert Path(prefix + ".1.et").read_bytes() == b"trace 1"
    assert not os.path.exists(prefix + ".extra.et")
    assert inputs.materialise(unit, fetch, cache) == prefix
    assert len(fetches) == 1
    # another unit sharing members fetches again (its layout is new) but stores no copy twice
    other = inputs.describe_unit(_trace_set(tmp_path / "in2"))
    assert inputs.materialise(other, fetch, cache) == prefix      # same content, same unit
    assert len(os.listdir(os.path.join(cache, "blobs"))) == 3


def test_a_member_with_other_content_than_its_digest_is_refused(tmp_path: Path) -> None:
    unit = inputs.describe_unit(_trace_set(tmp_path / "in"))
    with pytest.raises(RuntimeError, match="another content than its sha256"):
        inputs.materialise(unit, lambda: [(unit.members[0].sha256, b"tampered")],
                           str(tmp_path / "cache"))
    assert not os.path.isdir(os.path.join(tmp_path, "cache", "units", unit.digest))


def test_a_missing_workload_is_an_empty_unit_for_the_trial_to_report(tmp_path: Path) -> None:
    unit = inputs.describe_unit(str(tmp_path / "nothing"))
    assert unit.members == ()
    prefix = inputs.materialise(unit, lambda: [], str(tmp_path / "cache"))
    assert not os.path.exists(prefix + ".0.et")


def test_cached_paths_in_messages_become_the_drivers(tmp_path: Path) -> None:
    back = {"/cache/units/ab/job": "/home/me/sweep/job"}
    assert inputs.renamed("bad trace /cache/units/ab/job.3.et", back) == \
        "bad trace /home/me/sweep/job.3.et"
    assert inputs.renamed(None, back) is None


def test_slots_cover_workload_groups_and_option_files() -> None:
    config = {"workload": "w", "comm_group": "g.json",
              "network": {"config": {}, "options": {"topology_file": "t.txt", "seed": 1}}}
    assert inputs.input_slots(config) == [((), "workload"), ((), "comm_group"),
                                          (("network", "options"), "topology_file")]
    local = inputs.localised(config, {((), "workload"): "/c/w",
                                      (("network", "options"), "topology_file"): "/c/t.txt"})
    assert local["workload"] == "/c/w" and local["network"]["options"]["topology_file"] == "/c/t.txt"
    assert config["workload"] == "w"        # the trial's own config is left as it was


def test_a_searchs_model_file_travels_but_a_preset_name_does_not(tmp_path: Path) -> None:
    model = tmp_path / "tiny.yaml"
    model.write_text("layers: 2\n", encoding="utf-8")
    config = {"predict": {"model": str(model), "platform": "dgx-h100", "tp": 2}}
    assert inputs.input_slots(config) == [(("predict",), "model")]
    units = inputs.trial_units(config, str(tmp_path), {})
    unit = units[(("predict",), "model")]
    assert unit.stem == "tiny.yaml" and unit.members[0].sha256 == \
        hashlib.sha256(b"layers: 2\n").hexdigest()
