"""Building a ``Topology`` as a RoCE fabric (``roce.cpp``): point-to-point links carry the
frames, and every node, NPU or switch, is a ``RoceFabric`` node that routes (shortest paths,
ECMP per queue pair), buffers with PFC accounting, marks ECN and runs the NICs' queue pairs.

No IP stack is installed: the fabric registers itself as the nodes' handler of the frames
PointToPointNetDevice delivers, so ns-3's queue discs and routing never see a packet.
"""

from __future__ import annotations

from typing import Any

from adapters.ns3.build import BuiltNetwork
from adapters.ns3.options import Ns3Options
from adapters.ns3.topology import Topology
from orchestrator.errors import InputError


def configure(settings: Any, options: Ns3Options) -> None:
    """Copy the options into the fabric's Config (units converted: Mb/s to bits/s)."""
    settings.mtu = options.roce_mtu_bytes
    settings.ackInterval = options.roce_ack_interval
    settings.rtoNs = options.roce_rto_ns
    settings.nackIntervalNs = options.roce_nack_interval_ns
    settings.pfc = options.pfc
    settings.bufferPerPort = options.buffer_bytes_per_port
    settings.pfcAlpha = options.pfc_dynamic_alpha
    settings.dcqcn = options.dcqcn
    settings.kmin = options.ecn_kmin_bytes
    settings.kmax = options.ecn_kmax_bytes
    settings.pmax = options.ecn_pmax
    settings.g = options.dcqcn_g
    settings.cnpIntervalNs = options.cnp_interval_ns
    settings.alphaTimerNs = options.dcqcn_alpha_timer_ns
    settings.rateTimerNs = options.dcqcn_rate_timer_ns
    settings.byteCounter = options.dcqcn_byte_counter_bytes
    settings.fastRecoverySteps = options.dcqcn_fast_recovery_steps
    settings.raiBps = options.dcqcn_rai_mbps * 1e6
    settings.rhaiBps = options.dcqcn_rhai_mbps * 1e6
    settings.minRateBps = options.dcqcn_min_rate_mbps * 1e6


def build_roce_network(ns: Any, roce: Any, topology: Topology,
                       options: Ns3Options) -> BuiltNetwork:
    nodes = ns.NodeContainer()
    nodes.Create(topology.nodes)
    fabric = roce.RoceFabric()
    configure(fabric.Settings(), options)
    for node in range(topology.nodes):
        fabric.AddNode(nodes.Get(node), node if node < topology.hosts else -1)
    p2p = ns.PointToPointHelper()
    p2p.SetDeviceAttribute("Mtu", ns.UintegerValue(9000))
    names: list[str] = []
    rates: list[int] = []
    for index, link in enumerate(topology.links):
        p2p.SetDeviceAttribute("DataRate", ns.DataRateValue(ns.DataRate(link.rate_bps)))
        p2p.SetChannelAttribute("Delay", ns.TimeValue(ns.NanoSeconds(link.delay_ns)))
        devices = p2p.Install(nodes.Get(link.a), nodes.Get(link.b))
        for side, (here, there) in enumerate(((link.a, link.b), (link.b, link.a))):
            fabric.AddPort(here, there, devices.Get(side), len(names))
            names.append(topology.link_name(index, side == 0))
            rates.append(link.rate_bps)
    error = str(fabric.Finish())
    if error:
        raise InputError(f"network.options.{error}", topology.source)
    return BuiltNetwork(nodes, fabric, names, rates)
