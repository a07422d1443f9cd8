"""Building a ``Topology`` in ns-3: nodes, point-to-point links, IPv4 routing, TCP defaults.

Every node (NPU or switch) gets an IPv4 stack and forwards: switches are routers, and NPUs of
a Ring or FullyConnected dimension relay as the analytical model's routes do. Each link is its
own /30 subnet and routes are ns-3's global (shortest-path) routing. The traffic-control
layer's default queue disc (FqCoDel) is removed so that each port is one drop-tail queue of
the configured size, like a switch port buffer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.ns3.options import Ns3Options
from adapters.ns3.topology import Topology


@dataclass
class BuiltNetwork:
    nodes: Any                 # ns.NodeContainer
    tracker: Any               # astra_ns3.FlowTracker
    link_names: list[str]      # per link direction, index = the tracker's link id
    link_rates_bps: list[int]


def _tcp_defaults(ns: Any, options: Ns3Options) -> None:
    set_default = ns.Config.SetDefault
    variant = getattr(ns, f"Tcp{options.tcp_variant}").GetTypeId()
    set_default("ns3::TcpL4Protocol::SocketType", ns.TypeIdValue(variant))
    set_default("ns3::TcpSocket::SegmentSize", ns.UintegerValue(options.segment_size))
    set_default("ns3::TcpSocket::SndBufSize", ns.UintegerValue(options.tcp_buffer_bytes))
    set_default("ns3::TcpSocket::RcvBufSize", ns.UintegerValue(options.tcp_buffer_bytes))
    set_default("ns3::TcpSocket::DelAckCount", ns.UintegerValue(1))
    set_default("ns3::TcpSocket::InitialCwnd", ns.UintegerValue(options.initial_cwnd_segments))
    set_default("ns3::TcpSocketBase::MinRto", ns.TimeValue(ns.NanoSeconds(options.min_rto_ns)))
    set_default("ns3::TcpSocketBase::ClockGranularity", ns.TimeValue(ns.NanoSeconds(1000)))


def build_network(ns: Any, tracker_namespace: Any, topology: Topology,
                  options: Ns3Options) -> BuiltNetwork:
    _tcp_defaults(ns, options)
    nodes = ns.NodeContainer()
    nodes.Create(topology.nodes)
    ns.InternetStackHelper().Install(nodes)
    tracker = tracker_namespace.FlowTracker()
    p2p = ns.PointToPointHelper()
    p2p.SetDeviceAttribute("Mtu", ns.UintegerValue(options.mtu_bytes))
    addresses = ns.Ipv4AddressHelper()
    addresses.SetBase(ns.Ipv4Address("10.0.0.0"), ns.Ipv4Mask("255.255.255.252"))
    control = ns.TrafficControlHelper()
    host_addresses: list[list[Any]] = [[] for _ in range(topology.hosts)]
    names: list[str] = []
    rates: list[int] = []
    for index, link in enumerate(topology.links):
        p2p.SetDeviceAttribute("DataRate", ns.DataRateValue(ns.DataRate(link.rate_bps)))
        p2p.SetChannelAttribute("Delay", ns.TimeValue(ns.NanoSeconds(link.delay_ns)))
        devices = p2p.Install(nodes.Get(link.a), nodes.Get(link.b))
        interfaces = addresses.Assign(devices)
        addresses.NewNetwork()
        control.Uninstall(devices)
        for side, node in enumerate((link.a, link.b)):
            device = devices.Get(side)
            size = options.host_queue_packets if node < topology.hosts \
                else options.switch_queue_packets
            queue = ns.DynamicCast[ns.PointToPointNetDevice](device).GetQueue()
            queue.SetMaxSize(ns.QueueSize(f"{size}p"))
            tracker.AddLinkDirection(device, len(names))
            names.append(topology.link_name(index, side == 0))
            rates.append(link.rate_bps)
            if node < topology.hosts:
                host_addresses[node].append(interfaces.GetAddress(side))
        tracker.WatchChannel(devices.Get(0).GetChannel())
    for node in range(topology.nodes):
        tracker.WatchNode(nodes.Get(node))
    for host in range(topology.hosts):
        if not host_addresses[host]:
            raise ValueError(f"NPU {host} has no link")
        tracker.AddHost(nodes.Get(host), host_addresses[host][0])
        for address in host_addresses[host]:
            tracker.AddHostAddress(host, address)
    ns.Ipv4GlobalRoutingHelper.PopulateRoutingTables()
    tracker.Listen()
    return BuiltNetwork(nodes, tracker, names, rates)
