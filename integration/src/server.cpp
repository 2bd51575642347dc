#include <azl/common/error.hpp>
#include <azl/common/log.hpp>
#include <azl/integration/server.hpp>

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
#include <map>
#include <mutex>
#include <thread>
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

struct Connection
{
    UniqueFd fd;
    std::string in;
    std::string out;
    std::size_t out_off = 0;
    SteadyClock::time_point deadline;
    bool request_started = false; // some bytes of a request arrived: the request timeout runs
    bool close_after_write = false;
    bool want_write = false;
    bool waiting = false; // for a host fetch
    Protocol protocol = Protocol::app_service;
    TokenRequest token;
    bool keep_alive = true;
    bool served = false; // a request was answered: prefer closing connections that never sent one
};

struct Completion
{
    std::string key;
    std::optional<AccessToken> token;
    std::optional<HostError> error;
};

struct Pending
{
    std::thread worker;
    std::vector<std::uint64_t> waiters;
};

} // namespace

class TokenServer::Impl
{
public:
    Impl(ServerOptions options, TokenFetcher fetcher);
    ~Impl();
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;
    Impl(Impl&&) = delete;
    Impl& operator=(Impl&&) = delete;

    EndReason run();
    void stop() noexcept;

    ServerOptions m_opt;
    TokenFetcher m_fetcher;
    TokenCache m_cache;
    UniqueFd m_listen;
    UniqueFd m_epoll;
    UniqueFd m_event;
    int m_port = 0;
    std::atomic<bool> m_stop{false};
    ServerStats m_stats;

private:
    void add(int fd, std::uint64_t id, std::uint32_t events) const;
    void accept_all();
    bool evict_idle();
    enum class Peer
    {
        ours,
        other_user,
        unknown, // gone before we looked (a client that connects and resets), or unreadable
    };
    Peer peer_of(int fd);
    void on_readable(std::uint64_t id, Connection& c);
    void process(std::uint64_t id, Connection& c);
    bool parse_one(std::uint64_t id, Connection& c);
    void handle(std::uint64_t id, Connection& c, const HttpRequest& req);
    void start_fetch(const std::string& key, const TokenRequest& token, std::uint64_t waiter);
    void drain_completions();
    void respond(Connection& c, int status, std::string_view body, bool keep_alive);
    void respond_token(Connection& c, const CacheHit& hit);
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
    std::map<std::string, Pending> m_inflight;
    std::mutex m_done_mutex;
    std::vector<Completion> m_done;
    std::uint64_t m_next_id = 2;
    enum class DiagState
    {
        unknown,
        works,
        broken,
    };
    DiagState m_diag = DiagState::unknown; // whether sock_diag answers for peers (peer_of)
    SteadyClock::time_point m_last_activity = SteadyClock::now();
    std::shared_ptr<spdlog::logger> m_log = logger("bridge");
};

TokenServer::Impl::Impl(ServerOptions options, TokenFetcher fetcher)
    : m_opt(std::move(options))
    , m_fetcher(std::move(fetcher))
{
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
    m_epoll = UniqueFd(::epoll_create1(EPOLL_CLOEXEC));
    m_event = UniqueFd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (!m_epoll || !m_event)
    {
        throw_errno("setting up the bridge's event loop");
    }
    add(m_listen.get(), kListenId, EPOLLIN);
    add(m_event.get(), kEventId, EPOLLIN);
}

TokenServer::Impl::~Impl()
{
    for (auto& [key, pending] : m_inflight)
    {
        if (pending.worker.joinable())
        {
            pending.worker.join();
        }
    }
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

void TokenServer::Impl::stop() noexcept
{
    m_stop.store(true);
    const std::uint64_t one = 1;
    // Cannot fail short of a saturated counter, which wakes the loop just as well.
    [[maybe_unused]] const ssize_t woken = ::write(m_event.get(), &one, sizeof one);
}

TokenServer::Impl::Peer TokenServer::Impl::peer_of(int fd)
{
    if (!m_opt.check_peer_uid)
    {
        return Peer::ours;
    }
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0
        || peer.sin_family != AF_INET)
    {
        return Peer::unknown;
    }
    std::array<char, INET_ADDRSTRLEN> ip{};
    ::inet_ntop(AF_INET, &peer.sin_addr, ip.data(), ip.size());
    const int port = ntohs(peer.sin_port);
    // The kernel's socket diagnostics first: /proc/net/tcp costs time in proportion to every
    // socket of the namespace, so under connection churn it would starve the event loop. /proc
    // when sock_diag is missing, or until it has found a client once (a kernel whose sock_diag
    // misses sockets /proc lists is then noticed).
    const auto diag = m_diag == DiagState::broken
                          ? DiagLookup{}
                          : tcp_peer_uid_diag(ip.data(), port, "127.0.0.1", m_port);
    std::optional<uid_t> uid;
    if (diag.result == DiagLookup::Result::found)
    {
        m_diag = DiagState::works;
        uid = diag.uid;
    }
    else if (diag.result == DiagLookup::Result::unavailable || m_diag != DiagState::works)
    {
        uid = tcp_peer_uid(ip.data(), port, "127.0.0.1", m_port);
        if (uid || diag.result == DiagLookup::Result::unavailable)
        {
            m_diag = DiagState::broken;
        }
    }
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
        UniqueFd fd(::accept4(m_listen.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (!fd)
        {
            if (errno == EINTR || errno == ECONNABORTED)
            {
                continue;
            }
            return; // EAGAIN, or out of descriptors: the backlog keeps the rest for later
        }
        if (m_conns.size() >= m_opt.max_connections && !evict_idle())
        {
            ++m_stats.refused;
            continue;
        }
        if (const Peer peer = peer_of(fd.get()); peer != Peer::ours)
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
        add(fd.get(), id, EPOLLIN | EPOLLRDHUP);
        Connection& c = m_conns[id];
        c.fd = std::move(fd);
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
            if (c.request_started || c.waiting || !c.out.empty()
                || std::find(busy.begin(), busy.end(), it->first) != busy.end())
            {
                continue;
            }
            if (victim == m_conns.end()
                || std::pair(c.served, c.deadline)
                       < std::pair(victim->second.served, victim->second.deadline))
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
        m_log->debug("at {} connections: closing an idle one", m_conns.size());
        m_conns.erase(victim);
        return true;
    }
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
            if (!c.want_write)
            {
                // Back-pressure: no reading until the client has read its replies, which it must
                // do within the request timeout.
                epoll_event ev{};
                ev.events = EPOLLOUT;
                ev.data.u64 = id;
                ::epoll_ctl(m_epoll.get(), EPOLL_CTL_MOD, c.fd.get(), &ev);
                c.want_write = true;
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
    if (c.close_after_write)
    {
        close(id);
        return false;
    }
    if (c.want_write)
    {
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP;
        ev.data.u64 = id;
        ::epoll_ctl(m_epoll.get(), EPOLL_CTL_MOD, c.fd.get(), &ev);
        c.want_write = false;
        c.deadline = SteadyClock::now()
                     + (c.request_started ? m_opt.request_timeout : m_opt.keepalive_timeout);
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
        c.close_after_write = true;
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

void TokenServer::Impl::respond_token(Connection& c, const CacheHit& hit)
{
    if (const auto* token = std::get_if<AccessToken>(&hit))
    {
        respond(
            c,
            200,
            render_token(c.protocol, *token, c.token, std::chrono::system_clock::now()),
            c.keep_alive);
    }
    else if (const auto* error = std::get_if<CachedError>(&hit))
    {
        const auto r = render_host_error(c.protocol, *error);
        respond(c, r.status, r.body, c.keep_alive);
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
    if (c.waiting)
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
        while (!c.waiting && !c.close_after_write && !c.in.empty())
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
        if (!flush(id, c) || !replies_full || c.want_write)
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
        if (!c.request_started)
        {
            c.request_started = true; // slowloris: the whole request must arrive in time
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
    c.request_started = false;
    c.served = true;
    c.deadline = SteadyClock::now() + m_opt.keepalive_timeout;
    handle(id, c, parsed.request);
    return true;
}

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
    c.protocol = route.protocol;
    c.token = route.token;
    c.keep_alive = keep_alive;
    const std::string key = route.token.cache_key();
    if (const AccessToken* token = m_cache.fresh_token(key, now))
    {
        respond(c, 200, rendered(c.protocol, key, *token, c.token, now), keep_alive);
        return;
    }
    const CacheHit hit = m_cache.find(key, now);
    if (!std::holds_alternative<std::monostate>(hit))
    {
        respond_token(c, hit);
        return;
    }
    if (auto it = m_inflight.find(key); it != m_inflight.end())
    {
        it->second.waiters.push_back(id); // single flight: wait for the call already running
        c.waiting = true;
        return;
    }
    if (m_inflight.size() >= m_opt.max_fetches)
    {
        respond(
            c,
            503,
            error_body(
                c.protocol,
                503,
                "temporarily_unavailable",
                "azurelinux-bridge: too many different tokens requested at once"),
            keep_alive);
        return;
    }
    c.waiting = true;
    start_fetch(key, route.token, id);
}

void TokenServer::Impl::start_fetch(
    const std::string& key, const TokenRequest& token, std::uint64_t waiter)
{
    ++m_stats.host_calls;
    m_log->info("asking the host for a token: {}", key);
    Pending& p = m_inflight[key];
    p.waiters.push_back(waiter);
    p.worker = std::thread(
        [this, key, token]
        {
            Completion done{key, std::nullopt, std::nullopt};
            try
            {
                done.token = m_fetcher(token);
            }
            catch (const HostError& e)
            {
                done.error = e;
            }
            catch (const std::exception& e)
            {
                done.error = HostError(HostErrorKind::failed, e.what());
            }
            {
                const std::lock_guard lock(m_done_mutex);
                m_done.push_back(std::move(done));
            }
            const std::uint64_t one = 1;
            [[maybe_unused]] const ssize_t woken = ::write(m_event.get(), &one, sizeof one);
        });
}

void TokenServer::Impl::drain_completions()
{
    std::uint64_t count = 0;
    // Only resets the eventfd; the completions themselves are in m_done.
    [[maybe_unused]] const ssize_t reset = ::read(m_event.get(), &count, sizeof count);
    std::vector<Completion> done;
    {
        const std::lock_guard lock(m_done_mutex);
        done.swap(m_done);
    }
    const auto now = std::chrono::system_clock::now();
    for (auto& d : done)
    {
        auto node = m_inflight.extract(d.key);
        node.mapped().worker.join();
        if (d.token)
        {
            m_cache.store(d.key, *d.token, now);
        }
        else
        {
            m_log->warn("host token request failed: {}", d.error->what());
            m_cache.store_error(d.key, *d.error, now);
        }
        // A token that expires within minutes is still handed to the requests that waited for it.
        const CacheHit hit =
            d.token ? CacheHit(*d.token) : CacheHit(CachedError{d.error->kind(), d.error->what()});
        for (const auto id : node.mapped().waiters)
        {
            const auto it = m_conns.find(id);
            if (it == m_conns.end() || !it->second.waiting)
            {
                continue; // the client gave up meanwhile
            }
            it->second.waiting = false;
            respond_token(it->second, hit);
            process(id, it->second); // pipelined requests, then the flush
        }
    }
}

void TokenServer::Impl::sweep(SteadyClock::time_point now)
{
    std::vector<std::uint64_t> expired;
    for (auto& [id, c] : m_conns)
    {
        if (!c.waiting && now >= c.deadline)
        {
            expired.push_back(id);
        }
    }
    for (const auto id : expired)
    {
        auto& c = m_conns.at(id);
        if (c.request_started && c.out.empty())
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
                drain_completions();
                continue;
            }
            auto it = m_conns.find(id);
            if (it == m_conns.end())
            {
                continue;
            }
            if ((ev & EPOLLOUT) != 0)
            {
                if (flush(id, it->second) && !it->second.want_write && !it->second.in.empty())
                {
                    process(id, it->second); // the requests the reply limit held back
                }
                it = m_conns.find(id);
                if (it == m_conns.end())
                {
                    continue;
                }
            }
            if (it->second.want_write)
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
        if (m_opt.idle_timeout.count() > 0 && m_inflight.empty()
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
