// Who is on the other end of a loopback TCP connection: the kernel lists every socket of the
// network namespace with its owner's uid in /proc/net/tcp{,6}. The client's socket is the entry
// whose local address is the peer's and whose remote address is ours.
#include <azl/common/fs.hpp>
#include <azl/integration/server.hpp>

#include <fmt/format.h>

#include <arpa/inet.h>
#include <fcntl.h>
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

} // namespace azl::integration
