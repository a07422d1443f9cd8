"""``transport: roce`` (adapters/ns3/roce.cpp, docs/roce.md): queue pairs with go-back-N, PFC
that makes an incast lossless, DCQCN that shares a bottleneck fairly with a short queue, and
collectives that land where the analytical networks say, as the TCP path's do.

Every case is a few simulated milliseconds at most; the RoCE fabric compiles once per process
(about 5 s), on top of ns-3's import."""

from __future__ import annotations

import os

import pytest

from orchestrator.errors import InputError, SimulationError
from orchestrator.experiment.model import Experiment
from orchestrator.experiment.runner import simulate
from tests.adapters.ns3.conftest import requires_ns3
from tests.adapters.ns3.test_model import drive
from tests.workload.traces import CT, network as net_doc, run, system, write_micro

pytestmark = requires_ns3
MIB = 1 << 20
BYTES_PER_NS_50 = 50 * (1 << 30) / 1e9
FRAME = 4096 + 44 + 2      # payload, RoCEv2 headers, ns-3's point-to-point framing


def network(topology="Switch", npus=4, latency=500.0, **options):
    from adapters.ns3.model import build_ns3

    return build_ns3({"format": "v2", "network": {
        "topology": [topology], "npus_count": [npus], "bandwidth": [50.0],
        "latency": [latency]}, "options": {"transport": "roce", **options}}, "<test network>")


def test_one_message_takes_latency_plus_serialisation_plus_headers():
    model = network("Switch", 2)
    arrival = drive(model, [(7, 0, 1, MIB, 1000)])[7]
    wire = MIB / BYTES_PER_NS_50                          # 19 531 ns of payload
    framed = 256 * FRAME / BYTES_PER_NS_50                # 256 packets with their headers
    # packets are stored and forwarded one by one at the switch: one more packet time
    assert 1000 + 2 * 500 + framed < arrival < 1000 + 2 * 500 + framed + 2 * FRAME
    assert arrival > 1000 + 2 * 500 + wire
    stats = model.stats()
    assert stats["queue_pairs"] == 1 and stats["retransmissions"] == 0
    assert stats["pauses_sent"] == 0 and stats["cnps"] == 0


def _incast(**options):
    model = network("Switch", 17, **options)
    arrivals = drive(model, [(src, src, 0, MIB, 0) for src in range(1, 17)])
    return model, arrivals


@pytest.mark.parametrize("alpha", [0.0, 0.125, 1.0])
def test_incast_with_pfc_loses_nothing_and_keeps_the_bottleneck_busy(alpha):
    """16 NPUs send 1 MiB each to NPU 0 through one switch: the switch pauses the senders
    instead of dropping, and the port to NPU 0 never idles; with static XOFF thresholds (alpha
    0) and with dynamic ones."""
    model, arrivals = _incast(dcqcn=False, pfc_dynamic_alpha=alpha)
    assert sorted(arrivals) == list(range(1, 17))
    stats = model.stats()
    assert stats["drops"] == 0 and stats["retransmissions"] == 0 and stats["timeouts"] == 0
    assert stats["pauses_sent"] > 0
    assert all(stats[f"link_pauses_received/npu{src}->sw0"] > 0 for src in range(1, 17))
    goodput = 16 * MIB / BYTES_PER_NS_50 / max(arrivals.values())
    assert goodput >= 0.9, goodput
    # ingress accounting never exceeds the buffer: 1 MiB per port, 17 ports
    assert stats["link_max_queue_bytes/sw0->npu0"] <= 17 * MIB


def test_incast_without_pfc_drops_and_go_back_n_recovers():
    model, arrivals = _incast(pfc=False, dcqcn=False)
    assert sorted(arrivals) == list(range(1, 17))
    stats = model.stats()
    assert stats["drops"] > 0 and stats["link_drops/sw0->npu0"] == stats["drops"]
    assert stats["retransmissions"] >= stats["drops"]
    assert stats["nacks"] + stats["timeouts"] > 0 and stats["pauses_sent"] == 0
    # each port holds at most its own 1 MiB when nothing pauses
    assert stats["link_max_queue_bytes/sw0->npu0"] <= MIB


GBPS_40 = 40e9 / 8 / (1 << 30)     # the DCQCN paper's 40 Gb/s links, in the configs' GB/s


def _long_flows(flows: int, **options):
    """``flows`` NPUs start a long message each to NPU 0 over 40 Gb/s links (where the paper's
    DCQCN defaults apply as they are), 50 us apart; returns the model and the bytes each
    delivered in (10 ms, 20 ms], after the transient."""
    from adapters.ns3.model import build_ns3

    model = build_ns3({"format": "v2", "network": {
        "topology": ["Switch"], "npus_count": [flows + 1], "bandwidth": [GBPS_40],
        "latency": [500.0]}, "options": {"transport": "roce", **options}}, "<test network>")
    for src in range(1, flows + 1):
        model.inject(src, src, 0, 1 << 30, (src - 1) * 50_000)
    model.advance(10_000_000)
    start = [int(model.tracker.DeliveredBytes(src)) for src in range(1, flows + 1)]
    model.advance(20_000_000)
    end = [int(model.tracker.DeliveredBytes(src)) for src in range(1, flows + 1)]
    return model, [b - a for a, b in zip(start, end)]


def jain(values: list[int]) -> float:
    return sum(values) ** 2 / (len(values) * sum(v * v for v in values))


@pytest.mark.parametrize("flows", [2, 4, 8])
def test_dcqcn_shares_a_bottleneck_fairly_with_a_short_queue(flows):
    """Jain's index over the second 10 ms is >= 0.95 (measured 0.99-1.00). The paper's slow
    additive increase (40 Mb/s per 55 us) leaves the link partly idle after the first cuts
    (measured 60-80% busy over the first 20 ms, benchmarks/results.md), hence the loose floor
    on utilisation; the queue stays below Kmax (200 KiB) instead of at the PFC threshold."""
    model, delivered = _long_flows(flows)
    assert jain(delivered) >= 0.95, delivered
    assert sum(delivered) / (10_000_000 * GBPS_40 * (1 << 30) / 1e9) >= 0.5
    stats = model.stats()
    assert stats["cnps"] > 0 and stats["rate_cuts"] > 0 and stats["drops"] == 0
    assert stats["link_mean_queue_bytes/sw0->npu0"] < 200 * 1024


def test_without_dcqcn_the_queue_sits_at_the_pfc_threshold():
    model, delivered = _long_flows(4, dcqcn=False)
    stats = model.stats()
    assert stats["cnps"] == 0 and stats["pauses_sent"] > 0 and stats["drops"] == 0
    assert stats["link_mean_queue_bytes/sw0->npu0"] > 1 * MIB
    assert jain(delivered) >= 0.95    # PFC pauses every sender alike


def test_runs_are_deterministic():
    injections = [(op, op % 8, (op * 3 + 1) % 8, 100_000 + 977 * op, 50 * op)
                  for op in range(40) if op % 8 != (op * 3 + 1) % 8]
    first = drive(network("Switch", 8), injections)
    second = drive(network("Switch", 8), injections)
    assert first == second and len(first) == len(injections)


def test_a_clos_spreads_queue_pairs_over_both_spines(tmp_path):
    from adapters.ns3.model import build_ns3
    from tests.adapters.ns3.test_config import CLOS

    topology = tmp_path / "clos.txt"
    topology.write_text(CLOS, encoding="utf-8")
    model = build_ns3({"format": "v2", "network": {
        "topology": ["Switch"], "npus_count": [4], "bandwidth": [50.0], "latency": [500.0]},
        "options": {"topology_file": str(topology), "transport": "roce"}}, "<test>")
    arrivals = drive(model, [(op, op % 2, 2 + op % 2, 64 << 10, 0) for op in range(16)])
    assert len(arrivals) == 16 and min(arrivals.values()) > 2 * 500 + 2 * 1000
    stats = model.stats()
    # switch nodes: leaves sw0, sw1; spines sw2, sw3 (NPUs first, then switches)
    assert stats["link_bytes/sw0->sw2"] > 0 and stats["link_bytes/sw0->sw3"] > 0


def test_too_small_a_buffer_for_the_headroom_is_an_input_error():
    with pytest.raises(InputError, match="buffer_bytes_per_port: 4096 bytes .*expected at "
                                         "least"):
        network("Switch", 4, buffer_bytes_per_port=4096)


def test_watchdog_names_a_message_that_takes_too_long():
    model = network("Switch", 2, flow_timeout_ns=5_000)
    model.inject(9, 1, 0, MIB, 0)
    with pytest.raises(SimulationError, match=r"undelivered after 5000 ns .*op 9 NPU 1 -> 0"):
        model.advance(10**9)


MIB16 = 16 * MIB
COMM = {"all_reduce": CT.ALL_REDUCE, "all_to_all": CT.ALL_TO_ALL}
ALGORITHM = {"Ring": ("ring", "ring"), "Switch": ("halvingDoubling", "direct"),
             "FullyConnected": ("direct", "direct")}
COLLECTIVES = [(collective, topology, npus) for collective in COMM
               for topology in ALGORITHM for npus in (8, 16)]


@pytest.mark.parametrize("collective, topology, npus", COLLECTIVES)
def test_collectives_match_the_analytical_network(tmp_path, collective, topology, npus):
    """16 MiB on 50 GB/s, 500 ns links: within 15% of the congestion-aware network, except
    the halving-doubling all-reduce through a switch, where the aware model's store and
    forward of whole messages is physically wrong and the unaware one is the reference (as
    for TCP, tests/adapters/ns3/test_engine.py)."""
    prefix = write_micro(tmp_path, npus, COMM[collective], MIB16)
    algorithm, a2a = ALGORITHM[topology]
    sys_doc, net = system(algorithm, a2a), net_doc(topology, npus)
    unaware_is_right = topology == "Switch" and collective == "all_reduce"
    reference = run(prefix, sys_doc, net,
                    "analytical" if unaware_is_right else "analytical-aware").total_ns
    roce = simulate(Experiment(name=os.path.basename(prefix), workload=prefix, system=sys_doc,
                               network=net, network_backend="ns3",
                               network_options={"transport": "roce"}))
    assert abs(roce.total_ns / reference - 1) <= 0.15, (roce.total_ns, reference)
    stats = roce.adapter_stats["network"]
    assert stats["drops"] == 0 and stats["retransmissions"] == 0
    assert stats["queue_pairs"] == roce.cosim["network"]["messages"]


def test_vgg16_over_roce_writes_fabric_counters_into_links_csv_and_the_report(tmp_path):
    """experiments/ns3/vgg16_switch8_roce.yaml through the CLI: within 10% of the analytical
    network (measured 1 150 668 against 1 124 412 ns), and links.csv and `report` carry the
    fabric's per-link counters."""
    import csv
    import dataclasses
    import json
    import subprocess
    import sys
    from pathlib import Path

    from orchestrator.experiment.load import load_experiment

    yaml = Path(__file__).resolve().parents[3] / "experiments" / "ns3" / "vgg16_switch8_roce.yaml"
    out = tmp_path / "out"
    subprocess.run([sys.executable, "-m", "orchestrator", "run", str(yaml), "--out", str(out),
                    "--quiet"], check=True, cwd=tmp_path, timeout=600)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    analytical = simulate(dataclasses.replace(load_experiment(str(yaml)),
                                              network_backend="analytical",
                                              network_options={}))
    assert abs(summary["total_ns"] / analytical.total_ns - 1) <= 0.10
    assert summary["adapter_stats"]["network"]["transport_roce"] == 1
    with open(out / "links.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {"pauses_sent", "pauses_received", "ecn_marks", "drops", "max_queue_bytes",
            "mean_queue_bytes", "paused_ns"} <= set(rows[0])
    assert len(rows) == 16 and all(row["drops"] == "0" for row in rows)
    report = subprocess.run([sys.executable, "-m", "orchestrator", "report", str(out)],
                            check=True, cwd=tmp_path, timeout=120, capture_output=True,
                            text=True).stdout
    assert "PFC pauses sent" in report and "ECN marks" in report


def test_clos_all_to_all_with_and_without_dcqcn_and_pfc():
    """experiments/ns3/roce_clos (the experiment behind clos_a2a.png): on a 2:1
    oversubscribed Clos the lossless variants pause and never drop, DCQCN adds CNPs and is
    no slower, and the lossy fabric drops, resends and takes several times as long (measured
    641 050, 667 291 and 8 054 289 ns)."""
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[3] / "experiments/ns3/roce_clos/plot.py"
    spec = importlib.util.spec_from_file_location("roce_clos_plot", script)
    plot = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plot)
    dcqcn, pfc_only, lossy = plot.run()
    for row in (dcqcn, pfc_only):
        assert row["drops"] == 0 and row["retransmissions"] == 0 and row["pauses_sent"] > 0
    assert dcqcn["cnps"] > 0 and pfc_only["cnps"] == 0
    assert dcqcn["total_ns"] <= 1.05 * pfc_only["total_ns"]
    assert lossy["drops"] > 0 and lossy["retransmissions"] >= lossy["drops"]
    assert lossy["total_ns"] > 2 * dcqcn["total_ns"] and lossy["pauses_sent"] == 0


def test_two_dimensions(tmp_path):
    """A 4 x 4 Ring x Switch (50 and 25 GB/s, 500 and 700 ns), as the TCP path's test: routes
    cross both dimensions (ring NPUs relay with the same buffers and PFC as switches);
    measured 260 636 against the unaware 258 452 ns."""
    prefix = write_micro(tmp_path, 16, CT.ALL_REDUCE, 8 * MIB)
    net = net_doc(["Ring", "Switch"], [4, 4], [50.0, 25.0], [500.0, 700.0])
    sys_doc = system(["ring", "halvingDoubling"])
    unaware = run(prefix, sys_doc, net, "analytical").total_ns
    roce = simulate(Experiment(name="two_dimensions", workload=prefix, system=sys_doc,
                               network=net, network_backend="ns3",
                               network_options={"transport": "roce"}))
    assert abs(roce.total_ns / unaware - 1) <= 0.15, (roce.total_ns, unaware)
    assert roce.adapter_stats["network"]["links_used"] == 64
