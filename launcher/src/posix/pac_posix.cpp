// Proxy auto-configuration on Linux: the PAC file fetched (http, https with the system's trust
// store, or a file) and evaluated by libpacparser (Debian's libpacparser1; SpiderMonkey inside),
// which is opened on first use: linked, its 1.2 MB would be mapped and relocated at every start
// of `azurelinux`, which `azurelinux run` is.
#include <azl/common/c_ptr.hpp>
#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/launcher/backend.hpp>
#include <azl/launcher/pac.hpp>

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <netdb.h>
#include <pacparser.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <optional>
#include <utility>

namespace azl::launcher
{

namespace
{

using Clock = std::chrono::steady_clock;
using SslCtx = UniqueCPtr<SSL_CTX, &SSL_CTX_free>;
using Ssl = UniqueCPtr<SSL, &SSL_free>;

// A problem fetching or evaluating the file, already worded for the user.
struct PacProblem
{
    std::string message;
};

int remaining_ms(Clock::time_point deadline)
{
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left > 0 ? static_cast<int>(left) : 0;
}

// Waits until `fd` is ready for `events`; false at the deadline.
bool wait_for(int fd, short events, Clock::time_point deadline)
{
    pollfd p{fd, events, 0};
    int rc = 0;
    do
    {
        rc = ::poll(&p, 1, remaining_ms(deadline));
    } while (rc < 0 && errno == EINTR);
    return rc > 0;
}

struct Target
{
    bool tls = false;
    std::string host;
    std::string port;
    std::string path;
    std::string host_header;
};

std::optional<Target> parse_url(std::string_view url)
{
    Target t;
    if (url.starts_with("http://"))
    {
        url.remove_prefix(7);
        t.port = "80";
    }
    else if (url.starts_with("https://"))
    {
        url.remove_prefix(8);
        t.port = "443";
        t.tls = true;
    }
    else
    {
        return std::nullopt;
    }
    const auto slash = url.find_first_of("/?#");
    t.path = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
    if (t.path.starts_with('?'))
    {
        t.path.insert(0, "/");
    }
    t.path = t.path.substr(0, t.path.find('#'));
    auto authority = url.substr(0, slash);
    if (authority.find('@') != std::string_view::npos)
    {
        return std::nullopt; // credentials in a PAC URL: not sent anywhere
    }
    t.host_header = std::string(authority);
    if (authority.starts_with('['))
    {
        const auto close = authority.find(']');
        if (close == std::string_view::npos)
        {
            return std::nullopt;
        }
        t.host = std::string(authority.substr(1, close - 1));
        authority.remove_prefix(close + 1);
    }
    else
    {
        t.host = std::string(authority.substr(0, authority.find(':')));
        authority.remove_prefix(t.host.size());
    }
    if (authority.starts_with(':'))
    {
        t.port = std::string(authority.substr(1));
    }
    if (t.host.empty() || t.port.empty()
        || t.port.find_first_not_of("0123456789") != std::string::npos)
    {
        return std::nullopt;
    }
    return t;
}

UniqueFd connect_to(const Target& t, Clock::time_point deadline)
{
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (const int rc = ::getaddrinfo(t.host.c_str(), t.port.c_str(), &hints, &found); rc != 0)
    {
        throw PacProblem{
            fmt::format("the name {} does not resolve ({})", t.host, ::gai_strerror(rc))};
    }
    const UniqueCPtr<addrinfo, &::freeaddrinfo> list(found);
    int last_error = ETIMEDOUT;
    for (const addrinfo* ai = found; ai != nullptr; ai = ai->ai_next)
    {
        UniqueFd s(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
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
        if (!wait_for(s.get(), POLLOUT, deadline))
        {
            last_error = ETIMEDOUT;
            break;
        }
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(s.get(), SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0)
        {
            last_error = err;
            continue;
        }
        return s;
    }
    if (last_error == ETIMEDOUT)
    {
        throw PacProblem{fmt::format("{}:{} did not answer in time", t.host, t.port)};
    }
    throw PacProblem{fmt::format("{}:{}: {}", t.host, t.port, std::strerror(last_error))};
}

std::string ssl_error_text()
{
    const unsigned long err = ERR_get_error();
    ERR_clear_error();
    if (err == 0)
    {
        return "the connection closed during the TLS handshake";
    }
    std::array<char, 256> text{};
    ERR_error_string_n(err, text.data(), text.size());
    return text.data();
}

// The raw HTTP/1.0 reply (head and body), at most kPacMaxBytes of body.
std::string http_exchange(const Target& t, const UniqueFd& fd, Clock::time_point deadline)
{
    SslCtx ctx;
    Ssl ssl;
    if (t.tls)
    {
        ctx.reset(SSL_CTX_new(TLS_client_method()));
        if (!ctx || SSL_CTX_set_default_verify_paths(ctx.get()) != 1)
        {
            throw PacProblem{"cannot set up TLS (OpenSSL)"};
        }
        SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
        ssl.reset(SSL_new(ctx.get()));
        if (!ssl || SSL_set_fd(ssl.get(), fd.get()) != 1)
        {
            throw PacProblem{"cannot set up TLS (OpenSSL)"};
        }
        std::string sni = t.host;
        SSL_ctrl(ssl.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, sni.data());
        SSL_set1_host(ssl.get(), t.host.c_str());
        for (;;)
        {
            const int rc = SSL_connect(ssl.get());
            if (rc == 1)
            {
                break;
            }
            const int want = SSL_get_error(ssl.get(), rc);
            if ((want != SSL_ERROR_WANT_READ && want != SSL_ERROR_WANT_WRITE)
                || !wait_for(fd.get(), want == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline))
            {
                const long verify = SSL_get_verify_result(ssl.get());
                throw PacProblem{
                    verify != X509_V_OK ? fmt::format(
                        "its certificate does not verify: {}",
                        X509_verify_cert_error_string(verify))
                                        : fmt::format("TLS: {}", ssl_error_text())};
            }
        }
    }
    const std::string request = fmt::format(
        "GET {} HTTP/1.0\r\nHost: {}\r\nAccept: application/x-ns-proxy-autoconfig, */*\r\n"
        "Connection: close\r\n\r\n",
        t.path,
        t.host_header);
    std::size_t sent = 0;
    while (sent < request.size())
    {
        if (!wait_for(fd.get(), POLLOUT, deadline))
        {
            throw PacProblem{"no answer in time"};
        }
        const auto chunk = std::string_view(request).substr(sent);
        const long n = ssl ? SSL_write(ssl.get(), chunk.data(), static_cast<int>(chunk.size()))
                           : ::send(fd.get(), chunk.data(), chunk.size(), MSG_NOSIGNAL);
        if (n <= 0)
        {
            if (ssl && SSL_get_error(ssl.get(), static_cast<int>(n)) == SSL_ERROR_WANT_WRITE)
            {
                continue;
            }
            if (!ssl && (errno == EAGAIN || errno == EINTR))
            {
                continue;
            }
            throw PacProblem{"the connection closed"};
        }
        sent += static_cast<std::size_t>(n);
    }
    std::string reply;
    std::array<char, 16384> buf{};
    for (;;)
    {
        if ((!ssl || SSL_pending(ssl.get()) == 0) && !wait_for(fd.get(), POLLIN, deadline))
        {
            throw PacProblem{"no complete answer in time"};
        }
        const long n = ssl ? SSL_read(ssl.get(), buf.data(), static_cast<int>(buf.size()))
                           : ::recv(fd.get(), buf.data(), buf.size(), 0);
        if (n < 0 && !ssl && (errno == EAGAIN || errno == EINTR))
        {
            continue;
        }
        if (n < 0 && ssl && SSL_get_error(ssl.get(), static_cast<int>(n)) == SSL_ERROR_WANT_READ)
        {
            continue;
        }
        if (n <= 0)
        {
            break; // HTTP/1.0: the server closes after the body
        }
        reply.append(buf.data(), static_cast<std::size_t>(n));
        if (reply.size() > kPacMaxBytes + 16384)
        {
            throw PacProblem{fmt::format("it is larger than {} KiB", kPacMaxBytes / 1024)};
        }
    }
    return reply;
}

std::string fetch_http(std::string_view url, std::chrono::milliseconds timeout)
{
    const auto target = parse_url(url);
    if (!target)
    {
        throw PacProblem{"not a URL this launcher fetches (http://, https://, file:// or a path)"};
    }
    const auto deadline = Clock::now() + timeout;
    const UniqueFd fd = connect_to(*target, deadline);
    const std::string reply = http_exchange(*target, fd, deadline);
    const auto head_end = reply.find("\r\n\r\n");
    const std::string status = reply.substr(0, reply.find("\r\n"));
    if (head_end == std::string::npos)
    {
        throw PacProblem{
            status.empty() ? "the server closed without an answer" : "an incomplete answer"};
    }
    const auto space = status.find(' ');
    if (space == std::string::npos || status.compare(space + 1, 3, "200") != 0)
    {
        throw PacProblem{fmt::format(
            "the server answered {}{}",
            status.substr(space == std::string::npos ? 0 : space + 1),
            status.find(" 30") != std::string::npos ? " (redirects are not followed)" : "")};
    }
    std::string body = reply.substr(head_end + 4);
    if (body.size() > kPacMaxBytes)
    {
        throw PacProblem{fmt::format("it is larger than {} KiB", kPacMaxBytes / 1024)};
    }
    return body;
}

std::string read_pac_file(const std::string& path)
{
    std::error_code ec;
    const auto size = std::filesystem::file_size(path_from_utf8(path), ec);
    if (ec)
    {
        throw PacProblem{ec.message()};
    }
    if (size > kPacMaxBytes)
    {
        throw PacProblem{fmt::format("it is larger than {} KiB", kPacMaxBytes / 1024)};
    }
    try
    {
        return read_file(path_from_utf8(path), kPacMaxBytes);
    }
    catch (const std::exception& e)
    {
        throw PacProblem{e.what()};
    }
}

std::string fetch_pac(const std::string& pac_url, std::chrono::milliseconds timeout)
{
    if (pac_url.starts_with("file://"))
    {
        // file:///path (an empty or "localhost" authority): the path as it is.
        std::string_view rest = std::string_view(pac_url).substr(7);
        if (rest.starts_with("localhost/"))
        {
            rest.remove_prefix(9);
        }
        if (!rest.starts_with('/'))
        {
            throw PacProblem{"a file:// URL must name a local absolute path"};
        }
        return read_pac_file(std::string(rest));
    }
    if (pac_url.starts_with('/'))
    {
        return read_pac_file(pac_url);
    }
    return fetch_http(pac_url, timeout);
}

// libpacparser prints its errors through one process-wide function with no user data: what it
// prints during an evaluation goes to the string this points at.
// NOLINTNEXTLINE(cppcoreguidelines-avoid-non-const-global-variables): the C callback's only state
thread_local std::string* t_pac_errors = nullptr;

int collect_pac_error(const char* format, va_list args)
{
    std::array<char, 1024> text{};
    const int n = std::vsnprintf(text.data(), text.size(), format, args);
    if (t_pac_errors != nullptr && n > 0)
    {
        std::string_view line(text.data());
        while (!line.empty() && (line.back() == '\n' || line.back() == ' ' || line.back() == ':'))
        {
            line.remove_suffix(1);
        }
        // DEBUG: and WARNING: lines are not errors.
        if (!line.starts_with("DEBUG:") && !line.starts_with("WARNING:") && !line.empty())
        {
            if (!t_pac_errors->empty())
            {
                *t_pac_errors += "; ";
            }
            *t_pac_errors += line;
        }
    }
    return n;
}

// libpacparser's functions, with <pacparser.h>'s signatures (a mismatch does not compile).
struct PacParserLib
{
    decltype(&::pacparser_set_error_printer) set_error_printer = nullptr;
    decltype(&::pacparser_init) init = nullptr;
    decltype(&::pacparser_parse_pac_string) parse_pac_string = nullptr;
    decltype(&::pacparser_find_proxy) find_proxy = nullptr;
    decltype(&::pacparser_cleanup) cleanup = nullptr;
};

constexpr const char* kPacParserLibrary = "libpacparser.so.1";

// The library, opened once (never closed: the process ends first); a problem in words otherwise.
const PacParserLib& pacparser_lib()
{
    static const PacParserLib lib = []
    {
        void* h = ::dlopen(kPacParserLibrary, RTLD_NOW | RTLD_LOCAL);
        if (h == nullptr)
        {
            const char* why = ::dlerror();
            throw PacProblem{fmt::format(
                "cannot load {} ({}): install libpacparser1",
                kPacParserLibrary,
                why != nullptr ? why : "unknown error")};
        }
        const auto get = [h](const char* name)
        {
            void* symbol = ::dlsym(h, name);
            if (symbol == nullptr)
            {
                throw PacProblem{fmt::format("{} has no function {}", kPacParserLibrary, name)};
            }
            return symbol;
        };
        PacParserLib l;
        l.set_error_printer =
            reinterpret_cast<decltype(l.set_error_printer)>(get("pacparser_set_error_printer"));
        l.init = reinterpret_cast<decltype(l.init)>(get("pacparser_init"));
        l.parse_pac_string =
            reinterpret_cast<decltype(l.parse_pac_string)>(get("pacparser_parse_pac_string"));
        l.find_proxy = reinterpret_cast<decltype(l.find_proxy)>(get("pacparser_find_proxy"));
        l.cleanup = reinterpret_cast<decltype(l.cleanup)>(get("pacparser_cleanup"));
        return l;
    }();
    return lib;
}

// One libpacparser session: its global JavaScript context, torn down on scope exit.
class PacParser
{
public:
    PacParser(const PacParserLib& lib, std::string& errors)
        : m_lib(lib)
        , m_ready(start(lib, errors))
    {
    }

    PacParser(const PacParser&) = delete;
    PacParser& operator=(const PacParser&) = delete;
    PacParser(PacParser&&) = delete;
    PacParser& operator=(PacParser&&) = delete;

    ~PacParser()
    {
        if (m_ready)
        {
            m_lib.cleanup();
        }
        t_pac_errors = nullptr;
    }

    [[nodiscard]] bool ready() const noexcept
    {
        return m_ready;
    }

    [[nodiscard]] const PacParserLib& lib() const noexcept
    {
        return m_lib;
    }

private:
    // Errors go to `errors` from now on; true when the JavaScript context is up.
    static bool start(const PacParserLib& lib, std::string& errors)
    {
        t_pac_errors = &errors;
        lib.set_error_printer(&collect_pac_error);
        return lib.init() != 0;
    }

    const PacParserLib& m_lib;
    bool m_ready = false;
};

std::string
script_error(const std::string& pac_url, const std::string& errors, std::string_view what)
{
    // libpacparser prints the JavaScript error ("JSERROR: PAC script:2:\n    SyntaxError: …"),
    // then its own summary ("pacparser.c: pacparser_parse_pac_string: Failed to evaluate …"):
    // the first is what the reader needs, on one line.
    std::string js;
    std::string own;
    std::size_t start = 0;
    while (start < errors.size())
    {
        auto end = errors.find("; ", start);
        if (end == std::string::npos)
        {
            end = errors.size();
        }
        std::string part = errors.substr(start, end - start);
        start = end + 2;
        std::string flat;
        for (const char c : part)
        {
            if (c == '\n' || c == '\r' || c == '\t')
            {
                flat.push_back(' ');
            }
            else if (c != ' ' || (!flat.empty() && flat.back() != ' '))
            {
                flat.push_back(c);
            }
        }
        if (flat.starts_with("JSERROR: PAC script:"))
        {
            flat = "line " + flat.substr(20);
            js += (js.empty() ? "" : "; ") + flat;
        }
        else if (flat.starts_with("pacparser.c: "))
        {
            const auto colon = flat.find(": ", 13);
            own += (own.empty() ? "" : "; ")
                   + (colon == std::string::npos ? flat : flat.substr(colon + 2));
        }
        else
        {
            js += (js.empty() ? "" : "; ") + flat;
        }
    }
    const std::string& why = !js.empty() ? js : !own.empty() ? own : std::string(what);
    return fmt::format("PAC script error in {}: {}", pac_url, why);
}

} // namespace

PacEvaluation evaluate_pac(
    const std::string& pac_url,
    const std::vector<std::string>& urls,
    std::chrono::milliseconds timeout)
{
    PacEvaluation out;
    std::string script;
    try
    {
        script = fetch_pac(pac_url, timeout);
    }
    catch (const PacProblem& p)
    {
        out.problem = fmt::format("PAC file {} unreachable: {}", pac_url, p.message);
        return out;
    }
    if (script.find('\0') != std::string::npos)
    {
        out.problem = fmt::format("PAC script error in {}: it is not text", pac_url);
        return out;
    }
    const PacParserLib* lib = nullptr;
    try
    {
        lib = &pacparser_lib();
    }
    catch (const PacProblem& p)
    {
        out.problem = fmt::format("the PAC file {} is not evaluated: {}", pac_url, p.message);
        return out;
    }
    std::string errors;
    const PacParser parser(*lib, errors);
    if (!parser.ready())
    {
        out.problem = fmt::format(
            "the PAC file {} is not evaluated: libpacparser did not start ({})", pac_url, errors);
        return out;
    }
    if (parser.lib().parse_pac_string(script.c_str()) == 0)
    {
        out.problem = script_error(pac_url, errors, "it does not parse");
        return out;
    }
    for (const auto& url : urls)
    {
        const std::string host = pac_url_host(url);
        // Owned by the JavaScript context, valid until the next call: copied at once.
        const char* answer = parser.lib().find_proxy(url.c_str(), host.c_str());
        if (answer == nullptr)
        {
            out.problem =
                script_error(pac_url, errors, fmt::format("FindProxyForURL failed for {}", url));
            out.answers.clear();
            return out;
        }
        out.answers.emplace_back(answer);
    }
    return out;
}

} // namespace azl::launcher
