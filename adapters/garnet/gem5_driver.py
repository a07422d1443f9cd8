"""The script gem5 runs for the Garnet adapter (``gem5.opt gem5_driver.py CONFIG IN_FD OUT_FD``).

It runs inside gem5's embedded Python, which has ``m5`` but not the project's dependencies, so
it imports nothing from the project and speaks a small line protocol on two inherited pipe
descriptors (stdout and stderr stay gem5's own, for its log):

    request:  R <limit_tick> <lead_ticks> <n>      then n lines: <op> <src> <dst> <full> <single> <tick>
    reply:    A <n> <next>                          then n lines: <op> <tick>
    request:  S                                     reply: S <delivered_packets> <tick>
    request:  Q                                     (exit)

``R`` queues n injections (network interfaces, full and single-flit packet counts, the gem5
tick to inject at) and runs gem5 over every event before ``limit_tick``, but no further than
``lead_ticks`` past the earliest delivery found on the way; with nothing in flight or queued it
does not run at all (gem5's clock then waits for the next injection). The reply lists
the deliveries (message, tick its last packet reached the interface's buffer) and ``next``: 1
while messages are in flight or queued, 0 when gem5 has nothing to do. Any failure is one line
``E <text>`` and the end of the process.
"""

import heapq
import json
import sys

import m5
from m5.objects import (CosimInjector, Directory_Controller, GarnetExtLink, GarnetIntLink,
                        GarnetNetwork, GarnetNetworkInterface, GarnetRouter, MessageBuffer,
                        Root, RubySystem, SrcClockDomain, System, VoltageDomain)

VNETS = 3           # the Garnet_standalone protocol's virtual networks (request, forward, data)
DATA_VNET = 2       # the one carrying our packets: "response", Garnet's deep data VCs


def build(config):
    """The System with a Ruby/Garnet network and the injector; returns the injector."""
    system = System()
    system.voltage_domain = VoltageDomain()
    clock = f"{config['period_ps']}ps"
    system.clk_domain = SrcClockDomain(clock=clock, voltage_domain=system.voltage_domain)
    ruby = RubySystem(block_size_bytes=config["block_size_bytes"],
                      number_of_virtual_networks=VNETS, num_of_sequencers=0)
    system.ruby = ruby
    ruby.clk_domain = SrcClockDomain(clock=clock, voltage_domain=system.voltage_domain)
    width = config["flit_bytes"]
    network = GarnetNetwork(
        ruby_system=ruby, topology="astra-cosim", number_of_virtual_networks=VNETS,
        ni_flit_size=width, vcs_per_vnet=config["vcs_per_vnet"],
        buffers_per_data_vc=config["buffers_per_vc"], buffers_per_ctrl_vc=1,
        routing_algorithm=0, control_msg_size=width, data_msg_size=config["packet_bytes"],
        # Garnet panics when an interface finds no free VC for this many cycles in a row,
        # which a long contended message can do legitimately; the adapter's own watchdog
        # (message_timeout_ns) bounds a real deadlock instead
        garnet_deadlock_threshold=(1 << 31) - 1,      # an int in Garnet
        routers=[], ext_links=[], int_links=[], netifs=[])
    ruby.network = network
    interfaces = config["interfaces"]
    # placeholder controllers: they give each interface a Ruby node; the injector takes over
    # their data virtual network, so they never see a message
    endpoints = [Directory_Controller(version=i, ruby_system=ruby,
                                      requestToDir=MessageBuffer(),
                                      forwardToDir=MessageBuffer(),
                                      responseToDir=MessageBuffer())
                 for i in range(len(interfaces))]
    ruby.cosim_endpoints = endpoints
    routers = [GarnetRouter(router_id=i, latency=config["router_latency_cycles"])
               for i in range(config["routers"])]
    network.routers = routers
    network.ext_links = [GarnetExtLink(link_id=i, ext_node=endpoints[i],
                                       int_node=routers[router], latency=1)
                         for i, router in enumerate(interfaces)]
    network.int_links = [GarnetIntLink(link_id=len(interfaces) + i, src_node=routers[a],
                                       dst_node=routers[b], latency=cycles, weight=1)
                         for i, (a, b, cycles) in enumerate(config["int_links"])]
    network.netifs = [GarnetNetworkInterface(id=i, virt_nets=VNETS,
                                             vcs_per_vnet=config["vcs_per_vnet"])
                      for i in range(len(interfaces))]
    system.cosim = CosimInjector(network=network, endpoints=endpoints, vnet=DATA_VNET,
                                 to_net=[MessageBuffer() for _ in interfaces],
                                 from_net=[MessageBuffer() for _ in interfaces])
    root = Root(full_system=False, system=system)
    m5.ticks.setGlobalFrequency("1ps")
    m5.instantiate()
    return root.system.cosim


class Driver:
    def __init__(self, injector):
        self.injector = injector
        self.queued = []            # heap of (tick, op, src, dst, full, single)

    def _advance_through(self, tick, found, target, lead):
        """Run the events up to and including ``tick`` (gem5 may stop earlier, at a tick
        that delivered a message); collect what was delivered and return the target, pulled
        in to ``lead`` past the earliest delivery."""
        now = m5.curTick()
        if tick > now:
            event = m5.simulate(tick - now)
            cause = event.getCause()
            if cause not in ("cosim arrival", "simulate() limit reached"):
                raise RuntimeError(f"gem5 stopped at tick {m5.curTick()}: {cause}")
        injector = self.injector
        count = injector.numArrivals()
        if count == 0:
            return target
        for i in range(count):
            found.append((injector.arrivalId(i), injector.arrivalTick(i)))
        injector.clearArrivals()
        bound = min(tick for _, tick in found) + lead
        return min(target, bound)

    def run(self, limit, lead):
        """Inject what is due and run every event before ``limit``, but no further than
        ``lead`` ticks past the earliest delivery; returns (deliveries, busy)."""
        found = []
        target = limit
        while self.queued or self.injector.pendingMessages():
            if self.queued and self.queued[0][0] < target:
                tick = self.queued[0][0]
                if tick > m5.curTick():
                    target = self._advance_through(tick, found, target, lead)
                    continue        # stopped at a delivery, or reached the injection's tick
                _, op, src, dst, full, single = heapq.heappop(self.queued)
                self.injector.inject(op, src, dst, full, single)
                continue
            if m5.curTick() >= target - 1:
                break
            target = self._advance_through(target - 1, found, target, lead)
        busy = 1 if self.queued or self.injector.pendingMessages() else 0
        return found, busy


def serve(driver, incoming, outgoing):
    def reply(text):
        outgoing.write(text)
        outgoing.flush()

    while True:
        line = incoming.readline()
        if not line or line.startswith("Q"):
            return
        head = line.split()
        if head[0] == "S":
            reply(f"S {driver.injector.deliveredPackets()} {m5.curTick()}\n")
            continue
        if head[0] != "R":
            reply(f"E unknown request {line.strip()!r}\n")
            return
        limit, lead, count = int(head[1]), int(head[2]), int(head[3])
        for _ in range(count):
            op, src, dst, full, single, tick = map(int, incoming.readline().split())
            if tick < m5.curTick():
                reply(f"E message {op} injected at tick {tick}, before gem5's tick "
                      f"{m5.curTick()}\n")
                return
            heapq.heappush(driver.queued, (tick, op, src, dst, full, single))
        found, busy = driver.run(limit, lead)
        lines = [f"A {len(found)} {busy}\n"] + [f"{op} {tick}\n" for op, tick in found]
        reply("".join(lines))


def main(argv):
    config_path, in_fd, out_fd = argv[1], int(argv[2]), int(argv[3])
    outgoing = open(out_fd, "w", buffering=1 << 16)
    try:
        with open(config_path) as handle:
            config = json.load(handle)
        injector = build(config)
        outgoing.write("READY\n")
        outgoing.flush()
        with open(in_fd, "r") as incoming:
            serve(Driver(injector), incoming, outgoing)
    except Exception as error:          # one line for the adapter, whatever went wrong
        outgoing.write(f"E {type(error).__name__}: {error}\n".replace("\n", " ") + "\n")
        outgoing.flush()
        raise


if __name__ == "__m5_main__" or __name__ == "__main__":
    main(sys.argv)
