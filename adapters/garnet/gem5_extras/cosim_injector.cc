/* astra-cosim: see cosim_injector.hh for what this SimObject is for. */

#include "cosim_injector.hh"

#include "base/logging.hh"
#include "base/trace.hh"
#include "debug/CosimInjector.hh"
#include "mem/ruby/protocol/MachineType.hh"
#include "mem/ruby/slicc_interface/AbstractController.hh"
#include "sim/sim_exit.hh"

namespace gem5
{

namespace ruby
{

void
CosimPacket::print(std::ostream &out) const
{
    out << "[CosimPacket message=" << m_message_id << "]";
}

CosimInjector::CosimInjector(const Params &p)
    : ClockedObject(p), Consumer(this),
      m_to_net(p.to_net), m_from_net(p.from_net),
      m_exit_on_arrival(p.exit_on_arrival)
{
    fatal_if(p.endpoints.size() != p.to_net.size() ||
             p.endpoints.size() != p.from_net.size(),
             "%s: endpoints, to_net and from_net differ in length", name());
    // The network object is built before this one (it is a parameter),
    // and its constructor has already let the protocol controllers
    // register their own buffers; registering ours afterwards replaces
    // theirs on this virtual network, so the controllers stay idle.
    for (size_t i = 0; i < p.endpoints.size(); ++i) {
        MachineID id = p.endpoints[i]->getMachineID();
        m_endpoint_ids.push_back(id);
        NodeID global = MachineType_base_number(id.getType()) + id.getNum();
        p.network->setToNetQueue(global, false, p.vnet, p.vnet_type,
                                 m_to_net[i]);
        p.network->setFromNetQueue(global, false, p.vnet, p.vnet_type,
                                   m_from_net[i]);
        m_from_net[i]->setConsumer(this);
    }
}

void
CosimInjector::inject(uint64_t message_id, int src, int dst,
                      uint64_t data_packets, uint64_t ctrl_packets)
{
    fatal_if(src < 0 || src >= (int)m_to_net.size() ||
             dst < 0 || dst >= (int)m_to_net.size(),
             "%s: endpoint out of range (src %d dst %d)", name(), src, dst);
    fatal_if(data_packets + ctrl_packets == 0,
             "%s: message %d has no packets", name(), message_id);
    fatal_if(m_remaining.count(message_id),
             "%s: message id %d injected twice", name(), message_id);
    m_remaining[message_id] = data_packets + ctrl_packets;

    NetDest dest;
    dest.add(m_endpoint_ids[dst]);
    // One cycle from the injector to the interface, like a controller.
    Tick delay = cyclesToTicks(Cycles(1));
    for (uint64_t k = 0; k < data_packets + ctrl_packets; ++k) {
        MessageSizeType size = k < data_packets ? MessageSizeType_Data
                                                : MessageSizeType_Control;
        m_to_net[src]->enqueue(
            std::make_shared<CosimPacket>(curTick(), message_id, dest, size),
            curTick(), delay);
    }
    DPRINTF(CosimInjector, "message %d: %d -> %d, %d+%d packets\n",
            message_id, src, dst, data_packets, ctrl_packets);
}

void
CosimInjector::wakeup()
{
    Tick now = curTick();
    for (MessageBuffer *buffer : m_from_net) {
        while (buffer->isReady(now)) {
            auto packet =
                std::dynamic_pointer_cast<CosimPacket>(buffer->peekMsgPtr());
            panic_if(!packet, "%s: foreign message on the co-sim vnet",
                     name());
            buffer->dequeue(now);
            ++m_delivered_packets;
            auto it = m_remaining.find(packet->messageId());
            panic_if(it == m_remaining.end(), "%s: unknown message %d",
                     name(), packet->messageId());
            if (--it->second == 0) {
                m_arrivals.emplace_back(packet->messageId(), now);
                m_remaining.erase(it);
                // Hand control back to the driver once per tick with
                // completions: it may have to stop short of its target.
                if (m_exit_on_arrival && m_last_exit_tick != now) {
                    m_last_exit_tick = now;
                    exitSimLoop("cosim arrival", 0, now);
                }
                DPRINTF(CosimInjector, "message %d delivered\n",
                        packet->messageId());
            }
        }
    }
}

void
CosimInjector::print(std::ostream &out) const
{
    out << "[CosimInjector " << name() << "]";
}

} // namespace ruby
} // namespace gem5
