#include <azl/common/error.hpp>
#include <azl/common/log.hpp>
#include <azl/integration/bridge.hpp>
#include <azl/integration/host_cli.hpp>
#include <azl/integration/runtime.hpp>
#include <azl/integration/server.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <charconv>
#include <csignal>
#include <cstdlib>
#include <functional>
#include <thread>

namespace azl::integration
{

namespace fs = std::filesystem;

namespace
{

// Stops the server on SIGTERM/SIGINT/SIGHUP: the signals are blocked in every thread and taken
// by this one with sigtimedwait, so no handler and no global state is needed.
class SignalStopper
{
public:
    explicit SignalStopper(TokenServer& server)
    {
        sigset_t set;
        sigemptyset(&set);
        for (const int s : {SIGTERM, SIGINT, SIGHUP})
        {
            sigaddset(&set, s);
        }
        m_thread = std::thread(
            [this, set, &server]
            {
                const timespec tick{0, 200'000'000};
                while (!m_done.load())
                {
                    if (::sigtimedwait(&set, nullptr, &tick) > 0)
                    {
                        server.stop();
                        return;
                    }
                }
            });
    }

    SignalStopper(const SignalStopper&) = delete;
    SignalStopper& operator=(const SignalStopper&) = delete;
    SignalStopper(SignalStopper&&) = delete;
    SignalStopper& operator=(SignalStopper&&) = delete;

    ~SignalStopper()
    {
        m_done.store(true);
        m_thread.join();
    }

private:
    std::atomic<bool> m_done{false};
    std::thread m_thread;
};

void block_stop_signals()
{
    sigset_t set;
    sigemptyset(&set);
    for (const int s : {SIGTERM, SIGINT, SIGHUP})
    {
        sigaddset(&set, s);
    }
    ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
    (void)::signal(SIGPIPE, SIG_IGN); // cannot fail for a valid signal and handler
}

// Tells the waiting parent of a detached server how start-up went: "ok", "running" or an error.
void report(int fd, std::string_view message)
{
    if (fd >= 0)
    {
        // Best effort: if the pipe is gone there is no one left to tell.
        [[maybe_unused]] const ssize_t written = ::write(fd, message.data(), message.size());
        ::close(fd);
    }
}

int run_server(const BridgeConfig& config, int ready_fd)
{
    const auto log = logger("bridge");
    log->flush_on(spdlog::level::debug); // a daemon's log is read while it runs
    const fs::path dir = runtime_dir();
    auto lock = InstanceLock::try_acquire(dir);
    if (!lock)
    {
        report(ready_fd, "running");
        log->info("a bridge is already running for this user");
        return 0;
    }
    const Secrets secrets = load_or_create_secrets(dir);
    ServerOptions options;
    options.secrets = secrets;
    options.tenant = config.tenant;
    options.idle_timeout = config.idle_timeout;
    options.allowed_uid = ::geteuid();
    if (const auto previous = read_server_state(dir))
    {
        options.port = previous->port; // shells that exported the old URL keep working
    }
    block_stop_signals();
    TokenServer server(options, std::bind_front(fetch_host_token, config));
    write_server_state(dir, {server.port(), ::getpid()});
    log->info("serving on 127.0.0.1:{}", server.port());
    report(ready_fd, "ok");
    TokenServer::EndReason reason = TokenServer::EndReason::stopped;
    {
        const SignalStopper stopper(server);
        reason = server.run();
    }
    const ServerStats stats = server.stats();
    log->info(
        "{}; exiting ({} requests, {} refused, {} host calls, {} connections evicted at the limit)",
        reason == TokenServer::EndReason::idle ? "idle" : "stopped",
        stats.requests,
        stats.refused,
        stats.host_calls,
        stats.evicted);
    // server.json and the secrets stay: a restarted server serves the same URLs (the lock, not the
    // file, tells whether a server runs).
    return 0;
}

// A daemon must not hold its starter's pipes and sockets open (a `$(…)` capture, a test harness's
// output): whoever waits for their end would wait for the daemon. Files (the log) stay open.
void close_inherited_pipes(int keep)
{
    std::vector<int> fds;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/proc/self/fd", ec))
    {
        int fd = -1;
        const auto name = entry.path().filename().string();
        std::from_chars(name.data(), name.data() + name.size(), fd);
        struct stat st = {};
        if (fd > 2 && fd != keep && ::fstat(fd, &st) == 0 && !S_ISREG(st.st_mode))
        {
            fds.push_back(fd);
        }
    }
    for (const int fd : fds)
    {
        ::close(fd);
    }
}

int serve_detached(const BridgeConfig& config)
{
    std::array<int, 2> p{};
    if (::pipe2(p.data(), O_CLOEXEC) != 0)
    {
        throw_errno("creating a pipe");
    }
    const pid_t pid = ::fork();
    if (pid < 0)
    {
        throw_errno("starting the bridge in the background");
    }
    if (pid == 0)
    {
        ::close(p[0]);
        ::setsid();
        const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        for (const int fd : {0, 1, 2})
        {
            ::dup2(null, fd);
        }
        close_inherited_pipes(p[1]);
        int code = 0;
        try
        {
            code = run_server(config, p[1]);
        }
        catch (const std::exception& e)
        {
            report(p[1], e.what());
            code = 1;
        }
        std::_Exit(code);
    }
    ::close(p[1]);
    const UniqueFd read_end(p[0]);
    std::string message;
    std::array<char, 512> buf{};
    ssize_t n = 0;
    while ((n = ::read(read_end.get(), buf.data(), buf.size())) != 0)
    {
        if (n < 0 && errno == EINTR)
        {
            continue;
        }
        if (n < 0)
        {
            break;
        }
        message.append(buf.data(), static_cast<std::size_t>(n));
    }
    if (message == "ok" || message == "running")
    {
        if (message == "running")
        {
            int status = 0;
            ::waitpid(pid, &status, 0);
        }
        return 0;
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    throw UserError(
        fmt::format(
            "the bridge could not start: {}", message.empty() ? "it exited at once" : message),
        "run `azurelinux-bridge serve -v` to see why");
}

} // namespace

int serve(const BridgeConfig& config, Detach detach)
{
    if (!config.enabled)
    {
        throw UserError(
            "the Azure bridge is turned off ([bridge] enabled = false in "
            "/etc/azurelinux/bridge.conf)",
            "set enabled = true there to use the Windows Azure CLI's sign-in in this distribution");
    }
    return detach == Detach::yes ? serve_detached(config) : run_server(config, -1);
}

std::string env_script(const BridgeConfig& config, ClientSet clients)
{
    const fs::path dir = runtime_dir();
    if (!InstanceLock::is_held(dir))
    {
        // The login-shell hook only evals `env`: start this user's server on demand.
        serve(config, Detach::yes);
    }
    const auto state = read_server_state(dir);
    const auto secrets = load_secrets(dir);
    if (!InstanceLock::is_held(dir) || !state || !secrets)
    {
        throw UserError(
            "the Azure bridge is not running",
            "start it with `azurelinux-bridge serve --background`");
    }
    return env_lines(client_env(clients, endpoints(state->port, *secrets), *secrets));
}

} // namespace azl::integration
