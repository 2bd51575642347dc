// TLS to the endpoints the guest needs, through its proxy, with each failure explained.
#include "x509_text.hpp"

#include <azl/common/c_ptr.hpp>
#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/common/ini.hpp>
#include <azl/common/text.hpp>
#include <azl/oobe/net_check.hpp>

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <future>
#include <set>
#include <sstream>
#include <utility>
#include <variant>

namespace azl::oobe
{

namespace fs = std::filesystem;

namespace
{

using SslCtx = UniqueCPtr<SSL_CTX, &SSL_CTX_free>;
using Ssl = UniqueCPtr<SSL, &SSL_free>;
using detail::name_text;
using detail::X509Ptr;
using detail::X509Stack;
using detail::X509Store;
using detail::X509StoreCtx;

// A socket descriptor, closed on scope exit.
class Socket
{
public:
    explicit Socket(int fd)
        : m_fd(fd)
    {
    }

    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;

    Socket(Socket&& other) noexcept
        : m_fd(std::exchange(other.m_fd, -1))
    {
    }

    Socket& operator=(Socket&&) = delete;

    ~Socket()
    {
        if (m_fd >= 0)
        {
            ::close(m_fd);
        }
    }

    [[nodiscard]] int get() const noexcept
    {
        return m_fd;
    }

private:
    int m_fd;
};

// Why a connection failed, in words a person can act on.
struct NetFailure
{
    std::string message;
    std::string hint;
    // Unreachable (no name, no answer, the proxy's upstream failed) is a warning: offline is not
    // misconfigured. A refusing proxy or an untrusted certificate is a failure.
    bool unreachable = false;
};

bool is_ip_literal(std::string_view host)
{
    std::array<unsigned char, 16> buf{};
    const std::string h(host);
    return ::inet_pton(AF_INET, h.c_str(), buf.data()) == 1
           || ::inet_pton(AF_INET6, h.c_str(), buf.data()) == 1;
}

std::string endpoint(std::string_view host, unsigned port)
{
    return host.find(':') != std::string_view::npos ? fmt::format("[{}]:{}", host, port)
                                                    : fmt::format("{}:{}", host, port);
}

// Connects within `timeout`; the failure says what happened to `what` ("proxy X", "X").
std::variant<Socket, NetFailure> connect_to(
    const std::string& host,
    unsigned port,
    std::chrono::milliseconds timeout,
    std::string_view what)
{
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const std::string service = std::to_string(port);
    if (const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0)
    {
        return NetFailure{
            fmt::format("{}: the name {} does not resolve ({})", what, host, ::gai_strerror(rc)),
            "check the name and the guest's /etc/resolv.conf",
            true};
    }
    const UniqueCPtr<addrinfo, &::freeaddrinfo> list(found);
    int last_error = 0;
    for (const addrinfo* ai = found; ai != nullptr; ai = ai->ai_next)
    {
        Socket s(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
        if (s.get() < 0)
        {
            last_error = errno;
            continue;
        }
        if (::connect(s.get(), ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS)
        {
            last_error = errno;
            continue;
        }
        pollfd p{s.get(), POLLOUT, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
        int err = 0;
        socklen_t len = sizeof err;
        if (ready <= 0)
        {
            last_error = ETIMEDOUT;
            continue;
        }
        ::getsockopt(s.get(), SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0)
        {
            last_error = err;
            continue;
        }
        const int flags = ::fcntl(s.get(), F_GETFL);
        ::fcntl(s.get(), F_SETFL, flags & ~O_NONBLOCK);
        timeval tv{};
        tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
        tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
        ::setsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(s.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        return s;
    }
    if (last_error == ECONNREFUSED)
    {
        return NetFailure{
            fmt::format("{} {} refused the connection", what, endpoint(host, port)),
            "is it running and listening on that port?"};
    }
    if (last_error == ETIMEDOUT)
    {
        return NetFailure{
            fmt::format(
                "{} {} did not answer within {} ms", what, endpoint(host, port), timeout.count()),
            "a firewall may drop the connection",
            true};
    }
    return NetFailure{
        fmt::format(
            "cannot connect to {} {}: {}", what, endpoint(host, port), std::strerror(last_error)),
        {},
        true};
}

std::string basic_auth(std::string_view userinfo)
{
    std::string out(4 * ((userinfo.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(
        reinterpret_cast<unsigned char*>(out.data()),
        reinterpret_cast<const unsigned char*>(userinfo.data()),
        static_cast<int>(userinfo.size()));
    out.resize(static_cast<std::size_t>(std::max(n, 0)));
    return out;
}

// Asks the proxy for a tunnel; nullopt when it opened one.
std::optional<NetFailure>
http_connect(int fd, std::string_view proxy_url, const ProxyAddress& proxy, const NetTarget& target)
{
    std::string request =
        fmt::format("CONNECT {0} HTTP/1.1\r\nHost: {0}\r\n", endpoint(target.host, target.port));
    const auto scheme = proxy_url.find("://");
    const auto at = proxy_url.find('@');
    if (scheme != std::string_view::npos && at != std::string_view::npos && at > scheme)
    {
        request += fmt::format(
            "Proxy-Authorization: Basic {}\r\n",
            basic_auth(proxy_url.substr(scheme + 3, at - scheme - 3)));
    }
    request += "\r\n";
    const std::string where = endpoint(proxy.host, proxy.port);
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL)
        != static_cast<ssize_t>(request.size()))
    {
        return NetFailure{fmt::format("proxy {} closed the connection", where), {}, false};
    }
    std::string reply;
    std::array<char, 1024> buf{};
    while (reply.find("\r\n\r\n") == std::string::npos && reply.size() < 16384)
    {
        const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
        if (n <= 0)
        {
            return NetFailure{
                fmt::format(
                    "proxy {} {} before answering CONNECT {}",
                    where,
                    n == 0 ? "closed the connection" : "did not answer",
                    endpoint(target.host, target.port)),
                {}};
        }
        reply.append(buf.data(), static_cast<std::size_t>(n));
    }
    const std::string status = reply.substr(0, reply.find("\r\n"));
    const auto space = status.find(' ');
    const std::string code = space == std::string::npos ? "" : status.substr(space + 1, 3);
    if (code == "200")
    {
        return std::nullopt;
    }
    return NetFailure{
        fmt::format(
            "proxy {} refused the tunnel to {}: {}",
            where,
            endpoint(target.host, target.port),
            status.substr(space == std::string::npos ? 0 : space + 1)),
        code == "407" ? "the proxy wants credentials: put them in the proxy URL (user:password@)"
                      : "the proxy could not reach it, or its policy forbids it",
        code != "407" && code != "403"};
}

// Whether what the host trusts would accept the chain `peer` presented: Windows' view of it.
bool host_accepts(STACK_OF(X509) * peer, const std::vector<HostCertificate>& host)
{
    if (peer == nullptr || sk_X509_num(peer) == 0 || host.empty())
    {
        return false;
    }
    X509Store store(X509_STORE_new());
    X509Stack untrusted(sk_X509_new_null());
    X509StoreCtx ctx(X509_STORE_CTX_new());
    if (!store || !untrusted || !ctx)
    {
        return false;
    }
    std::vector<X509Ptr> keep;
    for (const auto& h : host)
    {
        try
        {
            for (const auto& p : parse_certificates(h.data, h.store))
            {
                const auto* d = reinterpret_cast<const unsigned char*>(p.der.data());
                X509Ptr cert(d2i_X509(nullptr, &d, static_cast<long>(p.der.size())));
                if (!cert)
                {
                    continue;
                }
                if (X509_check_issued(cert.get(), cert.get()) == X509_V_OK)
                {
                    X509_STORE_add_cert(store.get(), cert.get());
                }
                else
                {
                    sk_X509_push(untrusted.get(), cert.get());
                }
                keep.push_back(std::move(cert));
            }
        }
        catch (const UserError&)
        {
            // garbage in the host set: the sync reports it; here it simply trusts nothing
        }
    }
    for (int i = 1; i < sk_X509_num(peer); ++i)
    {
        sk_X509_push(untrusted.get(), sk_X509_value(peer, i));
    }
    X509* leaf = sk_X509_value(peer, 0);
    const bool ok = X509_STORE_CTX_init(ctx.get(), store.get(), leaf, untrusted.get()) == 1
                    && X509_verify_cert(ctx.get()) == 1;
    ERR_clear_error();
    return ok;
}

bool untrusted_issuer(long code)
{
    return code == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
           || code == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT
           || code == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN
           || code == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT
           || code == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE;
}

std::optional<NetFailure> tls_handshake(
    int fd,
    const NetTarget& target,
    bool proxied,
    const std::vector<HostCertificate>* host_certificates)
{
    SslCtx ctx(SSL_CTX_new(TLS_client_method()));
    if (!ctx || SSL_CTX_set_default_verify_paths(ctx.get()) != 1)
    {
        return NetFailure{"cannot set up TLS (OpenSSL)", {}};
    }
    // Verification runs either way; not failing the handshake keeps the chain to explain.
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
    Ssl ssl(SSL_new(ctx.get()));
    if (!ssl || SSL_set_fd(ssl.get(), fd) != 1)
    {
        return NetFailure{"cannot set up TLS (OpenSSL)", {}};
    }
    if (is_ip_literal(target.host))
    {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl.get()), target.host.c_str());
    }
    else
    {
        // SSL_set_tlsext_host_name, without the macro's C cast; OpenSSL copies the name.
        std::string sni = target.host;
        SSL_ctrl(ssl.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, sni.data());
        SSL_set1_host(ssl.get(), target.host.c_str());
    }
    const std::string where = endpoint(target.host, target.port);
    if (SSL_connect(ssl.get()) != 1)
    {
        const unsigned long err = ERR_get_error();
        ERR_clear_error();
        std::array<char, 256> text{};
        ERR_error_string_n(err, text.data(), text.size());
        return NetFailure{
            fmt::format(
                "TLS to {} failed{}: {}",
                where,
                proxied ? " through the proxy" : "",
                err != 0 ? text.data() : "the connection closed during the handshake"),
            {}};
    }
    const long code = SSL_get_verify_result(ssl.get());
    if (code == X509_V_OK)
    {
        return std::nullopt;
    }
    STACK_OF(X509)* peer = SSL_get_peer_cert_chain(ssl.get());
    if (untrusted_issuer(code) && peer != nullptr && sk_X509_num(peer) > 0)
    {
        X509* top = sk_X509_value(peer, sk_X509_num(peer) - 1);
        const std::string ca = X509_check_issued(top, top) == X509_V_OK
                                   ? name_text(X509_get_subject_name(top))
                                   : name_text(X509_get_issuer_name(top));
        if (host_certificates == nullptr)
        {
            // Windows' view is unknown here (the bridge's status): both cases said.
            return NetFailure{
                fmt::format(
                    "TLS to {} is {} by {}, which the guest does not trust",
                    where,
                    proxied ? "intercepted" : "signed",
                    ca),
                "if Windows trusts it, run `azurelinux sync` on Windows; if not, its root CA must "
                "be in Windows' trusted roots first (ask IT)"};
        }
        const bool windows = host_accepts(peer, *host_certificates);
        return NetFailure{
            fmt::format(
                "TLS to {} is {} by {}; {}",
                where,
                proxied ? "intercepted" : "signed",
                ca,
                windows ? "Windows trusts it, the guest does not"
                        : "neither Windows nor the guest trusts it"),
            windows ? "run `azurelinux sync`"
                    : "if your organisation inspects TLS, its root CA must be in Windows' trusted "
                      "roots (ask IT), then run `azurelinux sync`"};
    }
    return NetFailure{
        fmt::format(
            "TLS to {}: the certificate does not verify: {}",
            where,
            X509_verify_cert_error_string(code)),
        code == X509_V_ERR_HOSTNAME_MISMATCH ? "the certificate names another host" : ""};
}

NetCheck check_one(
    const NetTarget& target,
    const std::optional<ProxySettings>& proxy,
    const std::vector<HostCertificate>* host_certificates,
    std::chrono::milliseconds timeout)
{
    NetCheck check{
        .id = fmt::format("tls:{}", endpoint(target.host, target.port)),
        .status = "ok",
        .message = {},
        .hint = {}};
    std::optional<ProxyAddress> via;
    std::string via_url;
    if (proxy && !bypasses_proxy(target.host, proxy->no_proxy))
    {
        via_url = proxy->https.empty() ? proxy->http : proxy->https;
        via = parse_proxy_address(via_url);
    }
    const auto fail = [&check, &target](const NetFailure& f)
    {
        check.status = f.unreachable ? "warn" : "fail";
        check.message = fmt::format("{} ({})", f.message, target.why);
        check.hint = f.hint;
        return check;
    };
    auto conn = via ? connect_to(via->host, via->port, timeout, "proxy")
                    : connect_to(target.host, target.port, timeout, target.why);
    if (auto* f = std::get_if<NetFailure>(&conn))
    {
        return fail(*f);
    }
    const Socket& s = std::get<Socket>(conn);
    if (via)
    {
        if (const auto f = http_connect(s.get(), via_url, *via, target))
        {
            return fail(*f);
        }
    }
    if (const auto f = tls_handshake(s.get(), target, via.has_value(), host_certificates))
    {
        return fail(*f);
    }
    check.message = fmt::format(
        "TLS to {} ({}) verified{}",
        endpoint(target.host, target.port),
        target.why,
        via ? fmt::format(" through proxy {}", endpoint(via->host, via->port)) : "");
    return check;
}

void add_target(
    std::vector<NetTarget>& out, std::set<std::string>& seen, std::string_view url, const char* why)
{
    if (!url.starts_with("https://"))
    {
        return; // plain HTTP and file: repositories have no TLS to check
    }
    std::string_view rest = url.substr(8);
    rest = rest.substr(0, rest.find_first_of("/?#"));
    if (const auto at = rest.rfind('@'); at != std::string_view::npos)
    {
        rest.remove_prefix(at + 1);
    }
    NetTarget t{.host = {}, .port = 443, .why = why};
    if (rest.starts_with('['))
    {
        const auto close = rest.find(']');
        t.host = std::string(rest.substr(1, close - 1));
        rest.remove_prefix(close + 1);
    }
    else
    {
        t.host = std::string(rest.substr(0, rest.find(':')));
        rest.remove_prefix(t.host.size());
    }
    if (rest.starts_with(':'))
    {
        t.port =
            static_cast<unsigned>(std::strtoul(std::string(rest.substr(1)).c_str(), nullptr, 10));
    }
    if (!t.host.empty() && seen.insert(endpoint(t.host, t.port)).second)
    {
        out.push_back(std::move(t));
    }
}

std::vector<fs::path> files_in(const fs::path& dir, std::string_view suffix)
{
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
    {
        if (e.path().filename().string().ends_with(suffix))
        {
            out.push_back(e.path());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::string text_of(const fs::path& file)
{
    std::error_code ec;
    return fs::is_regular_file(file, ec) ? read_file(file, 1U << 20U) : std::string();
}

} // namespace

std::optional<ProxyAddress> parse_proxy_address(std::string_view url)
{
    unsigned port = 80;
    if (url.starts_with("http://"))
    {
        url.remove_prefix(7);
    }
    else if (url.starts_with("https://"))
    {
        url.remove_prefix(8);
        port = 443;
    }
    else if (url.find("://") != std::string_view::npos)
    {
        return std::nullopt;
    }
    url = url.substr(0, url.find('/'));
    if (const auto at = url.rfind('@'); at != std::string_view::npos)
    {
        url.remove_prefix(at + 1);
    }
    ProxyAddress a;
    if (url.starts_with('['))
    {
        const auto close = url.find(']');
        if (close == std::string_view::npos)
        {
            return std::nullopt;
        }
        a.host = std::string(url.substr(1, close - 1));
        url.remove_prefix(close + 1);
    }
    else
    {
        a.host = std::string(url.substr(0, url.find(':')));
        url.remove_prefix(a.host.size());
    }
    a.port = port;
    if (url.starts_with(':'))
    {
        const std::string digits(url.substr(1));
        if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos)
        {
            return std::nullopt;
        }
        a.port = static_cast<unsigned>(std::stoul(digits));
    }
    if (a.host.empty() || a.port == 0 || a.port > 65535)
    {
        return std::nullopt;
    }
    return a;
}

bool bypasses_proxy(std::string_view host, const std::vector<std::string>& no_proxy)
{
    const std::string h = ascii_lower(host);
    for (const auto& entry : no_proxy)
    {
        std::string e = ascii_lower(trim(entry));
        if (e == "*")
        {
            return true;
        }
        if (e.starts_with("*."))
        {
            e.erase(0, 1);
        }
        if (e.starts_with('.'))
        {
            if (h.ends_with(e) || h == e.substr(1))
            {
                return true;
            }
        }
        else if (h == e || h.ends_with("." + e))
        {
            return true;
        }
    }
    return false;
}

std::vector<std::string> repository_urls(const FamilyFacts& facts, const fs::path& root)
{
    std::vector<std::string> out;
    const auto add = [&out](std::string_view url)
    {
        if ((url.starts_with("https://") || url.starts_with("http://"))
            && std::find(out.begin(), out.end(), url) == out.end())
        {
            out.emplace_back(url);
        }
    };
    if (facts.family == Family::debian)
    {
        std::vector<fs::path> lists{root / "etc/apt/sources.list"};
        for (auto& f : files_in(root / "etc/apt/sources.list.d", ".list"))
        {
            lists.push_back(std::move(f));
        }
        for (const auto& f : lists)
        {
            std::istringstream in(text_of(f));
            std::string word;
            std::string line;
            while (std::getline(in, line))
            {
                std::istringstream words(line);
                if (!(words >> word) || (word != "deb" && word != "deb-src"))
                {
                    continue;
                }
                while (words >> word)
                {
                    if (word.starts_with('['))
                    {
                        while (word.find(']') == std::string::npos && words >> word)
                        {
                        }
                        continue;
                    }
                    add(word);
                    break;
                }
            }
        }
        for (const auto& f : files_in(root / "etc/apt/sources.list.d", ".sources"))
        {
            std::istringstream in(text_of(f));
            std::string line;
            while (std::getline(in, line))
            {
                if (ascii_lower(line).starts_with("uris:"))
                {
                    std::istringstream words(line.substr(5));
                    std::string url;
                    while (words >> url)
                    {
                        add(url);
                    }
                }
            }
        }
        return out;
    }
    for (const auto& f : files_in(root / "etc/yum.repos.d", ".repo"))
    {
        try
        {
            const auto ini = IniFile::parse(text_of(f), f.string());
            for (const auto& item : ini.items())
            {
                if (item.key == "baseurl" || item.key == "mirrorlist" || item.key == "metalink")
                {
                    add(trim(item.value));
                }
            }
        }
        catch (const UserError&)
        {
            // a repository file tdnf cannot read either; tdnf itself says so
        }
    }
    return out;
}

std::vector<NetTarget> repository_targets(const FamilyFacts& facts, const fs::path& root)
{
    std::vector<NetTarget> out;
    std::set<std::string> seen;
    for (const auto& url : repository_urls(facts, root))
    {
        add_target(out, seen, url, "package repository");
    }
    return out;
}

std::optional<ProxySettings>
effective_proxy(const fs::path& root, const std::map<std::string, std::string>& env)
{
    std::map<std::string, std::string> vars;
    std::istringstream in(text_of(root / "etc/environment"));
    std::string line;
    while (std::getline(in, line))
    {
        const auto eq = line.find('=');
        if (eq == std::string::npos || line.starts_with('#'))
        {
            continue;
        }
        std::string value = line.substr(eq + 1);
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
        {
            value = value.substr(1, value.size() - 2);
        }
        vars[std::string(trim(line.substr(0, eq)))] = value;
    }
    const auto pick =
        [](const std::map<std::string, std::string>& m, const char* upper, const char* lower)
    {
        for (const char* k : {upper, lower})
        {
            if (const auto it = m.find(k); it != m.end() && !it->second.empty())
            {
                return it->second;
            }
        }
        return std::string();
    };
    const std::map<std::string, std::string>& file_vars = vars;
    for (const auto* source : {&file_vars, &env})
    {
        ProxySettings p;
        p.http = pick(*source, "HTTP_PROXY", "http_proxy");
        p.https = pick(*source, "HTTPS_PROXY", "https_proxy");
        if (p.http.empty() && p.https.empty())
        {
            continue;
        }
        std::istringstream list(pick(*source, "NO_PROXY", "no_proxy"));
        std::string item;
        while (std::getline(list, item, ','))
        {
            if (!trim(item).empty())
            {
                p.no_proxy.emplace_back(trim(item));
            }
        }
        return p;
    }
    return std::nullopt;
}

NetCheck check_pac_file(const std::string& url, std::chrono::milliseconds timeout)
{
    NetCheck check{.id = "pac", .status = "fail", .message = {}, .hint = {}};
    const auto unreachable = [&](std::string_view why)
    {
        check.message = fmt::format("PAC file {} unreachable: {}", url, why);
        check.hint = "the proxy auto-configuration (Windows' AutoConfigURL, WSL_PAC_URL) must be "
                     "reachable from the guest; or set an explicit proxy in the answers";
        return check;
    };
    if (!url.starts_with("http://"))
    {
        check.status = "warn";
        check.message = fmt::format("PAC file {} not checked: only http:// URLs are", url);
        return check;
    }
    const auto address = parse_proxy_address(url);
    if (!address)
    {
        return unreachable("not a URL");
    }
    auto conn = connect_to(address->host, address->port, timeout, "the PAC server");
    if (auto* f = std::get_if<NetFailure>(&conn))
    {
        return unreachable(f->message);
    }
    const auto rest = std::string_view(url).substr(7);
    const auto slash = rest.find('/');
    const std::string path =
        slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
    const std::string request = fmt::format(
        "GET {} HTTP/1.0\r\nHost: {}\r\nConnection: close\r\n\r\n",
        path,
        endpoint(address->host, address->port));
    const int fd = std::get<Socket>(conn).get();
    std::array<char, 512> buf{};
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL)
        != static_cast<ssize_t>(request.size()))
    {
        return unreachable("the connection closed");
    }
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n <= 0)
    {
        return unreachable("no answer");
    }
    const std::string head(buf.data(), static_cast<std::size_t>(n));
    const std::string status = head.substr(0, head.find("\r\n"));
    if (status.find(" 200") == std::string::npos)
    {
        return unreachable(status);
    }
    check.status = "warn";
    check.message = fmt::format(
        "PAC file {} reachable, but not evaluated: the guest cannot run it, the launcher does",
        url);
    check.hint = "run `azurelinux sync` (azurelinux.exe on Windows) to carry its proxies";
    return check;
}

NetCheck
evaluated_pac_check(const std::string& url, const std::string& problem, const std::string& summary)
{
    if (!problem.empty())
    {
        return {
            .id = "pac",
            .status = "fail",
            .message = problem,
            .hint = fmt::format(
                "the guest keeps the proxy the last good evaluation gave; check {} opens in a "
                "browser on Windows, or set an explicit proxy in the answers",
                url)};
    }
    return {.id = "pac", .status = "ok", .message = summary, .hint = {}};
}

namespace
{

std::vector<NetCheck> check_targets(
    const std::vector<NetTarget>& targets,
    const std::optional<ProxySettings>& proxy,
    const std::vector<HostCertificate>* host_certificates,
    std::chrono::milliseconds timeout)
{
    // At once: an offline guest then waits one timeout, not one per endpoint.
    std::vector<std::future<NetCheck>> pending;
    pending.reserve(targets.size());
    for (const auto& t : targets)
    {
        pending.push_back(std::async(
            std::launch::async,
            [&t, &proxy, host_certificates, timeout]
            { return check_one(t, proxy, host_certificates, timeout); }));
    }
    std::vector<NetCheck> out;
    out.reserve(targets.size());
    for (auto& p : pending)
    {
        out.push_back(p.get());
    }
    return out;
}

} // namespace

std::vector<NetCheck> check_targets(
    const std::vector<NetTarget>& targets,
    const std::optional<ProxySettings>& proxy,
    const std::vector<HostCertificate>& host_certificates,
    std::chrono::milliseconds timeout)
{
    return check_targets(targets, proxy, &host_certificates, timeout);
}

std::vector<NetCheck> check_targets(
    const std::vector<NetTarget>& targets,
    const std::optional<ProxySettings>& proxy,
    std::chrono::milliseconds timeout)
{
    return check_targets(targets, proxy, nullptr, timeout);
}

std::vector<NetTarget> azure_targets()
{
    return {
        {.host = "login.microsoftonline.com", .port = 443, .why = "Azure sign-in"},
        {.host = "management.azure.com", .port = 443, .why = "Azure Resource Manager"}};
}

std::map<std::string, std::string> autoproxy_variables()
{
    std::map<std::string, std::string> env;
    for (const char* key :
         {"HTTP_PROXY",
          "http_proxy",
          "HTTPS_PROXY",
          "https_proxy",
          "NO_PROXY",
          "no_proxy",
          "WSL_PAC_URL"})
    {
        if (const char* value = std::getenv(key); value != nullptr)
        {
            env.emplace(key, value);
        }
    }
    return env;
}

} // namespace azl::oobe
