#include "client.hpp"

#include <azl/common/fs.hpp>

#include <fmt/format.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <charconv>

namespace azl::integration
{

std::string url_encode(std::string_view s)
{
    std::string out;
    for (const char ch : s)
    {
        const auto c = static_cast<unsigned char>(ch);
        if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~')
        {
            out.push_back(ch);
        }
        else
        {
            out += fmt::format("%{:02X}", c);
        }
    }
    return out;
}

std::optional<LocalReply> local_get(
    int port,
    const std::string& target,
    const std::string& identity_header,
    std::chrono::milliseconds timeout)
{
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd)
    {
        return std::nullopt;
    }
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
    {
        return std::nullopt;
    }
    const std::string request = fmt::format(
        "GET {} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nX-IDENTITY-HEADER: {}\r\nConnection: "
        "close\r\n\r\n",
        target,
        port,
        identity_header);
    if (::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL)
        != static_cast<ssize_t>(request.size()))
    {
        return std::nullopt;
    }
    std::string response;
    std::array<char, 16384> buf{};
    for (;;)
    {
        const ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), 0);
        if (n < 0 && errno == EINTR)
        {
            continue;
        }
        if (n < 0)
        {
            return std::nullopt;
        }
        if (n == 0)
        {
            break;
        }
        response.append(buf.data(), static_cast<std::size_t>(n));
    }
    // "HTTP/1.1 200 OK\r\n…\r\n\r\nBODY" (our server always sends Content-Length and closes).
    const auto head_end = response.find("\r\n\r\n");
    if (response.rfind("HTTP/1.1 ", 0) != 0 || head_end == std::string::npos
        || response.size() < 12)
    {
        return std::nullopt;
    }
    LocalReply reply;
    std::from_chars(response.data() + 9, response.data() + 12, reply.status);
    reply.body = response.substr(head_end + 4);
    return reply;
}

} // namespace azl::integration
