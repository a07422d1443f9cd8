// The C++ half of the ns-3 network adapter, compiled once per process with cppyy.cppdef.
//
// Python cannot be called back from ns-3 (cppyy does not turn Python callables into C
// function pointers), and per-packet work in Python would dominate the run, so everything
// that happens per packet or per flow lives here:
//
// * Flows. A message (op, src, dst, bytes) becomes bytes written into the TCP connection from
//   src to dst, opened on first use and kept for the whole run (as collective libraries keep
//   theirs), so only the first message of a pair pays the handshake and slow start.
// * Deciding arrivals early. The adapter's lookahead promises that an arrival is known at least
//   one link delay before it happens (docs/cosim.md), like the analytical aware model, which
//   decides at the start of the last hop. Here the decision is taken when a data segment
//   starts down the last link into its destination (the channel's TxRxPointToPoint trace
//   gives its last-bit arrival time). A shadow of the receiver's in-order reassembly, fed with
//   exactly the segments on that link (FIFO and lossless: no error model on host links), says
//   whether this segment completes a message.
// * Checking the decision. The receiving socket's data callback records the real completion
//   time of every message; a difference from the decided time is an error, never ignored.
// * Counters: bytes and busy time per link direction, drops at full ports, TCP
//   retransmissions.
//
// Ports: host h listens on kSinkPort; the connection src -> dst is bound to kPortBase + dst on
// src, so (source address, source port) names a connection on the wire and at the sink.

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

namespace astra_ns3
{
using namespace ns3;

// The event queue of DefaultSimulatorImpl is private and ns-3 has no "time of the next event"
// call; the adapter needs it (next_event_ns). An explicit instantiation may name a private
// member, which gives a pointer-to-member without changing ns-3.
template <typename Tag, typename Tag::type Member>
struct Expose
{
    friend typename Tag::type Get(Tag) { return Member; }
};

struct EventsOfImpl
{
    typedef Ptr<Scheduler> DefaultSimulatorImpl::*type;
    friend type Get(EventsOfImpl);
};

template struct Expose<EventsOfImpl, &DefaultSimulatorImpl::m_events>;

static const uint16_t kSinkPort = 9;
static const uint16_t kPortBase = 1024;

struct Message
{
    int64_t op;
    uint64_t end;         // stream offset just past the message's last byte
    uint64_t size;
    int64_t injectedNs;
    int64_t decidedNs;    // -1 until decided
};

struct Connection
{
    uint32_t src = 0;
    uint32_t dst = 0;
    Ptr<Socket> socket;
    bool connected = false;
    bool failed = false;
    uint64_t queued = 0;   // bytes of all messages given to this connection
    uint64_t written = 0;  // bytes handed to the socket
    std::deque<Message> undecided;
    std::deque<Message> unreceived;   // decided, waiting for the sink to see them
    // the shadow receiver: in-order prefix and out-of-order ranges [start, end)
    bool haveIsn = false;
    uint32_t isn = 0;
    uint64_t rcvNext = 0;
    std::map<uint64_t, uint64_t> outOfOrder;
    uint64_t received = 0;    // bytes the sink has read
};

struct LinkCounter
{
    uint64_t bytes = 0;
    uint64_t packets = 0;
    int64_t busyNs = 0;
};

class FlowTracker
{
  public:
    FlowTracker() {}

    // -- building -------------------------------------------------------------------------
    void AddHost(Ptr<Node> node, Ipv4Address primary)
    {
        m_hosts.push_back(node);
        m_primary.push_back(primary);
        m_hostOfNode[node->GetId()] = m_hosts.size() - 1;
    }

    void AddHostAddress(uint32_t host, Ipv4Address address)
    {
        m_hostOfAddress[address.Get()] = host;
    }

    // One direction of a link: bytes leaving ``device`` are counted under ``link``.
    void AddLinkDirection(Ptr<NetDevice> device, uint32_t link)
    {
        if (link >= m_links.size())
        {
            m_links.resize(link + 1);
        }
        m_linkOfDevice[PeekPointer(device)] = link;
    }

    // A full port queue stops the traffic-control layer, which then drops: that is where
    // ns-3 counts a drop when no queue disc is installed.
    void WatchNode(Ptr<Node> node)
    {
        Connect(PeekPointer(node->GetObject<TrafficControlLayer>()), "TcDrop",
                MakeCallback(&FlowTracker::OnDrop, this));
    }

    void WatchChannel(Ptr<Channel> channel)
    {
        Connect(PeekPointer(channel), "TxRxPointToPoint", MakeCallback(&FlowTracker::OnWire, this));
    }

    void Listen()
    {
        for (uint32_t h = 0; h < m_hosts.size(); ++h)
        {
            Ptr<Socket> sink = Socket::CreateSocket(m_hosts[h], TcpSocketFactory::GetTypeId());
            sink->Bind(InetSocketAddress(Ipv4Address::GetAny(), kSinkPort));
            sink->Listen();
            sink->SetAcceptCallback(MakeNullCallback<bool, Ptr<Socket>, const Address&>(),
                                    MakeCallback(&FlowTracker::OnNewConnection, this));
            m_sinks.push_back(sink);
        }
    }

    // -- driving --------------------------------------------------------------------------
    void Inject(int64_t op, uint32_t src, uint32_t dst, uint64_t size, int64_t atNs)
    {
        int64_t now = Simulator::Now().GetNanoSeconds();
        Simulator::Schedule(NanoSeconds(atNs - now), &FlowTracker::Start, this, op, src, dst,
                            size, atNs);
        ++m_flows;
    }

    // The earliest pending event (cancelled ones included: a safe lower bound), or -1.
    int64_t NextEventNs() const
    {
        Ptr<SimulatorImpl> impl = Simulator::GetImplementation();
        DefaultSimulatorImpl* simple = dynamic_cast<DefaultSimulatorImpl*>(PeekPointer(impl));
        if (simple == nullptr)
        {
            return -2;
        }
        Ptr<Scheduler> events = simple->*Get(EventsOfImpl());
        if (events->IsEmpty())
        {
            return -1;
        }
        return static_cast<int64_t>(events->PeekNext().key.m_ts);
    }

    // While set, the first decided arrival stops Simulator::Run (an unbounded grant).
    void SetStopOnDecision(bool stop) { m_stopOnDecision = stop; }

    // Decided arrivals as a flat list op, time, op, time, ...; clears them.
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
    uint64_t LinkBytes(uint32_t link) const { return m_links[link].bytes; }
    uint64_t LinkPackets(uint32_t link) const { return m_links[link].packets; }
    int64_t LinkBusyNs(uint32_t link) const { return m_links[link].busyNs; }
    uint64_t Drops() const { return m_drops; }
    uint64_t Retransmissions() const { return m_retransmissions; }
    uint64_t Flows() const { return m_flows; }
    uint64_t Connections() const { return m_connections.size(); }

  private:
    Connection& ConnectionFor(uint32_t src, uint32_t dst)
    {
        uint64_t key = (uint64_t)src << 32 | dst;
        auto found = m_connections.find(key);
        if (found != m_connections.end())
        {
            return *found->second;
        }
        Connection* c = new Connection();
        c->src = src;
        c->dst = dst;
        m_connections[key].reset(c);
        c->socket = Socket::CreateSocket(m_hosts[src], TcpSocketFactory::GetTypeId());
        m_connectionOfSocket[PeekPointer(c->socket)] = c;
        c->socket->Bind(InetSocketAddress(Ipv4Address::GetAny(), kPortBase + dst));
        c->socket->SetConnectCallback(MakeCallback(&FlowTracker::OnConnected, this),
                                      MakeCallback(&FlowTracker::OnConnectFailed, this));
        c->socket->SetSendCallback(MakeCallback(&FlowTracker::OnSendSpace, this));
        c->socket->SetCloseCallbacks(MakeCallback(&FlowTracker::OnClosed, this),
                                     MakeCallback(&FlowTracker::OnConnectFailed, this));
        Connect(PeekPointer(c->socket), "Retransmission",
                MakeCallback(&FlowTracker::OnRetransmission, this));
        c->socket->Connect(InetSocketAddress(m_primary[dst], kSinkPort));
        return *c;
    }

    void Start(int64_t op, uint32_t src, uint32_t dst, uint64_t size, int64_t atNs)
    {
        Connection& c = ConnectionFor(src, dst);
        c.queued += size;
        c.undecided.push_back(Message{op, c.queued, size, atNs, -1});
        Push(c);
    }

    void Push(Connection& c)
    {
        if (!c.connected)
        {
            return;
        }
        while (c.written < c.queued)
        {
            uint64_t room = c.socket->GetTxAvailable();
            uint64_t n = std::min<uint64_t>(c.queued - c.written, room);
            if (n == 0)
            {
                return;
            }
            int sent = c.socket->Send(Create<Packet>(static_cast<uint32_t>(n)));
            if (sent <= 0)
            {
                return;
            }
            c.written += sent;
        }
    }

    void OnConnected(Ptr<Socket> socket)
    {
        Connection& c = *m_connectionOfSocket[PeekPointer(socket)];
        c.connected = true;
        Push(c);
    }

    void OnConnectFailed(Ptr<Socket> socket)
    {
        Connection& c = *m_connectionOfSocket[PeekPointer(socket)];
        if (!c.failed)
        {
            c.failed = true;
            std::ostringstream text;
            text << "the TCP connection from NPU " << c.src << " to NPU " << c.dst
                 << " failed at " << Simulator::Now().GetNanoSeconds()
                 << " ns (peer unreachable or too many retransmissions)";
            m_errors.push_back(text.str());
        }
    }

    void OnClosed(Ptr<Socket> socket) { OnConnectFailed(socket); }

    void OnSendSpace(Ptr<Socket> socket, uint32_t)
    {
        auto found = m_connectionOfSocket.find(PeekPointer(socket));
        if (found != m_connectionOfSocket.end())
        {
            Push(*found->second);
        }
    }

    void OnRetransmission(Ptr<const Packet>, const TcpHeader&, const Address&, const Address&,
                          Ptr<const TcpSocketBase>)
    {
        ++m_retransmissions;
    }

    void OnDrop(Ptr<const Packet>) { ++m_drops; }

    // A trace source that is not there would silently count nothing: an error instead.
    void Connect(ObjectBase* object, const std::string& source, const CallbackBase& callback)
    {
        if (!object->TraceConnectWithoutContext(source, callback))
        {
            m_errors.push_back("no trace source " + source + " to count with");
        }
    }

    void OnNewConnection(Ptr<Socket> socket, const Address&)
    {
        socket->SetRecvCallback(MakeCallback(&FlowTracker::OnReceive, this));
    }

    void OnReceive(Ptr<Socket> socket)
    {
        Address from;
        Ptr<Packet> packet;
        int64_t now = Simulator::Now().GetNanoSeconds();
        while ((packet = socket->RecvFrom(from)))
        {
            InetSocketAddress peer = InetSocketAddress::ConvertFrom(from);
            auto host = m_hostOfAddress.find(peer.GetIpv4().Get());
            uint32_t dst = m_hostOfNode[socket->GetNode()->GetId()];
            if (host == m_hostOfAddress.end() || peer.GetPort() != kPortBase + dst)
            {
                m_errors.push_back("data from an unknown peer reached a sink");
                continue;
            }
            auto found = m_connections.find((uint64_t)host->second << 32 | dst);
            if (found == m_connections.end())
            {
                m_errors.push_back("data reached a sink on a connection never opened");
                continue;
            }
            Connection& c = *found->second;
            c.received += packet->GetSize();
            while (!c.unreceived.empty() && c.unreceived.front().end <= c.received)
            {
                const Message& m = c.unreceived.front();
                if (m.decidedNs != now)
                {
                    std::ostringstream text;
                    text << "message " << m.op << " (NPU " << c.src << " -> " << c.dst << ", "
                         << m.size << " bytes) was decided to arrive at " << m.decidedNs
                         << " ns but reached its receiver at " << now << " ns";
                    m_errors.push_back(text.str());
                }
                c.unreceived.pop_front();
            }
            if (!c.undecided.empty() && c.undecided.front().end <= c.received)
            {
                std::ostringstream text;
                text << "message " << c.undecided.front().op << " (NPU " << c.src << " -> "
                     << c.dst << ") reached its receiver at " << now
                     << " ns before its arrival was decided";
                m_errors.push_back(text.str());
                c.undecided.pop_front();
            }
        }
    }

    // Every packet that starts down a link; the last link into a data segment's destination
    // decides arrivals.
    void OnWire(Ptr<const Packet> packet, Ptr<NetDevice> tx, Ptr<NetDevice> rx, Time txTime,
                Time lastBit)
    {
        auto link = m_linkOfDevice.find(PeekPointer(tx));
        if (link != m_linkOfDevice.end())
        {
            LinkCounter& counter = m_links[link->second];
            counter.bytes += packet->GetSize();
            counter.packets += 1;
            counter.busyNs += txTime.GetNanoSeconds();
        }
        auto host = m_hostOfNode.find(rx->GetNode()->GetId());
        if (host == m_hostOfNode.end())
        {
            return;   // into a switch
        }
        Ptr<Packet> copy = packet->Copy();
        PppHeader ppp;
        copy->RemoveHeader(ppp);
        if (ppp.GetProtocol() != 0x0021)
        {
            return;   // not IPv4
        }
        Ipv4Header ip;
        copy->RemoveHeader(ip);
        if (ip.GetProtocol() != 6)
        {
            return;
        }
        auto dstHost = m_hostOfAddress.find(ip.GetDestination().Get());
        if (dstHost == m_hostOfAddress.end() || dstHost->second != host->second)
        {
            return;   // passing through this host (rings forward)
        }
        TcpHeader tcp;
        copy->RemoveHeader(tcp);
        if (tcp.GetDestinationPort() != kSinkPort)
        {
            return;   // an acknowledgement towards a sender
        }
        auto srcHost = m_hostOfAddress.find(ip.GetSource().Get());
        if (srcHost == m_hostOfAddress.end())
        {
            return;
        }
        uint64_t key = (uint64_t)srcHost->second << 32 | host->second;
        auto found = m_connections.find(key);
        if (found == m_connections.end())
        {
            return;
        }
        Connection& c = *found->second;
        uint32_t seq = tcp.GetSequenceNumber().GetValue();
        if (tcp.GetFlags() & TcpHeader::SYN)
        {
            c.haveIsn = true;
            c.isn = seq + 1;
            return;
        }
        uint32_t length = copy->GetSize();
        if (length == 0 || !c.haveIsn)
        {
            return;
        }
        // the segment's stream offset, unwrapped around the shadow's in-order point
        uint32_t expected = c.isn + static_cast<uint32_t>(c.rcvNext);
        int64_t delta = static_cast<int32_t>(seq - expected);
        int64_t start = static_cast<int64_t>(c.rcvNext) + delta;
        if (start < 0)
        {
            return;
        }
        uint64_t begin = static_cast<uint64_t>(start);
        uint64_t end = begin + length;
        if (end <= c.rcvNext)
        {
            return;   // a duplicate
        }
        if (begin > c.rcvNext)
        {
            uint64_t& stored = c.outOfOrder[begin];
            stored = std::max(stored, end);
            return;
        }
        c.rcvNext = end;
        while (!c.outOfOrder.empty() && c.outOfOrder.begin()->first <= c.rcvNext)
        {
            c.rcvNext = std::max(c.rcvNext, c.outOfOrder.begin()->second);
            c.outOfOrder.erase(c.outOfOrder.begin());
        }
        int64_t arrival = (Simulator::Now() + lastBit).GetNanoSeconds();
        while (!c.undecided.empty() && c.undecided.front().end <= c.rcvNext)
        {
            Message m = c.undecided.front();
            c.undecided.pop_front();
            m.decidedNs = arrival;
            c.unreceived.push_back(m);
            m_decided.push_back(m.op);
            m_decided.push_back(arrival);
            if (m_earliestDecided < 0 || arrival < m_earliestDecided)
            {
                m_earliestDecided = arrival;
            }
            if (m_stopOnDecision)
            {
                Simulator::Stop();
            }
        }
    }

    std::vector<Ptr<Node>> m_hosts;
    std::vector<Ipv4Address> m_primary;
    std::vector<Ptr<Socket>> m_sinks;
    std::unordered_map<uint32_t, uint32_t> m_hostOfNode;
    std::unordered_map<uint32_t, uint32_t> m_hostOfAddress;
    std::unordered_map<const NetDevice*, uint32_t> m_linkOfDevice;
    std::vector<LinkCounter> m_links;
    std::unordered_map<uint64_t, std::unique_ptr<Connection>> m_connections;
    std::unordered_map<const Socket*, Connection*> m_connectionOfSocket;
    std::vector<int64_t> m_decided;
    std::vector<std::string> m_errors;
    int64_t m_earliestDecided = -1;
    bool m_stopOnDecision = false;
    uint64_t m_drops = 0;
    uint64_t m_retransmissions = 0;
    uint64_t m_flows = 0;
};

} // namespace astra_ns3
