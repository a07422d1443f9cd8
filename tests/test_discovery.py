"""Help and discovery (issue 15, point 8): `list` names every backend and preset, every flag
of `run` and `collective` says what it does, and a mix of generations names the file and
the rule."""

from __future__ import annotations

import argparse
import os

import pytest

from orchestrator.cli.main import build_parser, main
from orchestrator.experiment.model import COMPUTE_BACKENDS, NETWORK_BACKENDS
from orchestrator.nccl.presets import PLATFORMS
from tests.workload import traces

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INPUTS = os.path.join(ROOT, "experiments", "tutorial", "inputs")


def test_list_shows_backends_and_platform_presets(capsys):
    assert main(["list"]) == 0
    text = capsys.readouterr().out
    sections = {}
    current = None
    for line in text.splitlines():
        if not line.startswith(" "):
            current = line.rstrip(":")
            sections[current] = []
        else:
            sections[current].append(line.split()[0])
    assert sections["network backends (--network-backend)"] == list(NETWORK_BACKENDS)
    assert sections["compute backends (--compute-backend)"] == list(COMPUTE_BACKENDS)
    assert sections["platform presets (astra-cosim collective --platform)"] == list(PLATFORMS)
    assert "DATA" in sections["training loops (workload header token)"]


def _subparser(name: str) -> argparse.ArgumentParser:
    parser = build_parser([])
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return commands.choices[name]


@pytest.mark.parametrize("command", ["run", "collective", "sweep", "report", "list"])
def test_every_flag_has_help(command):
    missing = [action.option_strings or action.dest
               for action in _subparser(command)._actions
               if action.help in (None, "") and action.dest != "help"]
    assert missing == []


def test_run_help_explains_the_scaling_flags(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for phrase in ("--num-passes N training iterations", "--comm-scale X multiply every "
                   "collective size", "--compute-scale X multiply every compute time",
                   "--injection-scale X multiply the system file's endpoint-delay",
                   "--comm-group FILE communicator groups"):
        assert phrase in text


def test_2x_traces_with_a_1_0_system_file_say_they_need_json(tmp_path, capsys):
    prefix = traces.write_micro(tmp_path, 8, traces.CT.ALL_REDUCE, 1 << 20)
    _, net_path = traces.write_configs(tmp_path)
    system = os.path.join(INPUTS, "sys_ring.txt")
    assert main(["run", "--workload", prefix, "--system", system, "--network", net_path,
                 "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err == (f"astra-cosim: error: {system}: this is a 1.0 system file (key: value "
                   "lines), but the workload is 2.x Chakra traces (PREFIX.<npu>.et): 2.x "
                   "traces need a JSON system file\n")


def test_a_1_0_workload_with_2x_files_names_the_file(tmp_path, capsys):
    sys_path, net_path = traces.write_configs(tmp_path)
    workload = os.path.join(INPUTS, "allreduce_1MiB.txt")
    assert main(["run", "--workload", workload, "--system", sys_path, "--network",
                 os.path.join(INPUTS, "ring8.json"), "--out", str(tmp_path / "a")]) == 2
    assert f"{sys_path}: this is a JSON system file" in capsys.readouterr().err
    assert main(["run", "--workload", workload, "--system", os.path.join(INPUTS, "sys_ring.txt"),
                 "--network", net_path, "--out", str(tmp_path / "b")]) == 2
    assert (f"{net_path}: this is a 2.x network YAML (topology, npus_count, bandwidth, "
            "latency), but the workload is a 1.0 text workload: 1.0 workloads need a 1.0 "
            "analytical network JSON") in capsys.readouterr().err
