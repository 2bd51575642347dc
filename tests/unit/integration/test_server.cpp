#include "peer.hpp"

#include <azl/common/fs.hpp>
#include <azl/integration/server.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstring>
#include <test_support.hpp>
#include <thread>
#include <vector>

using namespace azl::integration;
using namespace std::chrono_literals;

namespace
{

const Secrets kServerSecrets{std::string(64, 'a'), std::string(64, 'b')};

azl::UniqueFd connect_to(int port)
{
    azl::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    timeval tv{5, 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    REQUIRE(::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
    return fd;
}

void send_all(int fd, std::string_view data)
{
    REQUIRE(
        ::send(fd, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size()));
}

std::string token_request(std::string_view resource, std::string_view connection = "close")
{
    return "GET /" + kServerSecrets.prefix + "/msi/token?api-version=2019-08-01&resource="
           + std::string(resource) + " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-IDENTITY-HEADER: "
           + kServerSecrets.header + "\r\nConnection: " + std::string(connection) + "\r\n\r\n";
}

int status_of(const std::string& response)
{
    return response.size() > 12 ? std::stoi(response.substr(9, 3)) : 0;
}

std::string body_of(const std::string& response)
{
    return response.substr(response.find("\r\n\r\n") + 4);
}

// A server on an ephemeral port, run on its own thread for the test's duration.
class Running
{
public:
    Running(TokenFetcher fetcher, ServerOptions options = {})
    {
        options.secrets = kServerSecrets;
        options.allowed_uid = ::geteuid();
        m_server = std::make_unique<TokenServer>(options, std::move(fetcher));
        m_thread = std::thread([this] { m_reason = m_server->run(); });
    }

    Running(const Running&) = delete;
    Running& operator=(const Running&) = delete;
    Running(Running&&) = delete;
    Running& operator=(Running&&) = delete;

    ~Running()
    {
        m_server->stop();
        m_thread.join();
    }

    [[nodiscard]] int port() const
    {
        return m_server->port();
    }

    TokenServer::EndReason wait()
    {
        m_thread.join();
        m_thread = std::thread([] {});
        return m_reason;
    }

    // Stops the server and returns its counters.
    ServerStats finish()
    {
        m_server->stop();
        wait();
        return m_server->stats();
    }

private:
    std::unique_ptr<TokenServer> m_server;
    std::thread m_thread;
    TokenServer::EndReason m_reason = TokenServer::EndReason::stopped;
};

AccessToken make_token(int serial)
{
    AccessToken t;
    t.access_token = "token-" + std::to_string(serial);
    t.expires_on = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count()
                   + 3600;
    return t;
}

} // namespace

TEST_CASE("concurrent requests for one resource share one host call", "[server]")
{
    std::atomic<int> calls{0};
    Running server(
        [&calls](const TokenRequest&)
        {
            std::this_thread::sleep_for(300ms);
            return make_token(++calls);
        });
    std::vector<std::thread> clients;
    std::vector<std::string> replies(50);
    clients.reserve(replies.size());
    for (std::string& reply : replies)
    {
        clients.emplace_back(
            [&server, &reply]
            {
                const auto fd = connect_to(server.port());
                send_all(fd.get(), token_request("https://vault.azure.net"));
                reply = azl::test::read_to_eof(fd.get());
            });
    }
    for (auto& t : clients)
    {
        t.join();
    }
    CHECK(calls.load() == 1);
    for (const auto& r : replies)
    {
        REQUIRE(status_of(r) == 200);
        CHECK(nlohmann::json::parse(body_of(r))["access_token"] == "token-1");
    }
}

TEST_CASE("a host failure reaches the client and is remembered briefly", "[server]")
{
    std::atomic<int> calls{0};
    Running server(
        [&calls](const TokenRequest&) -> AccessToken
        {
            ++calls;
            throw HostError(
                HostErrorKind::not_signed_in,
                "the Windows Azure CLI is not signed in: run `az login` in Windows");
        });
    for (int i = 0; i < 3; ++i)
    {
        const auto fd = connect_to(server.port());
        send_all(fd.get(), token_request("r"));
        const auto reply = azl::test::read_to_eof(fd.get());
        CHECK(status_of(reply) == 400);
        CHECK(
            nlohmann::json::parse(body_of(reply))["message"].get<std::string>().find("az login")
            != std::string::npos);
    }
    CHECK(calls.load() == 1);
}

TEST_CASE("keep-alive connections carry pipelined requests", "[server]")
{
    std::atomic<int> calls{0};
    Running server([&calls](const TokenRequest&) { return make_token(++calls); });
    const auto fd = connect_to(server.port());
    send_all(fd.get(), token_request("r", "keep-alive") + token_request("r", "close"));
    const auto replies = azl::test::read_to_eof(fd.get());
    CHECK(replies.find("HTTP/1.1 200 OK") != replies.rfind("HTTP/1.1 200 OK"));
    CHECK(calls.load() == 1);
}

TEST_CASE(
    "slow, oversized and malformed requests are refused and the server keeps serving", "[server]")
{
    ServerOptions options;
    options.request_timeout = 300ms;
    Running server([](const TokenRequest&) { return make_token(1); }, options);
    {
        const auto slow = connect_to(server.port());
        send_all(
            slow.get(), "GET /" + kServerSecrets.prefix + "/msi/token HTTP/1.1\r\nHost: x\r\n");
        const auto started = std::chrono::steady_clock::now();
        CHECK(status_of(azl::test::read_to_eof(slow.get())) == 408);
        CHECK(std::chrono::steady_clock::now() - started < 3s);
    }
    {
        const auto big = connect_to(server.port());
        send_all(
            big.get(),
            "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(10000, 'a') + "\r\n\r\n");
        CHECK(status_of(azl::test::read_to_eof(big.get())) == 431);
    }
    {
        const auto bad = connect_to(server.port());
        send_all(bad.get(), "GARBAGE\r\n\r\n");
        CHECK(status_of(azl::test::read_to_eof(bad.get())) == 400);
    }
    const auto ok = connect_to(server.port());
    send_all(ok.get(), token_request("r"));
    CHECK(status_of(azl::test::read_to_eof(ok.get())) == 200);
}

TEST_CASE("a client that does not read its replies is not read either, then dropped", "[server]")
{
    ServerOptions options;
    options.request_timeout = 2s;
    Running server([](const TokenRequest&) { return make_token(1); }, options);
    {
        // The token cached first: a connection that floods while waiting for the host is dropped
        // for another reason.
        const auto first = connect_to(server.port());
        send_all(first.get(), token_request("r"));
        REQUIRE(status_of(azl::test::read_to_eof(first.get())) == 200);
    }
    const auto fd = connect_to(server.port());
    std::string batch;
    while (batch.size() < std::size_t{64} * 1024)
    {
        batch += token_request("r", "keep-alive");
    }
    // Pipeline requests without reading a reply. A server without back-pressure takes them all,
    // buffering the replies, and keeps the connection: the cap is far above what the kernel's
    // socket buffers hold. Ours stops reading, and drops the connection when its replies are
    // still unread after the request timeout.
    constexpr std::size_t kCap = 64 << 20;
    std::size_t sent = 0;
    bool dropped = false;
    const auto started = std::chrono::steady_clock::now();
    while (sent < kCap && !dropped && std::chrono::steady_clock::now() - started < 20s)
    {
        const std::size_t off = sent % batch.size(); // whole requests, however the sends split
        const auto n =
            ::send(fd.get(), batch.data() + off, batch.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0)
        {
            sent += static_cast<std::size_t>(n);
        }
        else if (errno == EAGAIN || errno == EWOULDBLOCK)
        {
            pollfd p{fd.get(), POLLOUT, 0};
            ::poll(&p, 1, 100);
        }
        else
        {
            INFO("send: " << std::strerror(errno));
            REQUIRE((errno == ECONNRESET || errno == EPIPE));
            dropped = true;
        }
    }
    CHECK(sent < kCap);
    CHECK(dropped); // the keep-alive timeout (60 s) would not have
    const auto ok = connect_to(server.port());
    send_all(ok.get(), token_request("r"));
    CHECK(status_of(azl::test::read_to_eof(ok.get())) == 200);
}

namespace
{

// One reply of a keep-alive connection (read by its Content-Length).
std::string read_one(int fd)
{
    std::string out;
    std::array<char, 4096> buf{};
    while (out.find("\r\n\r\n") == std::string::npos
           || out.size() < out.find("\r\n\r\n") + 4
                               + std::stoul(out.substr(out.find("Content-Length: ") + 16)))
    {
        const auto n = ::recv(fd, buf.data(), buf.size(), 0);
        if (n <= 0)
        {
            break;
        }
        out.append(buf.data(), static_cast<std::size_t>(n));
    }
    return out;
}

} // namespace

TEST_CASE("at the connection limit an idle connection makes room", "[server]")
{
    ServerOptions options;
    options.max_connections = 4;
    Running server([](const TokenRequest&) { return make_token(1); }, options);
    std::vector<azl::UniqueFd> held;
    held.push_back(connect_to(server.port())); // a keep-alive client, idle after one request
    send_all(held[0].get(), token_request("r", "keep-alive"));
    CHECK(status_of(read_one(held[0].get())) == 200);
    // Connected, never a byte sent. The server accepts in connection order (the listen backlog
    // is a queue), so held[1] is the oldest of them whenever it looks: no need to wait for it.
    for (int i = 0; i < 3; ++i)
    {
        held.push_back(connect_to(server.port()));
    }
    {
        const auto fd = connect_to(server.port());
        send_all(fd.get(), token_request("r"));
        CHECK(status_of(azl::test::read_to_eof(fd.get())) == 200);
    }
    // The oldest connection that never sent a request was closed, not the keep-alive client.
    std::array<char, 16> buf{};
    CHECK(::recv(held[1].get(), buf.data(), buf.size(), 0) == 0);
    send_all(held[0].get(), token_request("r", "keep-alive"));
    CHECK(status_of(read_one(held[0].get())) == 200);

    // Connections with a request under way are never closed for a new one: it is refused.
    held[1] = connect_to(server.port());
    // Whether or not the server has read these yet, they are busy to it: the bytes are in its
    // sockets (loopback sends deliver before they return), or in its buffers as a request begun.
    for (const auto& fd : held)
    {
        send_all(fd.get(), "GET /" + kServerSecrets.prefix + "/msi/token HTTP/1.1\r\n");
    }
    const auto refused = connect_to(server.port());
    const auto request = token_request("r");
    static_cast<void>(::send(refused.get(), request.data(), request.size(), MSG_NOSIGNAL));
    CHECK(azl::test::read_to_eof(refused.get()).empty());
    // Both closes are evictions, counted (and logged with the client's port).
    CHECK(server.finish().evicted == 2);
}

TEST_CASE("the server ends itself after the idle timeout", "[server]")
{
    ServerOptions options;
    options.idle_timeout = 1s;
    Running server([](const TokenRequest&) { return make_token(1); }, options);
    CHECK(server.wait() == TokenServer::EndReason::idle);
}

TEST_CASE("the owner of a loopback connection is read from sock_diag and /proc/net/tcp", "[server]")
{
    Running server([](const TokenRequest&) { return make_token(1); });
    const auto fd = connect_to(server.port());
    sockaddr_in local{};
    socklen_t len = sizeof local;
    REQUIRE(::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&local), &len) == 0);
    CHECK(
        tcp_peer_uid("127.0.0.1", ntohs(local.sin_port), "127.0.0.1", server.port())
        == ::geteuid());
    CHECK_FALSE(tcp_peer_uid("127.0.0.1", 1, "127.0.0.1", server.port()));
    const auto diag =
        tcp_peer_uid_diag("127.0.0.1", ntohs(local.sin_port), "127.0.0.1", server.port());
    CHECK(diag.result == DiagLookup::Result::found);
    CHECK(diag.uid == ::geteuid());
    CHECK(
        tcp_peer_uid_diag("127.0.0.1", 1, "127.0.0.1", server.port()).result
        == DiagLookup::Result::not_found);
    // A lookup by addresses can land on a listening socket (ours, here): not a client.
    CHECK(
        tcp_peer_uid_diag("127.0.0.1", server.port(), "127.0.0.1", 1).result
        == DiagLookup::Result::not_found);

    const azl::TempDir fake("azl-test");
    azl::write_file_atomic(
        fake.path() / "tcp",
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
        "timeout inode\n"
        "   0: 0100007F:D431 0100007F:1F90 01 00000000:00000000 00:00000000 00000000 65534        "
        "0 1 1 0000\n");
    CHECK(tcp_peer_uid("127.0.0.1", 0xD431, "127.0.0.1", 0x1F90, fake.path()) == 65534U);
}
