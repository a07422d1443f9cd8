"""The Garnet network the adapter asks gem5 to build, worked out without gem5: clock and flit
width from bandwidth, cycles from latency, one router per node, one interface per NPU link,
credit buffers covering a link's round trip, packets and flits per message, and the one-line
errors for what the backend cannot model. Runs everywhere (no gem5 needed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.garnet.locate import BUILD_COMMAND, Gem5Unavailable, find_gem5
from adapters.garnet.model import build_garnet, build_plan
from orchestrator.errors import InputError, SimulationError
from tests.workload.traces import network


def _plan(topology, npus=8, bandwidth=50.0, latency=500.0, options=None):
    net = network(topology, npus, bandwidth, latency)
    return build_plan({"format": "v2", "network": net, "options": options or {}}, "net.yml")[0]


def test_bandwidth_becomes_width_times_clock():
    plan = _plan("Ring")
    # 50 GB/s = 50 * 2**30 bytes/s = 53.687 bytes/ns; 64-byte flits -> 1.192 ns per cycle
    assert (plan.flit_bytes, plan.period_ps) == (64, 1192)
    assert plan.bytes_per_ns == pytest.approx(53.687, rel=1e-3)
    # 500 ns of link latency -> 419 cycles each way
    assert {cycles for _, _, cycles in plan.int_links} == {419}


def test_a_fixed_clock_gives_the_width():
    plan = _plan("Ring", options={"clock_ghz": 2.0})
    assert (plan.period_ps, plan.flit_bytes) == (500, 27)       # 53.687 bytes/ns * 0.5 ns


@pytest.mark.parametrize("topology, routers, interfaces, links", [
    ("Ring", 8, 16, 16), ("Switch", 9, 8, 16), ("FullyConnected", 8, 56, 56)])
def test_routers_interfaces_and_links(topology, routers, interfaces, links):
    plan = _plan(topology)
    assert plan.routers == routers
    assert len(plan.interfaces) == interfaces
    assert len(plan.int_links) == links               # two directions per link


def test_messages_leave_and_enter_by_the_links_of_their_route():
    plan = _plan("Ring")
    # NPU 0's interfaces are its links to 1 (interface 0) and to 7 (interface 1)
    assert plan.route_ports(0, 1)[0] == 0
    assert plan.route_ports(0, 7)[0] == 1
    assert plan.route_ports(0, 3)[0] == 0
    # the message from 0 to 1 arrives over 1's link from 0, the one from 2 over its other one
    assert plan.route_ports(0, 1)[1] != plan.route_ports(2, 1)[1]
    fc = _plan("FullyConnected")
    assert len({fc.route_ports(0, dst)[0] for dst in range(1, 8)}) == 7


def test_buffers_and_vcs_cover_a_round_trip():
    """500 ns at 50 GB/s is 419 cycles a way: every VC holds a round trip of flits, and there
    are enough VCs that waiting for one costs a 65-flit packet at most 5% (R / V <= 3.25)."""
    plan = _plan("Ring")
    round_trip = 2 * (419 + 1 + 2) + 4
    assert plan.buffers_per_vc == round_trip
    assert plan.vcs_per_vnet == -(-round_trip * 20 // 65) == 261
    assert round_trip / plan.vcs_per_vnet <= 0.05 * 65
    short = _plan("Ring", latency=1.0)
    assert (short.vcs_per_vnet, short.buffers_per_vc) == (4, 12)
    given = _plan("Ring", options={"buffers_per_vc": 8, "vcs_per_vnet": 6})
    assert (given.buffers_per_vc, given.vcs_per_vnet) == (8, 6)


def test_packets_and_flits():
    plan = _plan("Ring")
    assert plan.flits_per_packet == 65                      # a head flit and 4096 / 64
    assert plan.packets(1 << 20) == (256, 0)
    assert plan.packets(4096 + 100) == (1, 2)               # 100 bytes in two 64-byte flits
    assert plan.packets(0) == (0, 1)
    assert plan.flits(4096 + 100) == 67


def test_two_dimensions_and_their_limits():
    plan = _plan(["Ring", "Switch"], [4, 2], [50.0, 50.0], [500.0, 200.0])
    assert plan.routers == 8 + 4                             # one switch per pair
    assert len(plan.interfaces) == 8 * 3
    with pytest.raises(InputError, match="same bandwidth"):
        _plan(["Ring", "Switch"], [4, 2], [50.0, 25.0], [500.0, 200.0])


def test_bad_options_are_one_line_errors():
    with pytest.raises(InputError, match=r"network.options: unknown key 'flit' .*flit_bytes"):
        _plan("Ring", options={"flit": 3})
    with pytest.raises(InputError, match=r"network.options.vcs_per_vnet: found -1"):
        _plan("Ring", options={"vcs_per_vnet": -1})


def test_a_missing_build_names_the_build_command(tmp_path):
    with pytest.raises(Gem5Unavailable) as raised:
        find_gem5(str(tmp_path / "gem5.opt"))
    message = str(raised.value)
    assert BUILD_COMMAND in message and "\n" not in message


def test_a_gem5_that_fails_is_one_line_quoting_its_log(tmp_path):
    fake = tmp_path / "gem5.opt"
    fake.write_text("#!/bin/sh\necho 'fatal: no CosimInjector in this build'\nexit 3\n")
    fake.chmod(0o755)
    doc = {"format": "v2", "network": network("Ring", 4), "options": {"gem5": str(fake)}}
    with pytest.raises(SimulationError) as raised:
        build_garnet(doc, "net.yml")
    message = str(raised.value)
    assert "exit status 3" in message and "no CosimInjector in this build" in message
    assert "\n" not in message


def test_a_topology_file_gives_the_fabric(tmp_path):
    """Four NPUs under two leaf switches and a spine (ASTRA-sim's ns-3 format)."""
    path = tmp_path / "clos.txt"
    path.write_text("7 3 6\n4 5 6\n0 4 400Gbps 500ns 0\n1 4 400Gbps 500ns 0\n"
                    "2 5 400Gbps 500ns 0\n3 5 400Gbps 500ns 0\n4 6 400Gbps 500ns 0\n"
                    "5 6 400Gbps 500ns 0\n")
    plan = _plan("Ring", 4, options={"topology_file": str(path)})
    assert (plan.npus, plan.routers, len(plan.interfaces)) == (4, 7, 4)
    assert plan.bytes_per_ns == pytest.approx(50.0, rel=1e-3)         # 400 Gb/s
    with pytest.raises(InputError, match="4 NPUs but the network config has 8"):
        _plan("Ring", 8, options={"topology_file": str(path)})


def test_the_cli_without_a_build_fails_in_one_line(tmp_path):
    project = Path(__file__).resolve().parents[3]
    env = dict(os.environ, ASTRA_GEM5=str(tmp_path / "no-gem5.opt"))
    done = subprocess.run([sys.executable, "-m", "orchestrator", "run",
                           str(project / "experiments" / "tutorial" / "ex1.yaml"),
                           "--network-backend", "garnet", "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and BUILD_COMMAND in lines[0] and "no-gem5.opt" in lines[0]
