// RoCE (RDMA over Converged Ethernet) for the ns-3 adapter: the fabric, PFC, DCQCN and the
// queue pairs, compiled once per process with cppyy.cppdef after flow_tracker.cpp (whose
// event-queue accessor it reuses). docs/roce.md says what is modelled and why.
//
// Mainline ns-3 has no RDMA, PFC or DCQCN, and its IP stack cannot pause a port, so this
// file owns everything above the wire: ns-3's PointToPointNetDevice and PointToPointChannel
// still serialise every frame at the link rate and delay it by the link delay, but every node
// (NPU or switch) is a RoceNode that forwards, queues, pauses and marks by itself. A port
// hands its device one frame at a time, only when the device is idle, so a PAUSE takes
// effect after the frame on the wire, as 802.1Qbb requires, and nothing waits in ns-3's own
// device queue. Packets carry a RoceHeader sized like RoCEv2's IP, UDP, BTH and ICRC (44 B).
//
// Traffic classes: 0 carries ACK, NACK and CNP (strict priority), 1 carries data; PFC
// accounts and pauses each class on its own.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <memory>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

namespace astra_roce
{
using namespace ns3;

static const uint32_t kHeaderBytes = 44;     // IPv4 20 + UDP 8 + BTH 12 + ICRC 4
static const uint32_t kControlBytes = 64;    // ACK/NACK/CNP/PAUSE: a minimum Ethernet frame
static const uint32_t kPppBytes = 2;         // ns-3's point-to-point framing
static const uint16_t kProtocol = 0x0800;    // the only framing PointToPointNetDevice knows
static const int kClasses = 2;
static const int kControl = 0;
static const int kData = 1;

enum Kind : uint8_t
{
    kDataPacket = 0,
    kAck = 1,
    kNack = 2,
    kCnp = 3,
    kPause = 4,
};

class RoceHeader : public Header
{
  public:
    uint8_t kind = kDataPacket;
    uint8_t ce = 0;       // ECN congestion experienced
    uint8_t cls = kData;  // traffic class; for a PAUSE the class it pauses
    uint8_t xoff = 0;     // PAUSE: 1 pause, 0 resume
    uint32_t src = 0;     // host ids
    uint32_t dst = 0;
    uint32_t qp = 0;
    uint32_t psn = 0;     // data: packet sequence number; ACK/NACK: next expected

    static TypeId GetTypeId()
    {
        static TypeId tid = TypeId("astra_roce::RoceHeader")
                                .SetParent<Header>()
                                .AddConstructor<RoceHeader>();
        return tid;
    }

    TypeId GetInstanceTypeId() const override { return GetTypeId(); }

    uint32_t GetSerializedSize() const override { return kHeaderBytes; }

    void Serialize(Buffer::Iterator i) const override
    {
        i.WriteU8(kind);
        i.WriteU8(ce);
        i.WriteU8(cls);
        i.WriteU8(xoff);
        i.WriteHtonU32(src);
        i.WriteHtonU32(dst);
        i.WriteHtonU32(qp);
        i.WriteHtonU32(psn);
        i.WriteU8(0, kHeaderBytes - 20);
    }

    uint32_t Deserialize(Buffer::Iterator i) override
    {
        kind = i.ReadU8();
        ce = i.ReadU8();
        cls = i.ReadU8();
        xoff = i.ReadU8();
        src = i.ReadNtohU32();
        dst = i.ReadNtohU32();
        qp = i.ReadNtohU32();
        psn = i.ReadNtohU32();
        i.Next(kHeaderBytes - 20);
        return kHeaderBytes;
    }

    void Print(std::ostream& os) const override
    {
        os << "roce kind=" << int(kind) << " " << src << "->" << dst << " qp=" << qp
           << " psn=" << psn;
    }
};

// Everything the Python side configures, in one place.
struct Config
{
    uint32_t mtu = 4096;            // payload bytes per data packet
    uint32_t ackInterval = 16;      // an ACK per this many in-order packets (and the last)
    int64_t rtoNs = 1000000;        // go-back-N retransmission timeout
    int64_t nackIntervalNs = 20000; // a gap still open this long after its NACK: NACK again
    bool pfc = true;
    uint64_t bufferPerPort = 1 << 20;
    double pfcAlpha = 0;            // > 0: dynamic XOFF, alpha x the free shared buffer
    bool dcqcn = true;
    uint64_t kmin = 5 * 1024;
    uint64_t kmax = 200 * 1024;
    double pmax = 0.01;
    double g = 1.0 / 256;
    int64_t cnpIntervalNs = 50000;
    int64_t alphaTimerNs = 55000;
    int64_t rateTimerNs = 55000;
    uint64_t byteCounter = 10 * 1000 * 1000;
    uint32_t fastRecoverySteps = 5;
    double raiBps = 0;              // 0: the paper's 40 Mb/s per 40 Gb/s of line rate
    double rhaiBps = 0;             // 0: ten times the additive step
    double minRateBps = 100e6;
};

struct Queued
{
    Ptr<Packet> packet;
    int32_t ingress;    // port it came in by, -1 when made here
    uint32_t bytes;
};

struct Qp;

struct Port
{
    Ptr<PointToPointNetDevice> device;
    DataRate rate;
    int64_t delayNs = 0;
    uint32_t peer = 0;          // node index at the other end
    uint32_t link = 0;          // link direction id of this egress
    bool busy = false;
    bool pausedByPeer[kClasses] = {false, false};
    bool pausingPeer[kClasses] = {false, false};
    int64_t pausedSinceNs[kClasses] = {0, 0};
    std::deque<Queued> pauseFrames;
    std::deque<Queued> queue[kClasses];
    uint64_t queueBytes = 0;
    uint64_t ingressBytes[kClasses] = {0, 0};
    uint64_t headroom = 0;
    uint64_t xoff = 0;
    uint64_t xon = 0;
    std::vector<Qp*> qps;       // this host's queue pairs sending through this port
    uint32_t rr = 0;            // round robin over {forwarded data, qps...}
    EventId wake;
    int64_t wakeNs = -1;
    // counters
    uint64_t bytes = 0;
    uint64_t packets = 0;
    int64_t busyNs = 0;
    uint64_t pausesSent = 0;
    uint64_t pausesReceived = 0;
    int64_t pausedNs = 0;
    uint64_t ecnMarks = 0;
    uint64_t drops = 0;
    uint64_t maxQueue = 0;
    double queueIntegral = 0;   // byte-ns
    int64_t queueSinceNs = 0;
};

struct Qp
{
    uint32_t id = 0;
    int64_t op = 0;
    uint32_t src = 0;
    uint32_t dst = 0;
    uint64_t size = 0;
    uint32_t packets = 0;
    int64_t injectedNs = 0;
    uint32_t port = 0;
    // sender
    uint32_t sndNext = 0;
    uint32_t sndUna = 0;
    double nextSendNs = 0;    // the rate limiter's earliest start of the next packet
    double lastSendNs = 0;    // start of the last packet sent, and its frame bytes
    uint32_t lastFrame = 0;
    int64_t progressNs = 0;
    uint64_t rateEpoch = 0;   // bumps at each cut: older rate timers lapse
    bool timerArmed = false;
    bool acked = false;
    // DCQCN reaction point
    double rate = 0;          // current rate RC, bits/s
    double target = 0;        // target rate RT
    double lineRate = 0;
    double rai = 0;           // additive and hyper increase steps, bits/s
    double rhai = 0;
    double alpha = 1.0;
    bool cut = false;         // DCQCN timers run once the rate was cut
    bool cnpThisPeriod = false;
    uint32_t timeStage = 0;
    uint32_t byteStage = 0;
    uint64_t bytesSinceStage = 0;
    // receiver
    uint32_t rcvNext = 0;
    uint32_t lastAcked = 0;
    bool nackSent = false;
    int64_t lastNackNs = 0;
    int64_t lastCnpNs = -1;
    uint64_t delivered = 0;
    bool complete = false;
    // the last hop's view of the receiver (decides arrivals early)
    uint32_t wireNext = 0;
    int64_t decidedNs = -1;
};

struct NodeState
{
    Ptr<Node> node;
    int32_t host = -1;                              // host id, -1 for a switch
    std::vector<Port> ports;
    std::vector<std::vector<uint16_t>> routes;      // per destination host: egress ports
    uint64_t buffer = 0;
    uint64_t shared = 0;         // the buffer less every port's headroom
    uint64_t buffered = 0;
    uint64_t rng = 0;
};

class RoceFabric
{
  public:
    RoceFabric() {}

    // -- building (Python calls these once) -------------------------------------------------
    Config& Settings() { return m_config; }

    void AddNode(Ptr<Node> node, int32_t host)
    {
        NodeState n;
        n.node = node;
        n.host = host;
        n.rng = 0x9E3779B97F4A7C15ull ^ (uint64_t(m_nodes.size() + 1) * 0xBF58476D1CE4E5B9ull);
        m_nodes.push_back(n);
        if (host >= 0)
        {
            if (uint32_t(host) >= m_hostNode.size())
            {
                m_hostNode.resize(host + 1);
            }
            m_hostNode[host] = m_nodes.size() - 1;
        }
    }

    // One direction of a link: node ``a`` sends to node ``b`` through ``device``.
    void AddPort(uint32_t a, uint32_t b, Ptr<NetDevice> device, uint32_t link)
    {
        Port port;
        port.device = DynamicCast<PointToPointNetDevice>(device);
        Ptr<PointToPointChannel> channel =
            DynamicCast<PointToPointChannel>(device->GetChannel());
        DataRateValue rate;
        port.device->GetAttribute("DataRate", rate);
        port.rate = rate.Get();
        TimeValue delay;
        channel->GetAttribute("Delay", delay);
        port.delayNs = delay.Get().GetNanoSeconds();
        port.peer = b;
        port.link = link;
        m_portOfDevice[PeekPointer(device)] = std::make_pair(a, uint32_t(m_nodes[a].ports.size()));
        m_nodes[a].ports.push_back(port);
        if (link >= m_linkPort.size())
        {
            m_linkPort.resize(link + 1);
        }
        m_linkPort[link] = std::make_pair(a, uint32_t(m_nodes[a].ports.size() - 1));
    }

    // Routes, buffers and thresholds, once every port exists. Returns "" or an error.
    std::string Finish()
    {
        ComputeRoutes();
        for (uint32_t n = 0; n < m_nodes.size(); ++n)
        {
            std::string error = SizeBuffer(n);
            if (!error.empty())
            {
                return error;
            }
            m_nodes[n].node->RegisterProtocolHandler(
                MakeCallback(&RoceFabric::OnReceive, this), kProtocol, Ptr<NetDevice>(), false);
        }
        return "";
    }

    // -- driving --------------------------------------------------------------------------
    void Inject(int64_t op, uint32_t src, uint32_t dst, uint64_t size, int64_t atNs)
    {
        int64_t now = Simulator::Now().GetNanoSeconds();
        Simulator::Schedule(NanoSeconds(atNs - now), &RoceFabric::Start, this, op, src, dst,
                            size, atNs);
        ++m_flows;
    }

    int64_t NextEventNs() const
    {
        Ptr<SimulatorImpl> impl = Simulator::GetImplementation();
        DefaultSimulatorImpl* simple = dynamic_cast<DefaultSimulatorImpl*>(PeekPointer(impl));
        if (simple == nullptr)
        {
            return -2;
        }
        Ptr<Scheduler> events = simple->*Get(astra_ns3::EventsOfImpl());
        if (events->IsEmpty())
        {
            return -1;
        }
        return static_cast<int64_t>(events->PeekNext().key.m_ts);
    }

    void SetStopOnDecision(bool stop) { m_stopOnDecision = stop; }

    std::vector<int64_t> TakeDecided()
    {
        std::vector<int64_t> out;
        out.swap(m_decided);
        return out;
    }

    int64_t EarliestDecidedNs() const { return m_earliestDecided; }

    void ResetEarliestDecided() { m_earliestDecided = -1; }

    std::vector<std::string> TakeErrors()
    {
        std::vector<std::string> out;
        out.swap(m_errors);
        return out;
    }

    // -- counters -------------------------------------------------------------------------
    uint64_t LinkBytes(uint32_t link) const { return PortOf(link).bytes; }
    uint64_t LinkPackets(uint32_t link) const { return PortOf(link).packets; }
    int64_t LinkBusyNs(uint32_t link) const { return PortOf(link).busyNs; }
    uint64_t LinkPausesSent(uint32_t link) const { return PortOf(link).pausesSent; }
    uint64_t LinkPausesReceived(uint32_t link) const { return PortOf(link).pausesReceived; }
    int64_t LinkPausedNs(uint32_t link) const
    {
        const Port& port = PortOf(link);
        int64_t total = port.pausedNs;
        int64_t now = Simulator::Now().GetNanoSeconds();
        for (int c = 0; c < kClasses; ++c)
        {
            if (port.pausedByPeer[c])
            {
                total += now - port.pausedSinceNs[c];
            }
        }
        return total;
    }
    uint64_t LinkEcnMarks(uint32_t link) const { return PortOf(link).ecnMarks; }
    uint64_t LinkDrops(uint32_t link) const { return PortOf(link).drops; }
    uint64_t LinkMaxQueueBytes(uint32_t link) const { return PortOf(link).maxQueue; }
    double LinkQueueByteNs(uint32_t link) const
    {
        const Port& port = PortOf(link);
        return port.queueIntegral +
               double(port.queueBytes) * (Simulator::Now().GetNanoSeconds() - port.queueSinceNs);
    }

    uint64_t Drops() const { return m_drops; }
    uint64_t Retransmissions() const { return m_retransmitted; }
    uint64_t Timeouts() const { return m_timeouts; }
    uint64_t Nacks() const { return m_nacks; }
    uint64_t Cnps() const { return m_cnps; }
    uint64_t RateCuts() const { return m_rateCuts; }
    uint64_t Flows() const { return m_flows; }
    uint64_t Connections() const { return m_qps.size(); }

    // Bytes of message ``op`` its receiver has taken in order so far (-1: no such message).
    int64_t DeliveredBytes(int64_t op) const
    {
        auto found = m_qpOfOp.find(op);
        return found == m_qpOfOp.end() ? -1 : int64_t(m_qps[found->second]->delivered);
    }

    // The sending rate DCQCN allows message ``op`` now, bits/s (-1: no such message).
    double RateBps(int64_t op) const
    {
        auto found = m_qpOfOp.find(op);
        return found == m_qpOfOp.end() ? -1 : m_qps[found->second]->rate;
    }

  private:
    const Port& PortOf(uint32_t link) const
    {
        const auto& where = m_linkPort[link];
        return m_nodes[where.first].ports[where.second];
    }

    static uint32_t FrameBytes(uint32_t packetBytes) { return packetBytes + kPppBytes; }

    // -- routes: shortest paths, every equal-cost next hop kept (ECMP) ----------------------
    void ComputeRoutes()
    {
        uint32_t hosts = m_hostNode.size();
        for (NodeState& n : m_nodes)
        {
            n.routes.assign(hosts, {});
        }
        for (uint32_t h = 0; h < hosts; ++h)
        {
            std::vector<int32_t> distance(m_nodes.size(), -1);
            std::deque<uint32_t> frontier;
            distance[m_hostNode[h]] = 0;
            frontier.push_back(m_hostNode[h]);
            while (!frontier.empty())
            {
                uint32_t at = frontier.front();
                frontier.pop_front();
                // every link is full duplex: a port of ``at`` names a neighbour that reaches
                // ``at`` back over the same link
                for (const Port& port : m_nodes[at].ports)
                {
                    if (distance[port.peer] < 0)
                    {
                        distance[port.peer] = distance[at] + 1;
                        frontier.push_back(port.peer);
                    }
                }
            }
            for (uint32_t n = 0; n < m_nodes.size(); ++n)
            {
                if (distance[n] <= 0)
                {
                    continue;
                }
                for (uint32_t p = 0; p < m_nodes[n].ports.size(); ++p)
                {
                    if (distance[m_nodes[n].ports[p].peer] == distance[n] - 1)
                    {
                        m_nodes[n].routes[h].push_back(p);
                    }
                }
            }
        }
    }

    // A flow keeps one path (no reordering); flows spread over equal-cost ports by a hash
    // that includes the node, so successive switches do not all pick alike.
    int32_t Route(const NodeState& n, uint32_t nodeIndex, uint32_t src, uint32_t dst,
                  uint32_t qp) const
    {
        if (dst >= n.routes.size() || n.routes[dst].empty())
        {
            return -1;
        }
        const auto& choices = n.routes[dst];
        if (choices.size() == 1)
        {
            return choices[0];
        }
        uint64_t key = (uint64_t(src) * 0x9E3779B1u) ^ (uint64_t(dst) << 20) ^
                       (uint64_t(qp) * 0x85EBCA77u) ^ (uint64_t(nodeIndex) << 40);
        key ^= key >> 33;
        key *= 0xFF51AFD7ED558CCDull;
        key ^= key >> 33;
        return choices[key % choices.size()];
    }

    // -- PFC thresholds ---------------------------------------------------------------------
    // Headroom per port and class absorbs what still arrives after XOFF is decided: the frame
    // our port is sending when the PAUSE is queued, the PAUSE's flight (one link delay),
    // the frame the upstream port is sending when it arrives, and the upstream's bytes on the
    // wire (one link delay) -- two bandwidth-delay products and a few frames. The rest of the
    // node's buffer is shared out equally as XOFF thresholds, so ingress bytes never exceed
    // xoff + headroom per port and class, whose sum is the buffer: no drop by construction.
    // With pfcAlpha, XOFF is instead alpha times the shared buffer still free (dynamic
    // thresholds): ingress queue i pauses by q_i <= alpha (S - sum q), so the queues' sum stays
    // below S = buffer - all headroom, and each gets at most its headroom more.
    std::string SizeBuffer(uint32_t index)
    {
        NodeState& n = m_nodes[index];
        n.buffer = m_config.bufferPerPort * n.ports.size();
        uint64_t frame = FrameBytes(kHeaderBytes + m_config.mtu);
        uint64_t reserved = 0;
        for (Port& port : n.ports)
        {
            double bdp = port.rate.GetBitRate() / 8.0 * port.delayNs * 1e-9;
            port.headroom = uint64_t(std::ceil(2 * bdp)) + 3 * frame;
            reserved += kClasses * port.headroom;
        }
        uint64_t slots = kClasses * n.ports.size();
        uint64_t least = reserved + slots * 2 * frame;
        if (m_config.pfc && n.buffer < least)
        {
            std::ostringstream text;
            text << "buffer_bytes_per_port: " << m_config.bufferPerPort << " bytes leave node "
                 << index << " no room above its PFC headroom; expected at least "
                 << (least + n.ports.size() - 1) / n.ports.size();
            return text.str();
        }
        n.shared = n.buffer > reserved ? n.buffer - reserved : 0;
        for (Port& port : n.ports)
        {
            if (m_config.pfc)
            {
                port.xoff = (n.buffer - reserved) / slots;
                port.xon = port.xoff - std::min<uint64_t>(port.xoff, 2 * frame);
            }
            else
            {
                port.xoff = m_config.bufferPerPort;   // a lossy port's own tail-drop limit
            }
        }
        return "";
    }

    // -- a message becomes a queue pair -----------------------------------------------------
    void Start(int64_t op, uint32_t src, uint32_t dst, uint64_t size, int64_t atNs)
    {
        Qp* qp = new Qp();
        qp->id = m_qps.size();
        qp->op = op;
        qp->src = src;
        qp->dst = dst;
        qp->size = size;
        qp->packets = uint32_t((size + m_config.mtu - 1) / m_config.mtu);
        qp->injectedNs = atNs;
        m_qps.emplace_back(qp);
        m_qpOfOp[op] = qp->id;
        uint32_t nodeIndex = m_hostNode[src];
        NodeState& n = m_nodes[nodeIndex];
        int32_t port = Route(n, nodeIndex, src, dst, qp->id);
        if (port < 0)
        {
            std::ostringstream text;
            text << "NPU " << dst << " cannot be reached from NPU " << src;
            m_errors.push_back(text.str());
            return;
        }
        qp->port = port;
        qp->lineRate = n.ports[port].rate.GetBitRate();
        qp->rate = qp->target = qp->lineRate;
        qp->rai = m_config.raiBps > 0 ? m_config.raiBps : 40e6 * qp->lineRate / 40e9;
        qp->rhai = m_config.rhaiBps > 0 ? m_config.rhaiBps : 10 * qp->rai;
        qp->nextSendNs = Simulator::Now().GetNanoSeconds();
        qp->progressNs = Simulator::Now().GetNanoSeconds();
        n.ports[port].qps.push_back(qp);
        Kick(nodeIndex, port);
    }

    uint32_t PayloadOf(const Qp& qp, uint32_t psn) const
    {
        if (psn + 1 < qp.packets)
        {
            return m_config.mtu;
        }
        return uint32_t(qp.size - uint64_t(m_config.mtu) * (qp.packets - 1));
    }

    Ptr<Packet> DataPacket(Qp& qp, uint32_t psn)
    {
        Ptr<Packet> packet = Create<Packet>(PayloadOf(qp, psn));
        RoceHeader h;
        h.kind = kDataPacket;
        h.cls = kData;
        h.src = qp.src;
        h.dst = qp.dst;
        h.qp = qp.id;
        h.psn = psn;
        packet->AddHeader(h);
        return packet;
    }

    Ptr<Packet> ControlPacket(Kind kind, uint32_t src, uint32_t dst, uint32_t qp, uint32_t psn)
    {
        Ptr<Packet> packet = Create<Packet>(kControlBytes - kHeaderBytes);
        RoceHeader h;
        h.kind = kind;
        h.cls = kControl;
        h.src = src;
        h.dst = dst;
        h.qp = qp;
        h.psn = psn;
        packet->AddHeader(h);
        return packet;
    }

    // A host sends a control packet towards another host (never paused at its source: it
    // waits in the port's control queue like a forwarded one).
    void SendControl(uint32_t nodeIndex, Kind kind, uint32_t dst, uint32_t qp, uint32_t psn)
    {
        NodeState& n = m_nodes[nodeIndex];
        int32_t port = Route(n, nodeIndex, n.host, dst, qp);
        if (port < 0)
        {
            return;
        }
        Ptr<Packet> packet = ControlPacket(kind, n.host, dst, qp, psn);
        Enqueue(nodeIndex, port, kControl, Queued{packet, -1, packet->GetSize()});
    }

    // -- ports ----------------------------------------------------------------------------
    void NoteQueue(Port& port, int64_t now)
    {
        port.queueIntegral += double(port.queueBytes) * (now - port.queueSinceNs);
        port.queueSinceNs = now;
    }

    void Enqueue(uint32_t nodeIndex, uint32_t p, int cls, Queued item)
    {
        Port& port = m_nodes[nodeIndex].ports[p];
        NoteQueue(port, Simulator::Now().GetNanoSeconds());
        port.queue[cls].push_back(item);
        port.queueBytes += item.bytes;
        port.maxQueue = std::max(port.maxQueue, port.queueBytes);
        Kick(nodeIndex, p);
    }

    void Kick(uint32_t nodeIndex, uint32_t p)
    {
        Port& port = m_nodes[nodeIndex].ports[p];
        if (port.busy)
        {
            return;
        }
        int64_t now = Simulator::Now().GetNanoSeconds();
        if (!port.pauseFrames.empty())
        {
            Queued item = port.pauseFrames.front();
            port.pauseFrames.pop_front();
            Transmit(nodeIndex, p, item.packet, nullptr, now);
            return;
        }
        if (!port.pausedByPeer[kControl] && !port.queue[kControl].empty())
        {
            Queued item = Dequeue(nodeIndex, p, kControl, now);
            Transmit(nodeIndex, p, item.packet, nullptr, now);
            return;
        }
        if (port.pausedByPeer[kData])
        {
            return;   // resumed by OnPause
        }
        // round robin over the forwarded data queue (slot 0) and this host's queue pairs
        uint32_t slots = 1 + port.qps.size();
        int64_t earliest = -1;
        for (uint32_t k = 0; k < slots; ++k)
        {
            uint32_t slot = (port.rr + k) % slots;
            if (slot == 0)
            {
                if (port.queue[kData].empty())
                {
                    continue;
                }
                port.rr = (slot + 1) % slots;
                Queued item = Dequeue(nodeIndex, p, kData, now);
                Transmit(nodeIndex, p, item.packet, nullptr, now);
                return;
            }
            Qp* qp = port.qps[slot - 1];
            if (qp->sndNext >= qp->packets)
            {
                continue;
            }
            if (qp->nextSendNs > now)
            {
                int64_t at = int64_t(std::ceil(qp->nextSendNs));
                earliest = earliest < 0 ? at : std::min(earliest, at);
                continue;
            }
            port.rr = (slot + 1) % slots;
            uint32_t psn = qp->sndNext++;
            Ptr<Packet> packet = DataPacket(*qp, psn);
            // the rate limiter: the next packet may start once this one's bytes at the
            // allowed rate have passed (at line rate the port itself is the limit)
            qp->lastSendNs = std::max(qp->nextSendNs, double(now));
            qp->lastFrame = FrameBytes(packet->GetSize());
            if (qp->rate < qp->lineRate)
            {
                qp->nextSendNs = qp->lastSendNs + qp->lastFrame * 8.0 / qp->rate * 1e9;
            }
            OnSent(*qp, packet->GetSize());
            if (!qp->timerArmed)
            {
                ArmTimer(*qp);
            }
            Transmit(nodeIndex, p, packet, qp, now);
            return;
        }
        if (earliest >= 0 && (port.wakeNs < 0 || earliest < port.wakeNs))
        {
            if (port.wakeNs >= 0)
            {
                Simulator::Cancel(port.wake);
            }
            port.wakeNs = earliest;
            port.wake = Simulator::Schedule(NanoSeconds(earliest - now), &RoceFabric::Wake,
                                            this, nodeIndex, p);
        }
    }

    void Wake(uint32_t nodeIndex, uint32_t p)
    {
        m_nodes[nodeIndex].ports[p].wakeNs = -1;
        Kick(nodeIndex, p);
    }

    Queued Dequeue(uint32_t nodeIndex, uint32_t p, int cls, int64_t now)
    {
        NodeState& n = m_nodes[nodeIndex];
        Port& port = n.ports[p];
        NoteQueue(port, now);
        Queued item = port.queue[cls].front();
        port.queue[cls].pop_front();
        port.queueBytes -= item.bytes;
        if (item.ingress >= 0)
        {
            Port& in = n.ports[item.ingress];
            in.ingressBytes[cls] -= item.bytes;
            n.buffered -= item.bytes;
            if (m_config.pfc && in.pausingPeer[cls] && in.ingressBytes[cls] <= Xon(n, in))
            {
                SendPause(nodeIndex, item.ingress, cls, false);
            }
        }
        return item;
    }

    void SendPause(uint32_t nodeIndex, uint32_t p, int cls, bool xoff)
    {
        Port& port = m_nodes[nodeIndex].ports[p];
        port.pausingPeer[cls] = xoff;
        if (xoff)
        {
            ++port.pausesSent;
        }
        Ptr<Packet> packet = Create<Packet>(kControlBytes - kHeaderBytes);
        RoceHeader h;
        h.kind = kPause;
        h.cls = cls;
        h.xoff = xoff;
        packet->AddHeader(h);
        port.pauseFrames.push_back(Queued{packet, -1, packet->GetSize()});
        Kick(nodeIndex, p);
    }

    void Transmit(uint32_t nodeIndex, uint32_t p, Ptr<Packet> packet, Qp* qp, int64_t now)
    {
        Port& port = m_nodes[nodeIndex].ports[p];
        uint32_t frame = FrameBytes(packet->GetSize());
        Time tx = port.rate.CalculateBytesTxTime(frame);
        if (m_nodes[port.peer].host >= 0)
        {
            DecideIfLast(port, packet, now + tx.GetNanoSeconds() + port.delayNs);
        }
        port.busy = true;
        port.bytes += frame;
        port.packets += 1;
        port.busyNs += tx.GetNanoSeconds();
        port.device->Send(packet, port.device->GetBroadcast(), kProtocol);
        // the device's own completion was scheduled first, so at this time it is idle again
        Simulator::Schedule(tx, &RoceFabric::Done, this, nodeIndex, p);
    }

    void Done(uint32_t nodeIndex, uint32_t p)
    {
        m_nodes[nodeIndex].ports[p].busy = false;
        Kick(nodeIndex, p);
    }

    // A data packet starting down the last link into its destination: the link is FIFO and
    // lossless, so the receiver will see exactly the packets this shadow sees, in this
    // order; the packet completing the message in order decides its arrival.
    void DecideIfLast(const Port& port, Ptr<Packet> packet, int64_t arrivalNs)
    {
        RoceHeader h;
        packet->PeekHeader(h);
        if (h.kind != kDataPacket || m_nodes[port.peer].host != int32_t(h.dst))
        {
            return;
        }
        Qp& qp = *m_qps[h.qp];
        if (h.psn != qp.wireNext)
        {
            return;   // a duplicate or out of order: the receiver discards it
        }
        ++qp.wireNext;
        if (qp.wireNext != qp.packets)
        {
            return;
        }
        qp.decidedNs = arrivalNs;
        m_decided.push_back(qp.op);
        m_decided.push_back(arrivalNs);
        if (m_earliestDecided < 0 || arrivalNs < m_earliestDecided)
        {
            m_earliestDecided = arrivalNs;
        }
        if (m_stopOnDecision)
        {
            Simulator::Stop();
        }
    }

    // -- receiving ------------------------------------------------------------------------
    void OnReceive(Ptr<NetDevice> device, Ptr<const Packet> received, uint16_t, const Address&,
                   const Address&, NetDevice::PacketType)
    {
        auto where = m_portOfDevice.find(PeekPointer(device));
        if (where == m_portOfDevice.end())
        {
            return;
        }
        uint32_t nodeIndex = where->second.first;
        uint32_t ingress = where->second.second;
        NodeState& n = m_nodes[nodeIndex];
        RoceHeader h;
        received->PeekHeader(h);
        if (h.kind == kPause)
        {
            OnPause(nodeIndex, ingress, h.cls, h.xoff);
            return;
        }
        if (n.host >= 0 && uint32_t(n.host) == h.dst)
        {
            Local(nodeIndex, h, received->GetSize() - kHeaderBytes);
            return;
        }
        Forward(nodeIndex, ingress, h, received->Copy());
    }

    void OnPause(uint32_t nodeIndex, uint32_t p, int cls, bool xoff)
    {
        Port& port = m_nodes[nodeIndex].ports[p];
        int64_t now = Simulator::Now().GetNanoSeconds();
        if (xoff && !port.pausedByPeer[cls])
        {
            port.pausedSinceNs[cls] = now;
            ++port.pausesReceived;
        }
        else if (!xoff && port.pausedByPeer[cls])
        {
            port.pausedNs += now - port.pausedSinceNs[cls];
        }
        port.pausedByPeer[cls] = xoff;
        if (!xoff)
        {
            Kick(nodeIndex, p);
        }
    }

    void Forward(uint32_t nodeIndex, uint32_t ingress, RoceHeader& h, Ptr<Packet> packet)
    {
        NodeState& n = m_nodes[nodeIndex];
        int32_t egress = Route(n, nodeIndex, h.src, h.dst, h.qp);
        if (egress < 0)
        {
            m_errors.push_back("a packet reached a node with no route to its destination");
            return;
        }
        int cls = h.cls;
        uint32_t bytes = packet->GetSize();
        Port& out = n.ports[egress];
        Port& in = n.ports[ingress];
        if (m_config.pfc)
        {
            bool overflow = m_config.pfcAlpha > 0
                                ? n.buffered + bytes > n.buffer
                                : in.ingressBytes[cls] + bytes > in.xoff + in.headroom;
            if (overflow)
            {
                // cannot happen when pauses are honoured: a bug, never a silent loss
                ++out.drops;
                ++m_drops;
                std::ostringstream text;
                text << "PFC headroom exceeded at node " << nodeIndex << " port " << ingress
                     << " (" << in.ingressBytes[cls] << " bytes buffered)";
                m_errors.push_back(text.str());
                return;
            }
        }
        else if (out.queueBytes + bytes > out.xoff)
        {
            ++out.drops;
            ++m_drops;
            return;
        }
        if (cls == kData && m_config.dcqcn && Mark(n, out.queueBytes))
        {
            packet->RemoveHeader(h);
            h.ce = 1;
            packet->AddHeader(h);
            ++out.ecnMarks;
        }
        in.ingressBytes[cls] += bytes;
        n.buffered += bytes;
        Enqueue(nodeIndex, egress, cls, Queued{packet, int32_t(ingress), bytes});
        if (m_config.pfc && !in.pausingPeer[cls] && in.ingressBytes[cls] > Xoff(n, in))
        {
            SendPause(nodeIndex, ingress, cls, true);
        }
    }

    uint64_t Xoff(const NodeState& n, const Port& in) const
    {
        if (m_config.pfcAlpha <= 0)
        {
            return in.xoff;
        }
        uint64_t free = n.shared - std::min(n.buffered, n.shared);
        return uint64_t(m_config.pfcAlpha * double(free));
    }

    uint64_t Xon(const NodeState& n, const Port& in) const
    {
        if (m_config.pfcAlpha <= 0)
        {
            return in.xon;
        }
        uint64_t xoff = Xoff(n, in);
        uint64_t hysteresis = 2 * FrameBytes(kHeaderBytes + m_config.mtu);
        return xoff - std::min(xoff, hysteresis);
    }

    // RED on the egress queue as the packet joins it (DCQCN's switch, the CP)
    bool Mark(NodeState& n, uint64_t queue)
    {
        if (queue <= m_config.kmin)
        {
            return false;
        }
        if (queue >= m_config.kmax)
        {
            return true;
        }
        double p = m_config.pmax * double(queue - m_config.kmin) /
                   double(m_config.kmax - m_config.kmin);
        n.rng ^= n.rng << 13;
        n.rng ^= n.rng >> 7;
        n.rng ^= n.rng << 17;
        return double(n.rng >> 11) * (1.0 / 9007199254740992.0) < p;
    }

    void Local(uint32_t nodeIndex, const RoceHeader& h, uint32_t payload)
    {
        if (h.qp >= m_qps.size())
        {
            m_errors.push_back("a packet names a queue pair that does not exist");
            return;
        }
        Qp& qp = *m_qps[h.qp];
        switch (h.kind)
        {
        case kDataPacket:
            Receive(nodeIndex, qp, h, payload);
            break;
        case kAck:
            OnAck(qp, h.psn, false);
            break;
        case kNack:
            ++m_nacks;
            OnAck(qp, h.psn, true);
            break;
        case kCnp:
            OnCnp(qp);
            break;
        default:
            break;
        }
    }

    // The responder: in order only (go-back-N), an ACK per ackInterval packets and for the
    // last, one NACK per gap, one CNP per cnpInterval while marked packets arrive (DCQCN's NP).
    void Receive(uint32_t nodeIndex, Qp& qp, const RoceHeader& h, uint32_t payload)
    {
        int64_t now = Simulator::Now().GetNanoSeconds();
        if (h.ce && m_config.dcqcn &&
            (qp.lastCnpNs < 0 || now - qp.lastCnpNs >= m_config.cnpIntervalNs))
        {
            qp.lastCnpNs = now;
            ++m_cnps;
            SendControl(nodeIndex, kCnp, qp.src, qp.id, 0);
        }
        if (h.psn != qp.rcvNext)
        {
            if (h.psn > qp.rcvNext &&
                (!qp.nackSent || now - qp.lastNackNs >= m_config.nackIntervalNs))
            {
                qp.nackSent = true;
                qp.lastNackNs = now;
                SendControl(nodeIndex, kNack, qp.src, qp.id, qp.rcvNext);
            }
            else if (h.psn < qp.rcvNext && h.psn + 1 == qp.packets)
            {
                SendControl(nodeIndex, kAck, qp.src, qp.id, qp.rcvNext);   // a lost ACK
            }
            return;
        }
        ++qp.rcvNext;
        qp.nackSent = false;
        qp.delivered += payload;
        bool last = qp.rcvNext == qp.packets;
        if (last || qp.rcvNext - qp.lastAcked >= m_config.ackInterval)
        {
            qp.lastAcked = qp.rcvNext;
            SendControl(nodeIndex, kAck, qp.src, qp.id, qp.rcvNext);
        }
        if (!last || qp.complete)
        {
            return;
        }
        qp.complete = true;
        if (qp.decidedNs != now)
        {
            std::ostringstream text;
            text << "message " << qp.op << " (NPU " << qp.src << " -> " << qp.dst << ", "
                 << qp.size << " bytes) was decided to arrive at " << qp.decidedNs
                 << " ns but reached its receiver at " << now << " ns";
            m_errors.push_back(text.str());
        }
    }

    // -- the requester: go-back-N --------------------------------------------------------
    void OnAck(Qp& qp, uint32_t next, bool nack)
    {
        int64_t now = Simulator::Now().GetNanoSeconds();
        if (next > qp.sndUna)
        {
            qp.sndUna = next;
            qp.progressNs = now;
        }
        if (nack && next < qp.sndNext)
        {
            m_retransmitted += qp.sndNext - next;
            qp.sndNext = next;
            Kick(m_hostNode[qp.src], qp.port);
        }
        if (qp.sndUna >= qp.packets && !qp.acked)
        {
            qp.acked = true;
            Retire(qp);
        }
    }

    void Retire(Qp& qp)
    {
        Port& port = m_nodes[m_hostNode[qp.src]].ports[qp.port];
        auto found = std::find(port.qps.begin(), port.qps.end(), &qp);
        if (found != port.qps.end())
        {
            uint32_t slot = 1 + (found - port.qps.begin());
            port.qps.erase(found);
            if (port.rr > slot)
            {
                --port.rr;
            }
            if (port.rr > port.qps.size())
            {
                port.rr = 0;
            }
        }
    }

    void ArmTimer(Qp& qp)
    {
        qp.timerArmed = true;
        int64_t now = Simulator::Now().GetNanoSeconds();
        int64_t due = std::max(qp.progressNs, now) + m_config.rtoNs;
        Simulator::Schedule(NanoSeconds(due - now), &RoceFabric::OnTimer, this, qp.id);
    }

    void OnTimer(uint32_t id)
    {
        Qp& qp = *m_qps[id];
        qp.timerArmed = false;
        if (qp.acked)
        {
            return;
        }
        int64_t now = Simulator::Now().GetNanoSeconds();
        if (qp.sndUna < qp.sndNext && now - qp.progressNs >= m_config.rtoNs)
        {
            ++m_timeouts;
            m_retransmitted += qp.sndNext - qp.sndUna;
            qp.sndNext = qp.sndUna;
            qp.progressNs = now;
            Kick(m_hostNode[qp.src], qp.port);
        }
        ArmTimer(qp);
    }

    // -- DCQCN's reaction point ---------------------------------------------------------------
    void OnCnp(Qp& qp)
    {
        if (!m_config.dcqcn || qp.acked)
        {
            return;
        }
        ++m_rateCuts;
        qp.target = qp.rate;
        qp.rate = std::max(m_config.minRateBps, qp.rate * (1 - qp.alpha / 2));
        qp.alpha = (1 - m_config.g) * qp.alpha + m_config.g;
        qp.cnpThisPeriod = true;
        qp.timeStage = 0;
        qp.byteStage = 0;
        qp.bytesSinceStage = 0;
        if (!qp.cut)
        {
            qp.cut = true;
            Simulator::Schedule(NanoSeconds(m_config.alphaTimerNs), &RoceFabric::AlphaTimer,
                                this, qp.id);
        }
        // the rate-increase timer restarts at every cut
        ++qp.rateEpoch;
        Simulator::Schedule(NanoSeconds(m_config.rateTimerNs), &RoceFabric::RateTimer, this,
                            qp.id, qp.rateEpoch);
    }

    void AlphaTimer(uint32_t id)
    {
        Qp& qp = *m_qps[id];
        if (qp.acked)
        {
            return;
        }
        if (!qp.cnpThisPeriod)
        {
            qp.alpha *= 1 - m_config.g;
        }
        qp.cnpThisPeriod = false;
        Simulator::Schedule(NanoSeconds(m_config.alphaTimerNs), &RoceFabric::AlphaTimer, this,
                            id);
    }

    void RateTimer(uint32_t id, uint64_t epoch)
    {
        Qp& qp = *m_qps[id];
        if (qp.acked || epoch != qp.rateEpoch)
        {
            return;
        }
        ++qp.timeStage;
        Increase(qp);
        if (qp.rate < qp.lineRate)
        {
            Simulator::Schedule(NanoSeconds(m_config.rateTimerNs), &RoceFabric::RateTimer,
                                this, id, epoch);
        }
    }

    void OnSent(Qp& qp, uint32_t bytes)
    {
        if (!qp.cut || qp.rate >= qp.lineRate)
        {
            return;
        }
        qp.bytesSinceStage += bytes;
        if (qp.bytesSinceStage >= m_config.byteCounter)
        {
            qp.bytesSinceStage -= m_config.byteCounter;
            ++qp.byteStage;
            Increase(qp);
        }
    }

    // Fast recovery while both counters are below F, hyper increase once both passed it,
    // additive increase in between; the current rate moves halfway to the target each time.
    void Increase(Qp& qp)
    {
        uint32_t f = m_config.fastRecoverySteps;
        uint32_t low = std::min(qp.timeStage, qp.byteStage);
        uint32_t high = std::max(qp.timeStage, qp.byteStage);
        if (low > f)
        {
            qp.target += (low - f) * qp.rhai;
        }
        else if (high > f)
        {
            qp.target += qp.rai;
        }
        qp.target = std::min(qp.target, qp.lineRate);
        qp.rate = std::min(qp.lineRate, (qp.target + qp.rate) / 2);
        // a packet waiting for the old, lower rate may go sooner at the new one
        int64_t now = Simulator::Now().GetNanoSeconds();
        if (qp.nextSendNs > now)
        {
            qp.nextSendNs = std::max(double(now),
                                     qp.lastSendNs + qp.lastFrame * 8.0 / qp.rate * 1e9);
            Kick(m_hostNode[qp.src], qp.port);
        }
    }

    Config m_config;
    std::vector<NodeState> m_nodes;
    std::vector<uint32_t> m_hostNode;
    std::unordered_map<const NetDevice*, std::pair<uint32_t, uint32_t>> m_portOfDevice;
    std::vector<std::pair<uint32_t, uint32_t>> m_linkPort;
    std::vector<std::unique_ptr<Qp>> m_qps;
    std::unordered_map<int64_t, uint32_t> m_qpOfOp;
    std::vector<int64_t> m_decided;
    std::vector<std::string> m_errors;
    int64_t m_earliestDecided = -1;
    bool m_stopOnDecision = false;
    uint64_t m_drops = 0;
    uint64_t m_retransmitted = 0;
    uint64_t m_timeouts = 0;
    uint64_t m_nacks = 0;
    uint64_t m_cnps = 0;
    uint64_t m_rateCuts = 0;
    uint64_t m_flows = 0;
};

} // namespace astra_roce
