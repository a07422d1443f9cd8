"""The command line's ``--placement`` wins over an experiment's ``endpoint:``, and an endpoint
whose host does not resolve fails at once, naming the host (issue 15, point 2)."""

from __future__ import annotations

import json
import os
import socket
import time

import pytest

from adapters.ns3.loader import ns3_available
from orchestrator.cli.main import main
from orchestrator.cosim.endpoints import check_resolvable, host_of
from orchestrator.errors import InputError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ADAPTER_STACK = os.path.join(ROOT, "experiments", "containers", "analytical-adapter.yaml")
NS3_STACK = os.path.join(ROOT, "experiments", "containers", "ns3.yaml")
UNRESOLVABLE = "no-such-host.invalid"          # RFC 2606: .invalid never resolves


def test_placement_process_replaces_the_files_endpoint(tmp_path, capsys):
    """The stack's file names tcp://analytical:5555 (a compose service); --placement process
    runs the adapter as a child instead and gives exercise 1's total."""
    out = tmp_path / "run"
    assert main(["run", ADAPTER_STACK, "--placement", "process", "--out", str(out),
                 "--quiet"]) == 0
    with open(out / "summary.json", encoding="utf-8") as handle:
        summary = json.load(handle)
    assert summary["total_ns"] == 45681
    assert summary["cosim"]["network"]["endpoint"].startswith("tcp://127.0.0.1:")


@pytest.mark.skipif(not ns3_available(), reason="ns-3's Python bindings are not installed "
                    "(pip install astra-cosim[ns3]; CI installs them in .ci/steps/20-ns3.sh)")
def test_the_ns3_stack_runs_with_placement_process(tmp_path):
    """The issue's own example: the ns-3 stack's file names tcp://ns3:5555; with --placement
    process ns-3 runs in a child here and gives the container stack's total."""
    out = tmp_path / "run"
    started = time.monotonic()
    assert main(["run", NS3_STACK, "--placement", "process", "--out", str(out),
                 "--quiet"]) == 0
    with open(out / "summary.json", encoding="utf-8") as handle:
        summary = json.load(handle)
    assert summary["total_ns"] == 46921                  # as README's ns-3 stack prints
    assert summary["cosim"]["network"]["endpoint"].startswith("tcp://127.0.0.1:")
    assert time.monotonic() - started < 120


def test_the_ns3_stack_without_compose_fails_at_once_naming_ns3(tmp_path, capsys):
    try:
        socket.getaddrinfo("ns3", 5555)
        pytest.skip("'ns3' resolves here (inside a compose network?)")
    except OSError:
        pass
    started = time.monotonic()
    assert main(["run", NS3_STACK, "--out", str(tmp_path / "out")]) == 2
    assert time.monotonic() - started < 10
    err = capsys.readouterr().err
    assert "host 'ns3' does not resolve" in err and "--placement process" in err
    assert err.count("\n") == 1


def test_an_unresolvable_endpoint_fails_at_once_naming_its_host(tmp_path, capsys):
    experiment = tmp_path / "exp.yaml"
    experiment.write_text(open(ADAPTER_STACK, encoding="utf-8").read().replace(
        "tcp://analytical:5555", f"tcp://{UNRESOLVABLE}:5555").replace(
        "../tutorial/", os.path.join(ROOT, "experiments", "tutorial") + "/"), encoding="utf-8")
    started = time.monotonic()
    assert main(["run", str(experiment), "--out", str(tmp_path / "out")]) == 2
    assert time.monotonic() - started < 10          # not the 30 s adapter timeout
    err = capsys.readouterr().err
    assert f"host '{UNRESOLVABLE}' does not resolve" in err and err.count("\n") == 1


def test_adapter_flag_endpoint_is_checked_too(tmp_path, capsys):
    assert main(["run", ADAPTER_STACK, "--adapter", f"network=tcp://{UNRESOLVABLE}:1",
                 "--out", str(tmp_path / "out")]) == 2
    assert f"network adapter endpoint tcp://{UNRESOLVABLE}:1" in capsys.readouterr().err


def test_host_of_endpoints():
    assert host_of("tcp://ns3:5555") == "ns3"
    assert host_of("tcp://[::1]:5555") == "::1"
    assert host_of("ipc:///tmp/a.sock") is None
    check_resolvable("tcp://127.0.0.1:5555", "network")      # resolves: no error
    check_resolvable("ipc:///tmp/x.sock", "network")
    with pytest.raises(InputError, match="host 'x.invalid'"):
        check_resolvable("tcp://x.invalid:1", "compute")
