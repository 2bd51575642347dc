// libpacparser evaluating real PAC files: from a file, over HTTP from a server on 127.0.0.1, and
// what a broken script, a missing file and a refused connection say.
#include "fake_backend.hpp"

#include <azl/common/fs.hpp>
#include <azl/common/scope_guard.hpp>
#include <azl/launcher/host_sync.hpp>
#include <azl/launcher/pac.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <thread>

using namespace azl::launcher;
using namespace std::chrono_literals;

namespace
{

constexpr const char* kPac =
    R"(// A corporate PAC file: the repositories through the proxy, Azure and the intranet DIRECT.
function FindProxyForURL(url, host) {
    if (isPlainHostName(host) || dnsDomainIs(host, ".contoso.com"))
        return "DIRECT";
    if (shExpMatch(host, "*.microsoftonline.com") || host == "management.azure.com")
        return "DIRECT";
    if (url.substring(0, 5) == "http:")
        return "PROXY web.contoso.com:80";
    if (host == "socks.example")
        return "SOCKS5 socks.contoso.com:1080";
    return "PROXY proxy.contoso.com:8080; DIRECT";
}
)";

const std::vector<std::string> kUrls = {
    "https://packages.microsoft.com/azurelinux/3.0/prod/base/x86_64",
    "http://deb.debian.org/debian",
    "https://login.microsoftonline.com/",
    "https://management.azure.com/",
    "https://build.contoso.com/repo",
    "https://socks.example/"};

// One listening socket on 127.0.0.1 and a thread answering one request with `reply`.
class OneShotServer
{
public:
    explicit OneShotServer(std::string reply)
        : m_fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0))
    {
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        REQUIRE(::bind(m_fd, reinterpret_cast<sockaddr*>(&addr), len) == 0);
        REQUIRE(::listen(m_fd, 1) == 0);
        REQUIRE(::getsockname(m_fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
        m_port = ntohs(addr.sin_port);
        m_thread = std::thread(
            [this, reply = std::move(reply)]
            {
                const int c = ::accept(m_fd, nullptr, nullptr);
                if (c < 0)
                {
                    return;
                }
                std::array<char, 4096> buf{};
                std::string request;
                while (request.find("\r\n\r\n") == std::string::npos)
                {
                    const auto n = ::recv(c, buf.data(), buf.size(), 0);
                    if (n <= 0)
                    {
                        break;
                    }
                    request.append(buf.data(), static_cast<std::size_t>(n));
                }
                m_request = request;
                ::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
                ::close(c);
            });
    }

    OneShotServer(const OneShotServer&) = delete;
    OneShotServer& operator=(const OneShotServer&) = delete;
    OneShotServer(OneShotServer&&) = delete;
    OneShotServer& operator=(OneShotServer&&) = delete;

    ~OneShotServer()
    {
        ::shutdown(m_fd, SHUT_RDWR);
        m_thread.join();
        ::close(m_fd);
    }

    [[nodiscard]] unsigned port() const
    {
        return m_port;
    }

    [[nodiscard]] std::string url(std::string_view path) const
    {
        return "http://127.0.0.1:" + std::to_string(m_port) + std::string(path);
    }

    std::string m_request;

private:
    int m_fd = -1;
    unsigned m_port = 0;
    std::thread m_thread;
};

// A port nothing listens on: bound, then closed.
unsigned closed_port()
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) == 0);
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    ::close(fd);
    return ntohs(addr.sin_port);
}

} // namespace

TEST_CASE("libpacparser evaluates a PAC file written here", "[launcher][pac]")
{
    const azl::TempDir tmp("azl-pac");
    const auto file = tmp.path() / "proxy.pac";
    azl::write_file_atomic(file, kPac, 0644);
    for (const auto& where : {file.string(), "file://" + file.string()})
    {
        const auto eval = evaluate_pac(where, kUrls, 2s);
        INFO(where);
        CHECK(eval.problem.empty());
        CHECK(
            eval.answers
            == std::vector<std::string>{
                "PROXY proxy.contoso.com:8080; DIRECT",
                "PROXY web.contoso.com:80",
                "DIRECT",
                "DIRECT",
                "DIRECT",
                "SOCKS5 socks.contoso.com:1080"});
    }
    const auto eval = evaluate_pac(file.string(), kUrls, 2s);
    const auto out = interpret_pac_answers(file.string(), kUrls, eval.answers);
    CHECK(out.https == "http://proxy.contoso.com:8080");
    CHECK(out.http == "http://web.contoso.com:80");
    CHECK(
        out.direct
        == std::vector<std::string>{
            "login.microsoftonline.com",
            "management.azure.com",
            "build.contoso.com",
            "socks.example"});
}

TEST_CASE("a PAC file over HTTP from 127.0.0.1", "[launcher][pac]")
{
    const std::string body = kPac;
    OneShotServer server(
        "HTTP/1.0 200 OK\r\nContent-Type: application/x-ns-proxy-autoconfig\r\nContent-Length: "
        + std::to_string(body.size()) + "\r\n\r\n" + body);
    const auto eval = evaluate_pac(server.url("/wpad.dat"), {kUrls[0], kUrls[2]}, 2s);
    CHECK(eval.problem.empty());
    CHECK(
        eval.answers == std::vector<std::string>{"PROXY proxy.contoso.com:8080; DIRECT", "DIRECT"});
    CHECK(server.m_request.starts_with("GET /wpad.dat HTTP/1.0\r\n"));
}

TEST_CASE("a PAC file that cannot be had: one line naming the URL", "[launcher][pac]")
{
    SECTION("the server answers 404")
    {
        OneShotServer server("HTTP/1.0 404 Not Found\r\n\r\nno");
        const auto url = server.url("/proxy.pac");
        const auto eval = evaluate_pac(url, kUrls, 2s);
        CHECK(eval.answers.empty());
        CHECK(
            eval.problem == "PAC file " + url + " unreachable: the server answered 404 Not Found");
    }
    SECTION("nothing listens")
    {
        const auto port = std::to_string(closed_port());
        const auto url = "http://127.0.0.1:" + port + "/proxy.pac";
        CHECK(
            evaluate_pac(url, kUrls, 2s).problem
            == "PAC file " + url + " unreachable: 127.0.0.1:" + port + ": Connection refused");
    }
    SECTION("a server that closes without a word")
    {
        OneShotServer server("");
        const auto url = server.url("/proxy.pac");
        CHECK(
            evaluate_pac(url, kUrls, 2s).problem
            == "PAC file " + url + " unreachable: the server closed without an answer");
    }
    SECTION("a server that never answers: the timeout")
    {
        // Listening, never accepting: the kernel completes the connection, nobody answers.
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) == 0);
        REQUIRE(::listen(fd, 1) == 0);
        REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
        const auto url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/proxy.pac";
        const auto start = std::chrono::steady_clock::now();
        const auto problem = evaluate_pac(url, kUrls, 300ms).problem;
        const auto took = std::chrono::steady_clock::now() - start;
        ::close(fd);
        CHECK(problem == "PAC file " + url + " unreachable: no complete answer in time");
        CHECK(took >= 250ms); // poll() counts whole milliseconds
        CHECK(took < 2s);
    }
    SECTION("a missing file, a URL scheme that is not fetched, a file too large")
    {
        CHECK(
            evaluate_pac("/nonexistent/proxy.pac", kUrls, 2s).problem
            == "PAC file /nonexistent/proxy.pac unreachable: No such file or directory");
        CHECK(
            evaluate_pac("ftp://host/proxy.pac", kUrls, 2s).problem
            == "PAC file ftp://host/proxy.pac unreachable: not a URL this launcher fetches "
               "(http://, https://, file:// or a path)");
        const azl::TempDir tmp("azl-pac");
        const auto big = tmp.path() / "big.pac";
        azl::write_file_atomic(big, std::string(kPacMaxBytes + 1, ' '), 0644);
        CHECK(
            evaluate_pac(big.string(), kUrls, 2s).problem
            == "PAC file " + big.string() + " unreachable: it is larger than 1024 KiB");
    }
}

TEST_CASE(
    "a PAC script that does not run: one line naming the file and the error", "[launcher][pac]")
{
    const azl::TempDir tmp("azl-pac");
    const auto file = tmp.path() / "proxy.pac";
    SECTION("a syntax error")
    {
        azl::write_file_atomic(
            file, "function FindProxyForURL(url, host) { return \"DIRECT\"; \n", 0644);
        const auto problem = evaluate_pac(file.string(), kUrls, 2s).problem;
        CHECK(
            problem
            == "PAC script error in " + file.string()
                   + ": line 2: SyntaxError: missing } after function body");
    }
    SECTION("an error at run time")
    {
        azl::write_file_atomic(
            file, "function FindProxyForURL(url, host) { return lookup(host); }\n", 0644);
        const auto problem = evaluate_pac(file.string(), kUrls, 2s).problem;
        CHECK(
            problem
            == "PAC script error in " + file.string()
                   + ": line 1: ReferenceError: lookup is not defined");
    }
    SECTION("no FindProxyForURL at all")
    {
        azl::write_file_atomic(file, "var x = 1;\n", 0644);
        const auto problem = evaluate_pac(file.string(), kUrls, 2s).problem;
        CHECK(problem.starts_with("PAC script error in " + file.string() + ": "));
        CHECK(problem.find("FindProxyForURL") != std::string::npos);
    }
    SECTION("the evaluation after a broken one works: libpacparser starts afresh")
    {
        azl::write_file_atomic(file, "syntax error here\n", 0644);
        CHECK_FALSE(evaluate_pac(file.string(), kUrls, 2s).problem.empty());
        azl::write_file_atomic(file, kPac, 0644);
        CHECK(evaluate_pac(file.string(), kUrls, 2s).problem.empty());
    }
}

TEST_CASE(
    "sync with a PAC-only host: explicit proxies for the guest, DIRECT hosts said",
    "[launcher][pac]")
{
    const azl::TempDir tmp("azl-pac-sync");
    const auto file = tmp.path() / "proxy.pac";
    azl::write_file_atomic(file, kPac, 0644);
    ::setenv("XDG_DATA_HOME", (tmp.path() / "data").c_str(), 1);
    ::setenv("AZL_SANDBOX_PAC_URL", file.c_str(), 1);
    ::unsetenv("AZL_SANDBOX_TRUSTED_CERTS");
    for (const char* v :
         {"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "no_proxy", "NO_PROXY"})
    {
        ::unsetenv(v);
    }
    const azl::ScopeGuard restore([] { ::unsetenv("AZL_SANDBOX_PAC_URL"); });
    azl::test::FakeBackend b;
    auto& d = azl::test::add_distro(b, 1000);
    d.repository_urls = R"(["https://packages.microsoft.com/azurelinux/3.0/prod/base/x86_64"])";

    SECTION("evaluated for the guest's repositories and the Azure endpoints")
    {
        const auto outcome = sync_host(b, "AzureLinux", SyncWhen::on_demand);
        REQUIRE(d.sync_requests.size() == 1);
        const auto proxy = nlohmann::json::parse(d.sync_requests[0]).at("proxy");
        CHECK(proxy["https"] == "http://proxy.contoso.com:8080");
        CHECK(
            proxy["no_proxy"]
            == nlohmann::json{"login.microsoftonline.com", "management.azure.com"});
        CHECK(proxy["pac"]["url"] == file.string());
        CHECK(proxy["pac"]["problem"].get<std::string>().empty());
        CHECK(proxy["source"] == "the PAC file " + file.string() + ", the host's environment");
        const std::string summary = "PAC file " + file.string()
                                    + " evaluated for 3 hosts: packages.microsoft.com through "
                                      "http://proxy.contoso.com:8080; "
                                      "DIRECT: login.microsoftonline.com, management.azure.com";
        CHECK(proxy["pac"]["summary"] == summary);
        CHECK(
            std::find(outcome.lines.begin(), outcome.lines.end(), "  " + summary)
            != outcome.lines.end());
        // Unchanged host settings: a launch neither fetches the file again nor syncs.
        CHECK_FALSE(sync_host(b, "AzureLinux", SyncWhen::launch).ran);
    }
    SECTION("dry run: what would be carried, nothing sent")
    {
        const auto outcome = sync_host(b, "AzureLinux", SyncWhen::dry_run);
        CHECK(d.sync_requests.empty());
        REQUIRE(outcome.lines.size() >= 3);
        CHECK(
            outcome.lines[0]
            == "certificates: 0 in the host's stores (the guest keeps those it does not already "
               "trust)");
        CHECK(
            outcome.lines[1]
            == "proxy: http://proxy.contoso.com:8080 (from the PAC file " + file.string()
                   + ", the host's environment)");
        CHECK(outcome.lines[2] == "  no_proxy: login.microsoftonline.com,management.azure.com");
        CHECK_FALSE(outcome.ran);
    }
    SECTION("a broken PAC file: the guest keeps its files, the problem is said")
    {
        azl::write_file_atomic(file, "function FindProxyForURL(url, host) {\n", 0644);
        const auto outcome = sync_host(b, "AzureLinux", SyncWhen::on_demand);
        REQUIRE(d.sync_requests.size() == 1);
        const auto proxy = nlohmann::json::parse(d.sync_requests[0]).at("proxy");
        CHECK(proxy["https"].get<std::string>().empty()); // none: the guest keeps what it has
        CHECK(proxy["pac"]["problem"].get<std::string>().starts_with(
            "PAC script error in " + file.string() + ": line "));
        CHECK(outcome.lines.back().starts_with("  warning: PAC script error in "));
    }
    SECTION("a PAC file only WSL exports (WSL_PAC_URL): evaluated here, and the guest synced again")
    {
        ::unsetenv("AZL_SANDBOX_PAC_URL");
        d.wsl_pac_url = file.string();
        const auto outcome = sync_host(b, "AzureLinux", SyncWhen::on_demand);
        REQUIRE(d.sync_requests.size() == 2);
        CHECK(nlohmann::json::parse(d.sync_requests[0])["proxy"].is_null());
        const auto proxy = nlohmann::json::parse(d.sync_requests[1]).at("proxy");
        CHECK(proxy["https"] == "http://proxy.contoso.com:8080");
        CHECK(proxy["source"] == "the PAC file " + file.string() + ", WSL (autoProxy)");
        CHECK(proxy["pac"]["url"] == file.string());
    }
    SECTION("the guest cannot list its repositories: the Azure endpoints only, and a note")
    {
        d.repository_urls = "not json";
        const auto outcome = sync_host(b, "AzureLinux", SyncWhen::dry_run);
        CHECK(outcome.lines[1] == "proxy: none");
        CHECK(outcome.lines.back().starts_with(
            "the PAC file is asked about the Azure endpoints only"));
    }
}
