// The guest end of a relay: a Unix socket whose connections each become the stdin and stdout of a
// new relay process. One thread, one poll loop over the listening socket, a signalfd (children
// ending, stop signals) and an eventfd (stop()); no byte of the traffic passes through here.
#include <azl/common/error.hpp>
#include <azl/common/log.hpp>
#include <azl/integration/host_cli.hpp>
#include <azl/integration/relay.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <csignal>
#include <cstring>
#include <span>

// POSIX has programs declare it (glibc's unistd.h only under _GNU_SOURCE): posix_spawn's
// environment. NOLINTNEXTLINE(cppcoreguidelines-avoid-non-const-global-variables): libc's, not ours
extern char** environ; // NOLINT(readability-redundant-declaration): see above

namespace azl::integration
{

namespace fs = std::filesystem;

namespace
{

sockaddr_un unix_address(const fs::path& path)
{
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string& s = path.native();
    if (s.size() >= sizeof(addr.sun_path))
    {
        throw UserError(
            fmt::format("the socket path {} is too long for a Unix socket", s),
            "set XDG_RUNTIME_DIR to a shorter directory");
    }
    std::memcpy(static_cast<char*>(addr.sun_path), s.c_str(), s.size() + 1);
    return addr;
}

UniqueFd listen_on(const fs::path& path)
{
    const sockaddr_un addr = unix_address(path);
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd)
    {
        throw_errno("creating a Unix socket");
    }
    // Whatever is at the path is a leftover (the caller holds the one-per-user lock): a socket of a
    // relay that was killed, which no one answers on any more.
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    {
        throw_errno(fmt::format("removing the stale socket {}", path.string()));
    }
    {
        const UmaskScope umask(0177); // 0600 from the start: never a moment open to others
        // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
        if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0)
        {
            throw_errno(fmt::format("binding {}", path.string()));
        }
    }
    if (::chmod(path.c_str(), 0600) != 0 || ::listen(fd.get(), SOMAXCONN) != 0)
    {
        throw_errno(fmt::format("listening on {}", path.string()));
    }
    return fd;
}

sigset_t relay_signals()
{
    sigset_t set;
    sigemptyset(&set);
    for (const int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP})
    {
        sigaddset(&set, s);
    }
    return set;
}

// Starts `argv` with `conn` as its stdin and stdout and /dev/null as stderr, with the default
// signal mask and dispositions (ours blocks and ignores some); returns its pid or an errno value.
int spawn_relay(const std::vector<std::string>& argv, int conn, pid_t& pid)
{
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawnattr_init(&attr);
    ::posix_spawn_file_actions_adddup2(&actions, conn, 0);
    ::posix_spawn_file_actions_adddup2(&actions, conn, 1);
    ::posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    sigset_t none;
    sigemptyset(&none);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    ::posix_spawnattr_setsigmask(&attr, &none);
    ::posix_spawnattr_setsigdefault(&attr, &defaults);
    ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    std::vector<std::string> owned = argv; // posix_spawn takes char* const[]
    std::vector<char*> args;
    args.reserve(owned.size() + 1);
    for (auto& a : owned)
    {
        args.push_back(a.data());
    }
    args.push_back(nullptr);
    const int rc = ::posix_spawn(&pid, args[0], &actions, &attr, args.data(), environ);
    ::posix_spawn_file_actions_destroy(&actions);
    ::posix_spawnattr_destroy(&attr);
    return rc;
}

} // namespace

SocketRelay::SocketRelay(SocketRelayOptions options)
    : m_options(std::move(options))
    , m_listen(listen_on(m_options.socket))
    , m_wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK))
{
    if (!m_wake)
    {
        throw_errno("creating an eventfd");
    }
}

SocketRelay::~SocketRelay()
{
    // The file is ours: the caller holds the one-per-user lock for as long as we live.
    ::unlink(m_options.socket.c_str());
}

void SocketRelay::stop()
{
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(m_wake.get(), &one, sizeof(one));
}

void SocketRelay::reap()
{
    int status = 0;
    while (m_children > 0 && ::waitpid(-1, &status, WNOHANG) > 0)
    {
        --m_children;
    }
}

void SocketRelay::accept_one()
{
    const auto log = logger("relay");
    for (;;)
    {
        UniqueFd conn(::accept4(m_listen.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!conn)
        {
            if (errno == EINTR || errno == ECONNABORTED)
            {
                continue;
            }
            return; // EAGAIN: nothing more queued; EMFILE and kin: the next poll retries
        }
        ucred peer{};
        socklen_t len = sizeof(peer);
        if (::getsockopt(conn.get(), SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0
            || peer.uid != m_options.allowed_uid)
        {
            ++m_stats.refused;
            log->warn("refused a connection from uid {} (pid {})", peer.uid, peer.pid);
            continue;
        }
        if (m_children >= m_options.max_connections)
        {
            ++m_stats.dropped;
            log->warn("{} relays running: a connection is dropped", m_children);
            continue;
        }
        auto command = m_options.command.empty() && find_command
                           ? find_command()
                           : std::optional<std::vector<std::string>>(m_options.command);
        if (!command || command->empty())
        {
            ++m_stats.dropped;
            log->warn("no relay to the host: a connection is closed");
            continue;
        }
        pid_t pid = 0;
        // The connection is non-blocking only on our side of accept4 (not inherited): the
        // relay process gets an ordinary blocking socket as its stdin and stdout.
        if (const int rc = spawn_relay(*command, conn.get(), pid); rc != 0)
        {
            ++m_stats.dropped;
            log->warn("starting {}: {}", command->front(), std::strerror(rc));
            continue;
        }
        ++m_children;
        ++m_stats.relayed;
        log->debug("connection relayed by pid {}", pid);
    }
}

void SocketRelay::run()
{
    const sigset_t set = relay_signals();
    ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
    UniqueFd signals(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!signals)
    {
        throw_errno("creating a signalfd");
    }
    for (;;)
    {
        // Also here, not only on SIGCHLD: in a process with other threads (tests) one of them may
        // take the signal.
        reap();
        std::array<pollfd, 3> fds{
            {{m_listen.get(), POLLIN, 0}, {signals.get(), POLLIN, 0}, {m_wake.get(), POLLIN, 0}}};
        if (::poll(fds.data(), fds.size(), -1) < 0)
        {
            if (errno == EINTR)
            {
                continue;
            }
            throw_errno("waiting for connections");
        }
        if ((fds[2].revents & POLLIN) != 0)
        {
            return;
        }
        if ((fds[1].revents & POLLIN) != 0)
        {
            signalfd_siginfo info{};
            bool stop_now = false;
            while (::read(signals.get(), &info, sizeof(info)) == sizeof(info))
            {
                stop_now = stop_now || info.ssi_signo != SIGCHLD;
            }
            reap();
            if (stop_now)
            {
                return;
            }
        }
        if ((fds[0].revents & POLLIN) != 0)
        {
            accept_one();
        }
    }
}

AgentProbe query_agent_keys(int fd, std::chrono::milliseconds timeout)
{
    // The agent protocol (draft-miller-ssh-agent): a uint32 length, then the message; type 11
    // (REQUEST_IDENTITIES) is answered by 12 (IDENTITIES_ANSWER) with a uint32 key count first,
    // or by 5 (FAILURE).
    constexpr std::array<unsigned char, 5> kRequest{0, 0, 0, 1, 11};
    constexpr std::size_t kMaxReply = std::size_t{256} * 1024U;
    try
    {
        write_all(fd, std::as_bytes(std::span(kRequest)), "the agent request");
    }
    catch (const SystemError& e)
    {
        return {std::nullopt, e.what()};
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::vector<unsigned char> reply;
    std::array<unsigned char, 4096> buf{};
    const auto u32 = [&reply](std::size_t at)
    {
        return (std::uint32_t{reply[at]} << 24U) | (std::uint32_t{reply[at + 1]} << 16U)
               | (std::uint32_t{reply[at + 2]} << 8U) | std::uint32_t{reply[at + 3]};
    };
    for (;;)
    {
        if (reply.size() >= 4)
        {
            const std::size_t len = u32(0);
            if (len == 0 || len > kMaxReply)
            {
                return {std::nullopt, "the agent's answer is not an ssh-agent message"};
            }
            if (reply.size() >= 4 + len)
            {
                if (reply[4] == 12 && len >= 5)
                {
                    return {u32(5), {}};
                }
                return {
                    std::nullopt, fmt::format("the agent answered with message type {}", reply[4])};
            }
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        pollfd pfd{fd, POLLIN, 0};
        if (left.count() <= 0 || ::poll(&pfd, 1, static_cast<int>(left.count())) == 0)
        {
            return {std::nullopt, "no answer from the agent in time"};
        }
        const ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n < 0 && errno == EINTR)
        {
            continue;
        }
        if (n <= 0)
        {
            return {
                std::nullopt,
                "the relay closed the connection without an answer (is the Windows agent "
                "running?)"};
        }
        reply.insert(reply.end(), buf.begin(), buf.begin() + n);
    }
}

AgentAnswer query_assuan_version(int fd, std::chrono::milliseconds timeout)
{
    // Assuan (GnuPG's IPC): the server greets with an OK line; GETINFO version is answered by a
    // data line ("D 2.4.5") and OK, or by ERR.
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string in;
    std::array<char, 1024> buf{};
    const auto next_line = [&]() -> std::optional<std::string>
    {
        for (;;)
        {
            if (const auto nl = in.find('\n'); nl != std::string::npos)
            {
                std::string line = in.substr(0, nl);
                in.erase(0, nl + 1);
                return line;
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            pollfd pfd{fd, POLLIN, 0};
            if (left.count() <= 0 || ::poll(&pfd, 1, static_cast<int>(left.count())) == 0
                || in.size() > 4096)
            {
                return std::nullopt;
            }
            const ssize_t n = ::read(fd, buf.data(), buf.size());
            if (n < 0 && errno == EINTR)
            {
                continue;
            }
            if (n <= 0)
            {
                return std::nullopt;
            }
            in.append(buf.data(), static_cast<std::size_t>(n));
        }
    };
    const std::string closed =
        "the relay closed the connection without an answer (is GnuPG's agent running on Windows?)";
    const auto greeting = next_line();
    if (!greeting)
    {
        return {std::nullopt, closed};
    }
    if (!greeting->starts_with("OK"))
    {
        return {std::nullopt, fmt::format("the agent greeted with: {}", greeting->substr(0, 80))};
    }
    constexpr std::string_view kRequest = "GETINFO version\n";
    try
    {
        write_all(fd, std::as_bytes(std::span(kRequest)), "the agent request");
    }
    catch (const SystemError& e)
    {
        return {std::nullopt, e.what()};
    }
    std::string version;
    while (const auto line = next_line())
    {
        if (line->starts_with("D "))
        {
            version = line->substr(2, 40);
        }
        else if (line->starts_with("OK"))
        {
            return {version.empty() ? std::string("?") : version, {}};
        }
        else if (line->starts_with("ERR"))
        {
            return {std::nullopt, fmt::format("the agent answered: {}", line->substr(0, 80))};
        }
    }
    return {std::nullopt, closed};
}

namespace
{

// Asks through the running relay's socket when it answers, else through `command` (the launcher's
// `relay`) started for this one question with a socket pair as its stdin and stdout.
template <typename Query>
auto probe_through(
    const fs::path& socket, const std::optional<std::vector<std::string>>& command, Query query)
    -> decltype(query(0))
{
    if (socket_alive(socket))
    {
        const UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        const sockaddr_un addr = unix_address(socket);
        // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
        if (fd && ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0)
        {
            return query(fd.get());
        }
    }
    if (!command)
    {
        return {std::nullopt, "azurelinux.exe was not found on the Windows drive"};
    }
    std::array<int, 2> sv{};
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv.data()) != 0)
    {
        throw_errno("creating a socket pair");
    }
    UniqueFd ours(sv[0]);
    const UniqueFd theirs(sv[1]);
    pid_t pid = 0;
    if (const int rc = spawn_relay(*command, theirs.get(), pid); rc != 0)
    {
        return {std::nullopt, fmt::format("starting {}: {}", command->front(), std::strerror(rc))};
    }
    auto probe = query(ours.get());
    ours = UniqueFd(); // the relay sees its stdin end and exits
    if (!probe.error.empty())
    {
        ::kill(pid, SIGTERM);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR)
    {
    }
    return probe;
}

constexpr std::chrono::seconds kProbeTimeout{10};

} // namespace

AgentProbe probe_ssh_agent(const BridgeConfig& config)
{
    const auto launcher = find_host_launcher(config.relay, drive_mount_root());
    return probe_through(
        ssh_agent_socket(),
        launcher ? std::optional<std::vector<std::string>>(
            {launcher->string(), "relay", "--pipe", config.relay.ssh_pipe})
                 : std::nullopt,
        [](int fd) { return query_agent_keys(fd, kProbeTimeout); });
}

AgentAnswer
probe_gpg_agent(const fs::path& socket, const std::optional<std::vector<std::string>>& command)
{
    return probe_through(
        socket, command, [](int fd) { return query_assuan_version(fd, kProbeTimeout); });
}

bool socket_alive(const fs::path& path)
{
    sockaddr_un addr{};
    try
    {
        addr = unix_address(path);
    }
    catch (const UserError&)
    {
        return false;
    }
    const UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
    return fd && ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
}

} // namespace azl::integration
