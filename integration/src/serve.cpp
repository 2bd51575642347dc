#include "daemon.hpp"

#include <azl/common/error.hpp>
#include <azl/common/log.hpp>
#include <azl/integration/bridge.hpp>
#include <azl/integration/host_cli.hpp>
#include <azl/integration/runtime.hpp>
#include <azl/integration/server.hpp>

#include <fmt/format.h>

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
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

int run_server(const BridgeConfig& config, int ready_fd)
{
    const auto log = logger("bridge");
    log->flush_on(spdlog::level::debug); // a daemon's log is read while it runs
    const fs::path dir = runtime_dir();
    auto lock = InstanceLock::try_acquire(dir);
    if (!lock)
    {
        daemon_report(ready_fd, "running");
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
    daemon_report(ready_fd, "ok");
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
    if (detach == Detach::no)
    {
        return run_server(config, -1);
    }
    run_detached(
        [&config](int ready_fd) { return run_server(config, ready_fd); },
        {"the bridge", "run `azurelinux-bridge serve -v` to see why"});
    return 0;
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
