# astra-cosim: declaration of the CosimInjector SimObject (see cosim_injector.hh).
from m5.objects.ClockedObject import ClockedObject
from m5.params import *
from m5.proxy import *
from m5.SimObject import PyBindMethod


class CosimInjector(ClockedObject):
    """Injects co-simulation messages into a Ruby/Garnet network.

    Each endpoint is one network interface: endpoint i owns to_net[i]
    (where its packets wait for the interface) and from_net[i] (where
    the interface delivers packets). The controllers in ``endpoints`` only
    give each interface its Ruby node id; the injector takes over the
    virtual network ``vnet`` of each of them.
    """

    type = "CosimInjector"
    cxx_header = "cosim_injector.hh"
    cxx_class = "gem5::ruby::CosimInjector"

    network = Param.RubyNetwork("the Ruby network to inject into")
    endpoints = VectorParam.RubyController("one controller per interface")
    to_net = VectorParam.MessageBuffer("per endpoint: injector -> network")
    from_net = VectorParam.MessageBuffer("per endpoint: network -> injector")
    vnet = Param.Int(2, "virtual network used for all packets")
    vnet_type = Param.String("response", "'response' selects data VCs")
    exit_on_arrival = Param.Bool(
        True, "leave the simulation loop at each tick that completes a message"
    )

    cxx_exports = [
        PyBindMethod("inject"),
        PyBindMethod("numArrivals"),
        PyBindMethod("arrivalId"),
        PyBindMethod("arrivalTick"),
        PyBindMethod("clearArrivals"),
        PyBindMethod("pendingMessages"),
        PyBindMethod("deliveredPackets"),
    ]
