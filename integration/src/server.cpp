// The token server's event loop: accept, check the peer, parse, route, answer from the cache or
// wait for the host (fetch_pool.hpp), write back with back-pressure.
#include "fetch_pool.hpp"
#include "peer.hpp"

#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/common/log.hpp>
#include <azl/integration/server.hpp>
#include <azl/integration/token_cache.hpp>

#include <fmt/format.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <unordered_map>

namespace azl::integration
{

namespace
{

using SteadyClock = std::chrono::steady_clock;
constexpr std::uint64_t kListenId = 0;
constexpr std::uint64_t kEventId = 1;
// Replies a client has not read yet: past this, its further requests wait unparsed and the
// connection is not read until it catches up (back-pressure), so that no client, however much it
// pipelines, makes the server buffer without bound.
constexpr std::size_t kMaxUnsentReplies = std::size_t{64} * 1024;

// What epoll watches a connection for: its requests, or only its socket draining while its replies
// are blocked (back-pressure: no reading until the client has read them).
constexpr std::uint32_t kReadEvents = EPOLLIN | EPOLLRDHUP;
constexpr std::uint32_t kWriteEvents = EPOLLOUT;

// Where a connection is in its life; exactly one at a time.
enum class ConnState
{
    fresh,   // accepted, no request yet: the first to go when room is needed (keep-alive timeout)
    idle,    // between the requests of a keep-alive connection (keep-alive timeout)
    reading, // part of a request arrived: the rest must follow within the request timeout
    waiting, // a complete request waits for a host fetch: not read meanwhile, no timeout
    closing, // its last reply is queued: nothing more is read; closed once the reply is sent
};

// The request a waiting connection is answered for when the host's token arrives.
struct Awaited
{
    Protocol protocol = Protocol::app_service;
    TokenRequest token;
    bool keep_alive = true;
};

struct Connection
{
    UniqueFd fd;
    int peer_port = 0; // the client's, for the eviction log
    ConnState state = ConnState::fresh;
    std::uint32_t events = kReadEvents;
    SteadyClock::time_point deadline; // of the state's timeout
    std::string in;
    std::string out; // replies not sent yet, from out_off on
    std::size_t out_off = 0;
    Awaited awaited; // while waiting
};

} // namespace

class TokenServer::Impl
{
public:
    Impl(ServerOptions options, TokenFetcher fetcher);
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;
    Impl(Impl&&) = delete;
    Impl& operator=(Impl&&) = delete;
    ~Impl() = default;

    EndReason run();
    void stop() noexcept;

    ServerOptions m_opt;
    TokenCache m_cache;
    UniqueFd m_listen;
    UniqueFd m_epoll;
    UniqueFd m_event; // wakes the loop: stop(), and each finished fetch (outlives m_fetches)
    int m_port = 0;
    std::atomic<bool> m_stop{false};
    ServerStats m_stats;

private:
    void add(int fd, std::uint64_t id, std::uint32_t events) const;
    void watch(std::uint64_t id, Connection& c, std::uint32_t events) const;
    void accept_all();
    bool evict_idle();
    enum class Peer
    {
        ours,
        other_user,
        unknown, // gone before we looked (a client that connects and resets), or unreadable
    };
    Peer peer_of(const sockaddr_in& peer);
    void evicted(int peer_port, std::string_view why);
    void on_readable(std::uint64_t id, Connection& c);
    void process(std::uint64_t id, Connection& c);
    bool parse_one(std::uint64_t id, Connection& c);
    void handle(std::uint64_t id, Connection& c, const HttpRequest& req);
    void answer_finished_fetches();
    void respond(Connection& c, int status, std::string_view body, bool keep_alive);
    void respond_awaited(Connection& c, const CacheHit& hit);
    bool flush(std::uint64_t id, Connection& c);
    const std::string& rendered(
        Protocol protocol,
        const std::string& key,
        const AccessToken& token,
        const TokenRequest& request,
        std::chrono::system_clock::time_point now);
    void close(std::uint64_t id);
    void sweep(SteadyClock::time_point now);

    // Reply bodies of cached tokens, rendered once per token (and per second for the protocols
    // whose replies count down): the hot path then only formats the status line.
    struct Rendered
    {
        std::int64_t expires_on = 0;
        std::int64_t second = 0;
        std::string body;
    };

    std::unordered_map<std::string, Rendered> m_rendered;
    std::unordered_map<std::uint64_t, Connection> m_conns;
    FetchPool m_fetches; // after m_event, which its workers write to
    PeerOwners m_peers;
    std::uint64_t m_next_id = 2;
    SteadyClock::time_point m_last_activity = SteadyClock::now();
    std::shared_ptr<spdlog::logger> m_log = logger("bridge");
};

TokenServer::Impl::Impl(ServerOptions options, TokenFetcher fetcher)
    : m_opt(std::move(options))
    , m_epoll(::epoll_create1(EPOLL_CLOEXEC))
    , m_event(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC))
    , m_fetches(std::move(fetcher), m_opt.max_fetches, m_event.get())
{
    if (!m_epoll || !m_event)
    {
        throw_errno("setting up the bridge's event loop");
    }
    m_listen = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!m_listen)
    {
        throw_errno("creating the bridge's socket");
    }
    const int one = 1;
    ::setsockopt(m_listen.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(m_opt.port));
    const auto* sa = reinterpret_cast<const sockaddr*>(&addr); // the sockets API
    if (::bind(m_listen.get(), sa, sizeof addr) != 0)
    {
        // The preferred port (the one shells already exported) is taken: any port will do.
        addr.sin_port = 0;
        if (m_opt.port == 0 || ::bind(m_listen.get(), sa, sizeof addr) != 0)
        {
            throw_errno("binding the bridge's socket on 127.0.0.1");
        }
    }
    if (::listen(m_listen.get(), 1024) != 0)
    {
        throw_errno("listening on 127.0.0.1");
    }
    socklen_t len = sizeof addr;
    if (::getsockname(m_listen.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    {
        throw_errno("reading the bridge's port");
    }
    m_port = ntohs(addr.sin_port);
    add(m_listen.get(), kListenId, EPOLLIN);
    add(m_event.get(), kEventId, EPOLLIN);
}

void TokenServer::Impl::add(int fd, std::uint64_t id, std::uint32_t events) const
{
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = id;
    if (::epoll_ctl(m_epoll.get(), EPOLL_CTL_ADD, fd, &ev) != 0)
    {
        throw_errno("watching a socket");
    }
}

// Switches what epoll watches `c` for (kReadEvents or kWriteEvents).
void TokenServer::Impl::watch(std::uint64_t id, Connection& c, std::uint32_t events) const
{
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = id;
    ::epoll_ctl(m_epoll.get(), EPOLL_CTL_MOD, c.fd.get(), &ev);
    c.events = events;
}

void TokenServer::Impl::stop() noexcept
{
    m_stop.store(true);
    const std::uint64_t one = 1;
    // Cannot fail short of a saturated counter, which wakes the loop just as well.
    [[maybe_unused]] const ssize_t woken = ::write(m_event.get(), &one, sizeof one);
}

TokenServer::Impl::Peer TokenServer::Impl::peer_of(const sockaddr_in& peer)
{
    if (!m_opt.check_peer_uid)
    {
        return Peer::ours;
    }
    const auto uid = m_peers.owner_of(peer, m_port);
    if (!uid)
    {
        return Peer::unknown;
    }
    return *uid == m_opt.allowed_uid ? Peer::ours : Peer::other_user;
}

void TokenServer::Impl::accept_all()
{
    for (;;)
    {
        sockaddr_in addr{};
        socklen_t len = sizeof addr;
        UniqueFd fd(::accept4(
            m_listen.get(),
            reinterpret_cast<sockaddr*>(&addr), // the sockets API
            &len,
            SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (!fd)
        {
            if (errno == EINTR || errno == ECONNABORTED)
            {
                continue;
            }
            return; // EAGAIN, or out of descriptors: the backlog keeps the rest for later
        }
        const int peer_port = ntohs(addr.sin_port);
        if (m_conns.size() >= m_opt.max_connections && !evict_idle())
        {
            ++m_stats.refused;
            evicted(peer_port, "refused at the connection limit, no connection idle");
            continue;
        }
        if (const Peer peer = peer_of(addr); peer != Peer::ours)
        {
            // Another user's process (or one we cannot identify): a short refusal, then close.
            ++m_stats.refused;
            const auto reply = http_response(
                403,
                error_body(
                    Protocol::imds,
                    403,
                    "forbidden",
                    "this bridge serves only the user who started it"),
                false);
            (void)::send(fd.get(), reply.data(), reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
            // Only another user's process is news: a client that is gone already is not.
            if (peer == Peer::other_user)
            {
                m_log->warn("refused a connection from another user's process");
            }
            else
            {
                m_log->debug("refused a connection whose owner was not found (closed already?)");
            }
            continue;
        }
        const int one = 1;
        ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        const std::uint64_t id = m_next_id++;
        add(fd.get(), id, kReadEvents);
        Connection& c = m_conns[id];
        c.fd = std::move(fd);
        c.peer_port = peer_port;
        c.deadline = SteadyClock::now() + m_opt.keepalive_timeout;
    }
}

// At the connection limit, an idle connection (no request begun or waiting, no reply unsent, no
// bytes unread) makes room for the new one, so that connections that never send cannot lock valid
// clients out: the oldest of those that never sent a request, else the one idle the longest (a
// keep-alive client may reconnect at any time). False when every connection is busy.
bool TokenServer::Impl::evict_idle()
{
    std::vector<std::uint64_t> busy; // idle to us, but with bytes waiting in the socket
    for (;;)
    {
        auto victim = m_conns.end();
        for (auto it = m_conns.begin(); it != m_conns.end(); ++it)
        {
            const Connection& c = it->second;
            if ((c.state != ConnState::fresh && c.state != ConnState::idle) || !c.out.empty()
                || std::find(busy.begin(), busy.end(), it->first) != busy.end())
            {
                continue;
            }
            // Those that never sent a request first, then the longest idle.
            const auto rank = [](const Connection& x)
            { return std::pair(x.state != ConnState::fresh, x.deadline); };
            if (victim == m_conns.end() || rank(c) < rank(victim->second))
            {
                victim = it;
            }
        }
        if (victim == m_conns.end())
        {
            return false;
        }
        int unread = 0;
        if (::ioctl(victim->second.fd.get(), FIONREAD, &unread) == 0 && unread > 0)
        {
            busy.push_back(victim->first);
            continue;
        }
        evicted(victim->second.peer_port, "idle, to make room at the connection limit");
        m_conns.erase(victim);
        return true;
    }
}

// A connection closed unanswered at the connection limit: counted, and logged with its client's
// port before it is closed, so that a client that saw the close can be told it was evicted (the
// soak test, bench/bridge_soak.sh, checks every such close against these lines).
void TokenServer::Impl::evicted(int peer_port, std::string_view why)
{
    ++m_stats.evicted;
    m_log->debug("evicted 127.0.0.1:{}: {}", peer_port, why);
}

void TokenServer::Impl::close(std::uint64_t id)
{
    m_conns.erase(id); // closing the descriptor removes it from the epoll set
}

// Sends what it can; false when the connection is gone.
bool TokenServer::Impl::flush(std::uint64_t id, Connection& c)
{
    while (c.out_off < c.out.size())
    {
        const ssize_t n =
            ::send(c.fd.get(), c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
        {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        {
            if (c.events != kWriteEvents)
            {
                // Back-pressure: no reading until the client has read its replies, which it must
                // do within the request timeout.
                watch(id, c, kWriteEvents);
                c.deadline = SteadyClock::now() + m_opt.request_timeout;
            }
            return true;
        }
        if (n <= 0)
        {
            close(id);
            return false;
        }
        c.out_off += static_cast<std::size_t>(n);
    }
    c.out.clear();
    c.out_off = 0;
    if (c.state == ConnState::closing)
    {
        close(id);
        return false;
    }
    if (c.events == kWriteEvents)
    {
        watch(id, c, kReadEvents);
        c.deadline =
            SteadyClock::now()
            + (c.state == ConnState::reading ? m_opt.request_timeout : m_opt.keepalive_timeout);
    }
    return true;
}

void TokenServer::Impl::respond(Connection& c, int status, std::string_view body, bool keep_alive)
{
    if (status >= 400)
    {
        ++m_stats.refused;
    }
    c.out += http_response(status, body, keep_alive);
    if (!keep_alive)
    {
        c.state = ConnState::closing;
    }
}

const std::string& TokenServer::Impl::rendered(
    Protocol protocol,
    const std::string& key,
    const AccessToken& token,
    const TokenRequest& request,
    std::chrono::system_clock::time_point now)
{
    const auto second =
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    const bool counts_down = protocol == Protocol::imds || protocol == Protocol::cloud_shell;
    std::string slot = key;
    slot += static_cast<char>('0' + static_cast<int>(protocol));
    auto& r = m_rendered[slot];
    if (r.body.empty() || r.expires_on != token.expires_on || (counts_down && r.second != second))
    {
        r = {token.expires_on, second, render_token(protocol, token, request, now)};
    }
    return r.body;
}

// Answers a connection that waited for the host with the token or failure it waited for.
void TokenServer::Impl::respond_awaited(Connection& c, const CacheHit& hit)
{
    const Awaited& a = c.awaited;
    if (const auto* token = std::get_if<const AccessToken*>(&hit))
    {
        respond(
            c,
            200,
            render_token(a.protocol, **token, a.token, std::chrono::system_clock::now()),
            a.keep_alive);
    }
    else if (const auto* error = std::get_if<const CachedError*>(&hit))
    {
        const auto r = render_host_error(a.protocol, **error);
        respond(c, r.status, r.body, a.keep_alive);
    }
}

void TokenServer::Impl::on_readable(std::uint64_t id, Connection& c)
{
    std::array<char, 16384> buf{};
    const std::size_t cap = m_opt.limits.max_head + m_opt.limits.max_body + buf.size();
    for (;;)
    {
        const ssize_t n = ::recv(c.fd.get(), buf.data(), buf.size(), 0);
        if (n < 0 && errno == EINTR)
        {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        {
            break;
        }
        if (n <= 0)
        {
            close(id);
            return;
        }
        c.in.append(buf.data(), static_cast<std::size_t>(n));
        // A short read emptied the socket: skip the EAGAIN round trip (epoll is level-triggered).
        // Past the cap the parser refuses it below; a waiting connection is simply dropped.
        if (static_cast<std::size_t>(n) < buf.size() || c.in.size() > cap)
        {
            break;
        }
    }
    if (c.state == ConnState::waiting)
    {
        if (c.in.size() > cap)
        {
            close(id);
        }
        return;
    }
    process(id, c);
}

void TokenServer::Impl::process(std::uint64_t id, Connection& c)
{
    for (;;)
    {
        bool replies_full = false;
        while (c.state != ConnState::waiting && c.state != ConnState::closing && !c.in.empty())
        {
            if (c.out.size() - c.out_off >= kMaxUnsentReplies)
            {
                replies_full = true;
                break;
            }
            if (!parse_one(id, c))
            {
                break;
            }
        }
        // Requests held back by the reply limit go on once the replies are out.
        if (!flush(id, c) || !replies_full || c.events == kWriteEvents)
        {
            return;
        }
    }
}

// Parses and handles the request at the front of c.in; false when it is incomplete or malformed.
bool TokenServer::Impl::parse_one(std::uint64_t id, Connection& c)
{
    auto parsed = parse_request(c.in, m_opt.limits);
    if (parsed.status == ParseStatus::incomplete)
    {
        if (c.state != ConnState::reading)
        {
            c.state = ConnState::reading; // slowloris: the whole request must arrive in time
            c.deadline = SteadyClock::now() + m_opt.request_timeout;
        }
        return false;
    }
    if (parsed.status == ParseStatus::error)
    {
        c.in.clear();
        respond(
            c,
            parsed.error_status,
            error_body(Protocol::imds, parsed.error_status, "invalid_request", parsed.error),
            false);
        return false;
    }
    c.in.erase(0, parsed.consumed);
    c.state = ConnState::idle;
    c.deadline = SteadyClock::now() + m_opt.keepalive_timeout;
    handle(id, c, parsed.request);
    return true;
}

// One request, top to bottom: route it; answer from the cache (a fresh token, or a failure
// remembered for a few seconds); else wait for the host's answer, joining the fetch of the same
// token if one runs (answer_finished_fetches replies once it is done).
void TokenServer::Impl::handle(std::uint64_t id, Connection& c, const HttpRequest& req)
{
    ++m_stats.requests;
    m_last_activity = SteadyClock::now();
    const bool keep_alive = req.keep_alive();
    auto routed = route_request(req, m_opt.secrets, m_opt.tenant);
    if (const auto* refusal = std::get_if<Refusal>(&routed))
    {
        m_log->debug("refused {} request: {}", req.method, refusal->status);
        respond(c, refusal->status, refusal->body, keep_alive && refusal->status != 403);
        return;
    }
    const auto& route = std::get<Route>(routed);
    const auto now = std::chrono::system_clock::now();
    if (route.protocol == Protocol::bridge_status)
    {
        respond(c, 200, render_cache_entries(m_cache.entries(now)), keep_alive);
        return;
    }
    const std::string key = route.token.cache_key();
    const CacheHit hit = m_cache.find(key, now);
    if (const auto* token = std::get_if<const AccessToken*>(&hit))
    {
        respond(c, 200, rendered(route.protocol, key, **token, route.token, now), keep_alive);
        return;
    }
    if (const auto* error = std::get_if<const CachedError*>(&hit))
    {
        const auto r = render_host_error(route.protocol, **error);
        respond(c, r.status, r.body, keep_alive);
        return;
    }
    switch (m_fetches.join(key, route.token, id))
    {
    case FetchPool::Joined::started:
        ++m_stats.host_calls;
        m_log->info("asking the host for a token: {}", key);
        [[fallthrough]];
    case FetchPool::Joined::running: // single flight: wait for the call already running
        c.state = ConnState::waiting;
        c.awaited = {route.protocol, route.token, keep_alive};
        return;
    case FetchPool::Joined::full:
        respond(
            c,
            503,
            error_body(
                route.protocol,
                503,
                "temporarily_unavailable",
                "azurelinux-bridge: too many different tokens requested at once"),
            keep_alive);
        return;
    }
}

// The host answered: its token or failure goes into the cache and to every connection waiting.
void TokenServer::Impl::answer_finished_fetches()
{
    std::uint64_t count = 0;
    // Only resets the eventfd; the finished fetches are queued in the pool.
    [[maybe_unused]] const ssize_t reset = ::read(m_event.get(), &count, sizeof count);
    const auto now = std::chrono::system_clock::now();
    for (const auto& fetch : m_fetches.take_finished())
    {
        const auto* token = std::get_if<AccessToken>(&fetch.outcome);
        const auto* error = std::get_if<HostError>(&fetch.outcome);
        std::optional<CachedError> failure;
        if (token != nullptr)
        {
            m_cache.store(fetch.key, *token, now);
        }
        else
        {
            m_log->warn("host token request failed: {}", error->what());
            m_cache.store_error(fetch.key, *error, now);
            failure = CachedError{error->kind(), error->what()};
        }
        // A token that expires within minutes is still handed to the requests that waited for it.
        const CacheHit hit = token != nullptr ? CacheHit(token) : CacheHit(&*failure);
        for (const auto id : fetch.waiters)
        {
            const auto it = m_conns.find(id);
            if (it == m_conns.end() || it->second.state != ConnState::waiting)
            {
                continue; // the client gave up meanwhile
            }
            it->second.state = ConnState::idle;
            respond_awaited(it->second, hit);
            process(id, it->second); // pipelined requests, then the flush
        }
    }
}

void TokenServer::Impl::sweep(SteadyClock::time_point now)
{
    std::vector<std::uint64_t> expired;
    for (auto& [id, c] : m_conns)
    {
        if (c.state != ConnState::waiting && now >= c.deadline)
        {
            expired.push_back(id);
        }
    }
    for (const auto id : expired)
    {
        auto& c = m_conns.at(id);
        if (c.state == ConnState::reading && c.out.empty())
        {
            // A request that trickles in too slowly (slowloris) gets 408 and the door.
            respond(
                c,
                408,
                error_body(
                    Protocol::imds, 408, "request_timeout", "the request did not arrive in time"),
                false);
            flush(id, c);
        }
        else
        {
            close(id);
        }
    }
}

TokenServer::EndReason TokenServer::Impl::run()
{
    std::array<epoll_event, 128> events{};
    auto last_sweep = SteadyClock::now();
    while (!m_stop.load())
    {
        const int n =
            ::epoll_wait(m_epoll.get(), events.data(), static_cast<int>(events.size()), 250);
        if (n < 0 && errno != EINTR)
        {
            throw_errno("waiting for connections");
        }
        for (int i = 0; i < n; ++i)
        {
            const auto id = events.at(static_cast<std::size_t>(i)).data.u64;
            const auto ev = events.at(static_cast<std::size_t>(i)).events;
            if (id == kListenId)
            {
                accept_all();
                continue;
            }
            if (id == kEventId)
            {
                answer_finished_fetches();
                continue;
            }
            auto it = m_conns.find(id);
            if (it == m_conns.end())
            {
                continue;
            }
            if ((ev & EPOLLOUT) != 0)
            {
                if (flush(id, it->second) && it->second.events == kReadEvents
                    && !it->second.in.empty())
                {
                    process(id, it->second); // the requests the reply limit held back
                }
                it = m_conns.find(id);
                if (it == m_conns.end())
                {
                    continue;
                }
            }
            if (it->second.events == kWriteEvents)
            {
                // Not read while its replies wait (back-pressure); a hang-up or error ends it.
                if ((ev & (EPOLLHUP | EPOLLERR)) != 0)
                {
                    close(id);
                }
                continue;
            }
            if ((ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0)
            {
                on_readable(id, it->second);
            }
        }
        const auto now = SteadyClock::now();
        if (now - last_sweep >= std::chrono::milliseconds(100))
        {
            last_sweep = now;
            sweep(now);
            const auto wall = std::chrono::system_clock::now();
            m_cache.prune(wall);
            // Replies of expired tokens are never sent again: without this, every resource ever
            // asked for would keep its rendered replies for the server's lifetime.
            const auto wall_s =
                std::chrono::duration_cast<std::chrono::seconds>(wall.time_since_epoch()).count();
            std::erase_if(
                m_rendered,
                [wall_s](const auto& slot) { return slot.second.expires_on <= wall_s; });
        }
        if (m_opt.idle_timeout.count() > 0 && m_fetches.idle()
            && now - m_last_activity >= m_opt.idle_timeout)
        {
            return EndReason::idle;
        }
    }
    return EndReason::stopped;
}

TokenServer::TokenServer(ServerOptions options, TokenFetcher fetcher)
    : m_impl(std::make_unique<Impl>(std::move(options), std::move(fetcher)))
{
}

TokenServer::~TokenServer() = default;

int TokenServer::port() const noexcept
{
    return m_impl->m_port;
}

TokenServer::EndReason TokenServer::run()
{
    return m_impl->run();
}

void TokenServer::stop() noexcept
{
    m_impl->stop();
}

ServerStats TokenServer::stats() const
{
    return m_impl->m_stats;
}

} // namespace azl::integration
