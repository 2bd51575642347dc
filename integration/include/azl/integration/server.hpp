#pragma once

#include <azl/common/fs.hpp>
#include <azl/integration/http.hpp>
#include <azl/integration/protocols.hpp>
#include <azl/integration/token_cache.hpp>

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace azl::integration
{

// Gets a token from the host; runs on a worker thread; throws HostError.
using TokenFetcher = std::function<AccessToken(const TokenRequest&)>;

// How the server listens and what it accepts.
struct ServerOptions
{
    int port = 0; // preferred port on 127.0.0.1; 0 or taken: an ephemeral one
    Secrets secrets;
    std::optional<std::string> tenant;    // for protocol requests
    std::chrono::seconds idle_timeout{0}; // 0: never exit for idleness
    HttpLimits limits;
    std::chrono::milliseconds request_timeout{5000}; // a started request must be complete by then
    std::chrono::milliseconds keepalive_timeout{60000};
    std::size_t max_connections = 512;
    std::size_t max_fetches = 16; // distinct keys fetched at once
    uid_t allowed_uid = 0;        // peers must own their socket as this uid
    bool check_peer_uid = true;
};

// Counters for tests and logs.
struct ServerStats
{
    std::size_t requests = 0;
    std::size_t refused = 0;
    std::size_t host_calls = 0;
};

// The loopback token server: one epoll thread answers cached tokens inline; a cache miss starts
// one worker thread per key (single flight) whose result answers every request waiting for it.
class TokenServer
{
public:
    // Binds and listens; throws SystemError.
    TokenServer(ServerOptions options, TokenFetcher fetcher);
    TokenServer(const TokenServer&) = delete;
    TokenServer& operator=(const TokenServer&) = delete;
    TokenServer(TokenServer&&) = delete;
    TokenServer& operator=(TokenServer&&) = delete;
    ~TokenServer();

    // The port it listens on.
    [[nodiscard]] int port() const noexcept;

    // Serves until stop() or the idle timeout; returns why it ended.
    enum class EndReason
    {
        stopped,
        idle,
    };
    EndReason run();

    // Asks run() to return; safe from any thread and from signal handlers.
    void stop() noexcept;

    // Counters (call after run() returned, or from the loop's thread).
    [[nodiscard]] ServerStats stats() const;

private:
    class Impl;
    std::unique_ptr<Impl> m_impl;
};

// The uid owning the client end (local address `peer`) of a TCP connection to `server`, from
// /proc/net/tcp and /proc/net/tcp6 (`proc_net` is a test hook); nullopt when not found.
std::optional<uid_t> tcp_peer_uid(
    const std::string& peer_ip,
    int peer_port,
    const std::string& server_ip,
    int server_port,
    const std::filesystem::path& proc_net = "/proc/net");

// The same asked of the kernel's socket diagnostics (NETLINK_SOCK_DIAG, what `ss` uses): one
// lookup by address, where /proc/net/tcp lists every socket of the namespace (thousands in
// TIME_WAIT when clients come and go), so its cost grows with the connection rate.
struct DiagLookup
{
    enum class Result
    {
        found,
        not_found,
        unavailable, // no sock_diag in this kernel, or it refused: use tcp_peer_uid
    };
    Result result = Result::unavailable;
    uid_t uid = 0;
};

DiagLookup tcp_peer_uid_diag(
    const std::string& peer_ip, int peer_port, const std::string& server_ip, int server_port);

} // namespace azl::integration
