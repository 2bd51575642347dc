#pragma once

#include <azl/integration/http.hpp>
#include <azl/integration/protocols.hpp>
#include <azl/integration/token.hpp>

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace azl::integration
{

// Gets a token from the host; runs on a worker thread; throws HostError. `serve` passes
// fetch_host_token (host_cli.hpp); tests pass fakes.
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
    std::size_t evicted = 0; // closed unanswered at the connection limit: idle ones, or new ones
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

} // namespace azl::integration
