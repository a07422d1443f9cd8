/*
 * astra-cosim: a SimObject that turns co-simulation messages
 * (source interface, destination interface, packet counts) into Ruby
 * network messages and reports the tick at which the last packet of each
 * message has been delivered. It bypasses Ruby ports, sequencers and
 * coherence protocols: the protocol's controllers only exist so that the
 * network has nodes to attach interfaces to.
 */

#ifndef __ASTRA_COSIM_COSIM_INJECTOR_HH__
#define __ASTRA_COSIM_COSIM_INJECTOR_HH__

#include <cstdint>
#include <unordered_map>
#include <utility>
#include <vector>

#include "mem/ruby/common/Consumer.hh"
#include "mem/ruby/network/MessageBuffer.hh"
#include "mem/ruby/network/Network.hh"
#include "mem/ruby/slicc_interface/Message.hh"
#include "params/CosimInjector.hh"
#include "sim/clocked_object.hh"

namespace gem5
{

namespace ruby
{

/** One network packet of a co-simulation message. */
class CosimPacket : public Message
{
  public:
    CosimPacket(Tick now, uint64_t message_id, const NetDest &dest,
                MessageSizeType size)
        : Message(now), m_message_id(message_id), m_dest(dest),
          m_size(size)
    { }

    MsgPtr clone() const override
    { return std::make_shared<CosimPacket>(*this); }

    void print(std::ostream &out) const override;

    const MessageSizeType &getMessageSize() const override { return m_size; }
    MessageSizeType &getMessageSize() override { return m_size; }
    const NetDest &getDestination() const override { return m_dest; }
    NetDest &getDestination() override { return m_dest; }

    uint64_t messageId() const { return m_message_id; }

  private:
    uint64_t m_message_id;
    NetDest m_dest;
    MessageSizeType m_size;
};

class CosimInjector : public ClockedObject, public Consumer
{
  public:
    PARAMS(CosimInjector);
    CosimInjector(const Params &p);

    /**
     * Queue a message at the source interface now (curTick). It travels
     * as data_packets packets of the network's data size plus
     * ctrl_packets packets of its control size.
     */
    void inject(uint64_t message_id, int src, int dst,
                uint64_t data_packets, uint64_t ctrl_packets);

    /** Completed messages since the last clearArrivals(), in order. */
    uint64_t numArrivals() const { return m_arrivals.size(); }
    uint64_t arrivalId(uint64_t i) const { return m_arrivals.at(i).first; }
    uint64_t arrivalTick(uint64_t i) const
    { return m_arrivals.at(i).second; }
    void clearArrivals() { m_arrivals.clear(); }

    /** Messages injected whose last packet has not arrived yet. */
    uint64_t pendingMessages() const { return m_remaining.size(); }
    uint64_t deliveredPackets() const { return m_delivered_packets; }

    void wakeup() override;
    void print(std::ostream &out) const override;

  private:
    std::vector<MachineID> m_endpoint_ids;
    std::vector<MessageBuffer *> m_to_net;
    std::vector<MessageBuffer *> m_from_net;
    /** Packets still in flight, per message id. */
    std::unordered_map<uint64_t, uint64_t> m_remaining;
    std::vector<std::pair<uint64_t, uint64_t>> m_arrivals;
    uint64_t m_delivered_packets = 0;
    bool m_exit_on_arrival;
    Tick m_last_exit_tick = MaxTick;
};

} // namespace ruby
} // namespace gem5

#endif // __ASTRA_COSIM_COSIM_INJECTOR_HH__
