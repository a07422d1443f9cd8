"""The ns-3 adapter's inputs, checked without ns-3: networks from the analytical configs, the
ASTRA-sim ns-3 topology file, options, and the message when ns-3 is missing."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from adapters.analytical.config_v1 import parse_v1_network
from adapters.analytical.config_v2 import parse_v2_network
from adapters.ns3.model import build_ns3
from adapters.ns3.options import parse_options
from adapters.ns3.topology import from_dimensions
from adapters.ns3.topology_file import parse_topology_file
from orchestrator.errors import InputError

PROJECT = Path(__file__).resolve().parents[3]
BYTES_PER_NS_50 = 50 * (1 << 30) / 1e9


def v2(topology, npus, bandwidth=50.0, latency=500.0):
    count = len(topology)
    return parse_v2_network({"topology": topology, "npus_count": npus,
                             "bandwidth": [bandwidth] * count, "latency": [latency] * count},
                            "<net>")


@pytest.mark.parametrize("shape, npus, links, switches", [
    ("Ring", 8, 8, 0), ("Ring", 2, 1, 0), ("FullyConnected", 8, 28, 0), ("Switch", 8, 8, 1),
])
def test_one_dimension(shape, npus, links, switches):
    topology = from_dimensions(v2([shape], [npus]))
    assert (topology.hosts, len(topology.links), topology.switches) == (npus, links, switches)
    assert {link.rate_bps for link in topology.links} == {round(BYTES_PER_NS_50 * 8e9)}
    assert topology.min_delay_ns() == 500


def test_two_dimensions_repeat_each_shape_per_group():
    # 4 x 2: dimension 0 is 2 Switches of 4 NPUs (0-3, 4-7), dimension 1 is 4 Rings of 2
    topology = from_dimensions(v2(["Switch", "Ring"], [4, 2]))
    assert topology.hosts == 8 and topology.switches == 2
    switch_links = sorted((link.a, link.b) for link in topology.links if link.b >= 8)
    assert switch_links == [(0, 8), (1, 8), (2, 8), (3, 8), (4, 9), (5, 9), (6, 9), (7, 9)]
    ring_links = sorted((link.a, link.b) for link in topology.links if link.b < 8)
    assert ring_links == [(0, 4), (1, 5), (2, 6), (3, 7)]


def test_v1_links_count_multiplies_bandwidth_as_the_analytical_network_does():
    doc = {"dimensions-count": 1, "topologies-per-dim": ["Ring"], "units-count": [8],
           "links-count": [2], "link-latency": [500], "link-bandwidth": [50]}
    ring = from_dimensions(parse_v1_network(doc, "<net>"))
    assert {link.rate_bps for link in ring.links} == {round(2 * BYTES_PER_NS_50 * 8e9)}
    doc.update({"topologies-per-dim": ["FullyConnected"], "links-count": [14]})
    full = from_dimensions(parse_v1_network(doc, "<net>"))
    assert {link.rate_bps for link in full.links} == {round(2 * BYTES_PER_NS_50 * 8e9)}


CLOS = """\
# a two-level Clos: 4 NPUs, 2 leaves, 2 spines
8 4 8
4 5 6 7
0 4 400Gbps 500ns 0
1 4 400Gbps 500ns 0
2 5 400Gbps 500ns 0
3 5 400Gbps 500ns 0
4 6 800Gbps 0.001ms 0
4 7 800Gbps 0.001ms 0
5 6 800Gbps 0.001ms 0
5 7 800Gbps 0.001ms 0
"""


def test_topology_file_numbers_npus_first_then_switches():
    topology = parse_topology_file(CLOS, "clos.txt")
    assert (topology.hosts, topology.switches, len(topology.links)) == (4, 4, 8)
    assert topology.links[0].rate_bps == 400 * 10**9
    assert topology.links[4].delay_ns == 1000
    assert topology.min_delay_ns() == 500


def _with_line(number: int, replacement: str) -> str:
    lines = CLOS.splitlines()
    lines[number - 1] = replacement
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("text, line, words", [
    (_with_line(2, "8 4"), 2, "expected three whole numbers"),
    (_with_line(3, "4 5 6"), 3, "expected 4"),
    (_with_line(5, "1 4 fast 500ns 0"), 5, "rate: found 'fast'"),
    (_with_line(6, "2 5 400Gbps 1.5ns 0"), 6, "whole number of ns"),
    (_with_line(7, "3 5 400Gbps 500ns 0.01"), 7, "expected 0"),
    (_with_line(8, "4 9 800Gbps 1us 0"), 8, "node 9 does not exist"),
    (_with_line(9, "4 7 800Gbps 1us"), 9, "expected 'node node rate delay error_rate'"),
    (_with_line(10, "4 6 800Gbps 1us 0"), 10, "a second link between nodes 4 and 6"),
    (CLOS + "5 6 1Gbps 1us 0\n", 12, "expected 8"),
])
def test_bad_topology_file_names_the_line(text, line, words):
    with pytest.raises(InputError) as error:
        parse_topology_file(text, "clos.txt")
    assert error.value.path == "clos.txt" and error.value.line == line
    assert words in str(error.value)


def test_an_npu_without_links_is_an_error():
    text = "3 1 1\n2\n0 2 1Gbps 1us 0\n"
    with pytest.raises(InputError, match="NPU 1 .node 1. has no link"):
        parse_topology_file(text, "t.txt")


@pytest.mark.parametrize("options, words", [
    ({"queue": 5}, "unknown key: found 'queue'"),
    ({"transport": "udp"}, "transport: found 'udp'; expected one of roce, tcp"),
    ({"tcp_variant": "Reno"}, "tcp_variant: found 'Reno'"),
    ({"mtu_bytes": 100}, "mtu_bytes: found 100; expected a whole number from 576"),
    ({"segment_bytes": 9000}, "does not fit an MTU of 9000"),
    ({"switch_queue_packets": True}, "switch_queue_packets: found True"),
    ("fast", "expected a mapping"),
])
def test_bad_options(options, words):
    with pytest.raises(InputError, match=None) as error:
        parse_options(options, "exp.yaml")
    assert words in str(error.value)


def test_default_segment_leaves_room_for_headers():
    assert parse_options({}, "x").segment_size == 8920
    assert parse_options({"mtu_bytes": 1500}, "x").segment_size == 1420


def test_bad_document():
    with pytest.raises(InputError, match="format: found 'v3'; expected v1 or v2"):
        build_ns3({"format": "v3", "network": {}, "options": {}}, "<ns3>")
    with pytest.raises(InputError, match="unknown key 'net'"):
        build_ns3({"format": "v2", "net": {}}, "<ns3>")


def test_missing_ns3_names_the_install_command(tmp_path):
    """The CLI with ns-3 hidden from imports: one line naming pip install astra-cosim[ns3]."""
    script = textwrap.dedent(f"""
        import importlib.abc, sys
        class Hide(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name in ("ns", "cppyy"):
                    raise ModuleNotFoundError(name)
                return None
        sys.meta_path.insert(0, Hide())
        import importlib.util
        real = importlib.util.find_spec
        importlib.util.find_spec = lambda name, *a: (None if name in ("ns", "cppyy")
                                                     else real(name, *a))
        from orchestrator.cli.main import main
        sys.exit(main(["run", {str(PROJECT / "experiments/tutorial/ex1.yaml")!r},
                       "--network-backend", "ns3", "--out", {str(tmp_path / "out")!r}, "--quiet"]))
        """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120, env=os.environ | {"PYTHONPATH": str(PROJECT)})
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install astra-cosim[ns3]" in lines[0], done.stderr


def _cli(tmp_path, *extra):
    """The CLI on exercise 1 with the ns3 backend; options are checked before ns-3 loads."""
    return subprocess.run([sys.executable, "-m", "orchestrator", "run",
                           str(PROJECT / "experiments/tutorial/ex1.yaml"), "--network-backend",
                           "ns3", "--out", str(tmp_path / "out"), "--quiet", *extra],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)


def test_cli_unknown_network_option(tmp_path):
    done = _cli(tmp_path, "--network-option", "queue_size=10")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        done.stderr.strip()] and "unknown key: found 'queue_size'" in done.stderr


def test_cli_bad_topology_file_names_its_line(tmp_path):
    topology = tmp_path / "fabric.txt"
    topology.write_text(_with_line(6, "2 5 400Gbps soon 0"), encoding="utf-8")
    done = _cli(tmp_path, "--network-option", f"topology_file={topology}")
    assert done.returncode == 2
    assert f"{topology}:6: delay: found 'soon'" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("options, words", [
    ({"transport": "roce", "tcp_variant": "Cubic"},
     "tcp_variant applies to transport tcp, not roce"),
    ({"pfc": False}, "pfc applies to transport roce, not tcp"),
    ({"transport": "roce", "roce_mtu_bytes": 8192}, "roce_mtu_bytes: found 8192; expected a "
                                                      "whole number from 256 to 4096"),
    ({"transport": "roce", "ecn_pmax": 2}, "ecn_pmax: found 2; expected a number from 0 to 1"),
    ({"transport": "roce", "dcqcn": "yes"}, "dcqcn: found 'yes'; expected true or false"),
    ({"transport": "roce", "ecn_kmin_bytes": 300_000}, "ecn_kmin_bytes: 300000 is not below "
                                                       "ecn_kmax_bytes"),
])
def test_bad_roce_options(options, words):
    with pytest.raises(InputError) as error:
        parse_options(options, "exp.yaml")
    assert words in str(error.value)


def test_roce_options_convert_and_default():
    options = parse_options({"transport": "roce", "ecn_pmax": 0, "dcqcn_rai_mbps": 5}, "x")
    assert (options.ecn_pmax, options.dcqcn_rai_mbps) == (0.0, 5.0)
    assert (options.pfc, options.dcqcn, options.roce_mtu_bytes) == (True, True, 4096)
