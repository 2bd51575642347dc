// Who is on the other end of a loopback TCP connection: the kernel lists every socket of the
// network namespace with its owner's uid in /proc/net/tcp{,6}. The client's socket is the entry
// whose local address is the peer's and whose remote address is ours. The kernel's socket
// diagnostics (NETLINK_SOCK_DIAG) find that one socket by its addresses without listing the rest.
#include "peer.hpp"

#include <azl/common/fs.hpp>

#include <fmt/format.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <charconv>

namespace azl::integration
{

namespace
{

std::string slurp_proc(const std::filesystem::path& file)
{
    UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    std::string out;
    if (!fd)
    {
        return out;
    }
    std::array<char, 65536> buf{};
    for (;;)
    {
        const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
        if (n < 0 && errno == EINTR)
        {
            continue;
        }
        if (n <= 0)
        {
            return out;
        }
        out.append(buf.data(), static_cast<std::size_t>(n));
    }
}

// "127.0.0.1" → "0100007F" (the kernel prints the address's bytes as one host-order word).
std::optional<std::string> v4_hex(const std::string& ip)
{
    in_addr a{};
    if (::inet_pton(AF_INET, ip.c_str(), &a) != 1)
    {
        return std::nullopt;
    }
    return fmt::format("{:08X}", a.s_addr);
}

// Splits a line into whitespace-separated fields (at most 8 needed).
std::array<std::string_view, 8> fields(std::string_view line)
{
    std::array<std::string_view, 8> out{};
    std::size_t i = 0;
    std::size_t pos = 0;
    while (i < out.size())
    {
        pos = line.find_first_not_of(" \t", pos);
        if (pos == std::string_view::npos)
        {
            break;
        }
        const auto end = std::min(line.find_first_of(" \t", pos), line.size());
        out.at(i++) = line.substr(pos, end - pos);
        pos = end;
    }
    return out;
}

std::optional<uid_t>
find_in(const std::string& table, const std::string& local, const std::string& remote)
{
    std::size_t pos = table.find('\n'); // skip the header line
    while (pos != std::string::npos && pos + 1 < table.size())
    {
        const auto end = table.find('\n', pos + 1);
        const std::string_view line(
            table.data() + pos + 1, (end == std::string::npos ? table.size() : end) - pos - 1);
        pos = end;
        const auto f = fields(line);
        if (f[1] == local && f[2] == remote)
        {
            uid_t uid = 0;
            const auto [ptr, ec] = std::from_chars(f[7].data(), f[7].data() + f[7].size(), uid);
            if (ec == std::errc() && ptr == f[7].data() + f[7].size())
            {
                return uid;
            }
        }
    }
    return std::nullopt;
}

} // namespace

DiagLookup tcp_peer_uid_diag(
    const std::string& peer_ip, int peer_port, const std::string& server_ip, int server_port)
{
    in_addr peer{};
    in_addr server{};
    if (::inet_pton(AF_INET, peer_ip.c_str(), &peer) != 1
        || ::inet_pton(AF_INET, server_ip.c_str(), &server) != 1)
    {
        return {DiagLookup::Result::not_found};
    }
    const UniqueFd nl(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
    if (!nl)
    {
        return {};
    }
    const timeval timeout{1, 0}; // the kernel answers within the send; this only guards a hang
    ::setsockopt(nl.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);

    struct
    {
        nlmsghdr header;
        inet_diag_req_v2 request;
    } message{};

    message.header.nlmsg_len = sizeof message;
    message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    message.header.nlmsg_flags = NLM_F_REQUEST; // one socket by its addresses, no dump
    message.request.sdiag_family = AF_INET;
    message.request.sdiag_protocol = IPPROTO_TCP;
    message.request.idiag_states = ~0U;
    // The client's socket: its local end is the peer, its remote end the server.
    message.request.id.idiag_sport = htons(static_cast<std::uint16_t>(peer_port));
    message.request.id.idiag_dport = htons(static_cast<std::uint16_t>(server_port));
    message.request.id.idiag_src[0] = peer.s_addr;
    message.request.id.idiag_dst[0] = server.s_addr;
    message.request.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
    message.request.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    const auto* to = reinterpret_cast<const sockaddr*>(&kernel); // the sockets API
    if (::sendto(nl.get(), &message, sizeof message, 0, to, sizeof kernel) != sizeof message)
    {
        return {};
    }
    alignas(nlmsghdr) std::array<char, 8192> buf{};
    const ssize_t n = ::recv(nl.get(), buf.data(), buf.size(), 0);
    constexpr std::size_t kHeader = NLMSG_ALIGN(sizeof(nlmsghdr));
    const auto* reply = reinterpret_cast<const nlmsghdr*>(buf.data()); // netlink
    if (n < static_cast<ssize_t>(kHeader) || reply->nlmsg_len > static_cast<std::size_t>(n))
    {
        return {};
    }
    const char* payload = buf.data() + kHeader;
    if (reply->nlmsg_type == NLMSG_ERROR && reply->nlmsg_len >= kHeader + sizeof(nlmsgerr))
    {
        const auto* error = reinterpret_cast<const nlmsgerr*>(payload); // netlink
        return {
            error->error == -ENOENT ? DiagLookup::Result::not_found
                                    : DiagLookup::Result::unavailable};
    }
    if (reply->nlmsg_type != SOCK_DIAG_BY_FAMILY
        || reply->nlmsg_len < kHeader + sizeof(inet_diag_msg))
    {
        return {};
    }
    const auto* found = reinterpret_cast<const inet_diag_msg*>(payload); // netlink
    // An exact lookup can also land on a listening socket on the peer's port: not a client.
    if (found->idiag_state == TCP_LISTEN || found->id.idiag_dport != message.request.id.idiag_dport
        || found->id.idiag_dst[0] != server.s_addr)
    {
        return {DiagLookup::Result::not_found};
    }
    return {DiagLookup::Result::found, found->idiag_uid};
}

std::optional<uid_t> tcp_peer_uid(
    const std::string& peer_ip,
    int peer_port,
    const std::string& server_ip,
    int server_port,
    const std::filesystem::path& proc_net)
{
    const auto peer = v4_hex(peer_ip);
    const auto server = v4_hex(server_ip);
    if (!peer || !server)
    {
        return std::nullopt;
    }
    const auto local = fmt::format("{}:{:04X}", *peer, peer_port);
    const auto remote = fmt::format("{}:{:04X}", *server, server_port);
    if (auto uid = find_in(slurp_proc(proc_net / "tcp"), local, remote))
    {
        return uid;
    }
    // A dual-stack (IPv6) client socket connected to our IPv4 address shows as ::ffff:a.b.c.d.
    const std::string mapped = "0000000000000000FFFF0000";
    return find_in(slurp_proc(proc_net / "tcp6"), mapped + local, mapped + remote);
}

std::optional<uid_t> PeerOwners::owner_of(const sockaddr_in& peer, int server_port)
{
    if (peer.sin_family != AF_INET)
    {
        return std::nullopt;
    }
    std::array<char, INET_ADDRSTRLEN> ip{};
    ::inet_ntop(AF_INET, &peer.sin_addr, ip.data(), ip.size());
    const int port = ntohs(peer.sin_port);
    // The kernel's socket diagnostics first: /proc/net/tcp costs time in proportion to every
    // socket of the namespace, so under connection churn it would starve the event loop.
    const auto diag = m_diag == Diag::broken
                          ? DiagLookup{}
                          : tcp_peer_uid_diag(ip.data(), port, "127.0.0.1", server_port);
    if (diag.result == DiagLookup::Result::found)
    {
        m_diag = Diag::works;
        return diag.uid;
    }
    if (diag.result == DiagLookup::Result::unavailable || m_diag != Diag::works)
    {
        const auto uid = tcp_peer_uid(ip.data(), port, "127.0.0.1", server_port);
        if (uid || diag.result == DiagLookup::Result::unavailable)
        {
            m_diag = Diag::broken;
        }
        return uid;
    }
    return std::nullopt;
}

} // namespace azl::integration
