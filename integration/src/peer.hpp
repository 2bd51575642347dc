#pragma once
// Who is on the other end of a loopback TCP connection to the token server (private to the server).

#include <netinet/in.h>
#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>

namespace azl::integration
{

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

// The owners of the client ends of connections to one server port on 127.0.0.1: sock_diag first,
// /proc/net/tcp when it is missing or until it has found a client once (a kernel whose sock_diag
// misses sockets /proc lists is then noticed, and /proc used from then on).
class PeerOwners
{
public:
    // The uid owning the client end, at `peer`, of an accepted connection to
    // 127.0.0.1:`server_port`; nullopt when it is not found (a client gone already).
    std::optional<uid_t> owner_of(const sockaddr_in& peer, int server_port);

private:
    enum class Diag
    {
        unknown,
        works,
        broken,
    };
    Diag m_diag = Diag::unknown;
};

} // namespace azl::integration
