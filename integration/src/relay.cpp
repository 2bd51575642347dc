// The ssh-agent relay's life (one per user, started by the login hook, detached) and where the
// Windows side of each relay is found: the launcher (its `relay` mode) and Git Credential Manager.
#include "daemon.hpp"

#include <azl/common/error.hpp>
#include <azl/common/log.hpp>
#include <azl/integration/host_cli.hpp>
#include <azl/integration/relay.hpp>
#include <azl/integration/runtime.hpp>

#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>

namespace azl::integration
{

namespace fs = std::filesystem;

namespace
{

bool is_file(const fs::path& p)
{
    std::error_code ec;
    return fs::is_regular_file(p, ec);
}

// The Windows user profiles on drive C: (C:\Users\*), without the shared ones, sorted.
std::vector<fs::path> windows_profiles(const fs::path& drive_root)
{
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(drive_root / "c/Users", ec))
    {
        const std::string name = entry.path().filename().string();
        if (name == "Public" || name == "Default" || name == "Default User" || name == "All Users")
        {
            continue;
        }
        if (entry.is_directory(ec))
        {
            out.push_back(entry.path());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::optional<fs::path> first_file(const std::vector<fs::path>& candidates)
{
    for (const auto& c : candidates)
    {
        if (is_file(c))
        {
            return c;
        }
    }
    return std::nullopt;
}

// The login hook's environment holds the Azure bridge's endpoints, which carry its secrets: the
// relay and the Windows programs it starts have no use for them.
void drop_bridge_secrets()
{
    for (const char* name :
         {"IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "ARM_MSI_ENDPOINT"})
    {
        ::unsetenv(name);
    }
}

int run_ssh_relay(const BridgeConfig& config, int ready_fd)
{
    const auto log = logger("relay");
    log->flush_on(spdlog::level::debug);
    const fs::path dir = runtime_dir();
    auto lock = InstanceLock::try_acquire(dir, "ssh-agent.lock");
    if (!lock)
    {
        daemon_report(ready_fd, "running");
        return 0;
    }
    drop_bridge_secrets();
    SocketRelayOptions options;
    options.socket = dir / "ssh-agent.sock";
    options.allowed_uid = ::geteuid();
    SocketRelay relay(std::move(options));
    const RelayConfig relay_config = config.relay;
    const fs::path drive_root = drive_mount_root();
    // Looked for at each connection: a launcher installed, moved or updated later is found.
    relay.find_command = [relay_config, drive_root]() -> std::optional<std::vector<std::string>>
    {
        const auto launcher = find_host_launcher(relay_config, drive_root);
        if (!launcher)
        {
            return std::nullopt;
        }
        return std::vector<std::string>{
            launcher->string(), "relay", "--pipe", relay_config.ssh_pipe};
    };
    log->info("ssh-agent relay on {}", (dir / "ssh-agent.sock").string());
    daemon_report(ready_fd, "ok");
    relay.run();
    const auto stats = relay.stats();
    log->info(
        "ssh-agent relay stopped ({} connections relayed, {} refused, {} dropped)",
        stats.relayed,
        stats.refused,
        stats.dropped);
    return 0;
}

} // namespace

std::vector<fs::path>
host_launcher_candidates(const RelayConfig& config, const fs::path& drive_root)
{
    if (config.launcher)
    {
        return {*config.launcher};
    }
    std::vector<fs::path> out = {drive_root / "c/Program Files/AzureLinux/azurelinux.exe"};
    for (const auto& profile : windows_profiles(drive_root))
    {
        out.push_back(profile / "AppData/Local/Microsoft/WindowsApps/azurelinux.exe");
        out.push_back(profile / "AppData/Local/Programs/AzureLinux/azurelinux.exe");
    }
    return out;
}

std::optional<fs::path> find_host_launcher(const RelayConfig& config, const fs::path& drive_root)
{
    return first_file(host_launcher_candidates(config, drive_root));
}

std::vector<fs::path> gcm_candidates(const RelayConfig& config, const fs::path& drive_root)
{
    if (config.gcm_path)
    {
        return {*config.gcm_path};
    }
    constexpr std::string_view kExe = "git-credential-manager.exe";
    // Git for Windows: ucrt64 from 2.56 on, mingw64/bin before, mingw64/libexec/git-core before
    // 2.39 (where GCM was still named git-credential-manager-core for a while).
    const auto git_for_windows = [&](const fs::path& git, std::vector<fs::path>& out)
    {
        out.push_back(git / "ucrt64/bin" / kExe);
        out.push_back(git / "mingw64/bin" / kExe);
        out.push_back(git / "mingw64/libexec/git-core" / kExe);
        out.push_back(git / "mingw64/libexec/git-core/git-credential-manager-core.exe");
    };
    std::vector<fs::path> out;
    git_for_windows(drive_root / "c/Program Files/Git", out);
    out.push_back(drive_root / "c/Program Files (x86)/Git Credential Manager" / kExe);
    out.push_back(drive_root / "c/Program Files/Git Credential Manager" / kExe);
    for (const auto& profile : windows_profiles(drive_root))
    {
        const fs::path programs = profile / "AppData/Local/Programs";
        git_for_windows(programs / "Git", out);
        out.push_back(programs / "Git Credential Manager" / kExe);
        out.push_back(programs / "Git Credential Manager Core" / kExe);
    }
    return out;
}

std::optional<fs::path> find_gcm(const RelayConfig& config, const fs::path& drive_root)
{
    return first_file(gcm_candidates(config, drive_root));
}

int run_git_credential(const BridgeConfig& config, const std::string& action)
{
    const auto log = logger("gcm");
    if (!config.relay.gcm)
    {
        log->debug("Git Credential Manager is turned off ([gcm] enabled = false)");
        return 0;
    }
    const auto gcm = find_gcm(config.relay, drive_mount_root());
    if (!gcm)
    {
        log->debug("Git Credential Manager is not installed in Windows");
        return 0;
    }
    drop_bridge_secrets();
    // exec: git's stdin and stdout go straight to GCM; nothing of the credential passes here.
    std::string path = gcm->string();
    std::string verb = action;
    std::array<char*, 3> argv{path.data(), verb.data(), nullptr};
    ::execv(argv[0], argv.data());
    throw SystemError(
        fmt::format("starting Git Credential Manager ({})", path), std::strerror(errno));
}

nlohmann::json relay_status(const BridgeConfig& config)
{
    const fs::path drive_root = drive_mount_root();
    const auto launcher = find_host_launcher(config.relay, drive_root);
    nlohmann::json ssh = {
        {"enabled", config.relay.ssh_agent},
        {"launcher", launcher ? nlohmann::json(launcher->string()) : nlohmann::json()},
        {"socket", nullptr},
        {"running", false},
        {"keys", nullptr},
        {"error", nullptr}};
    if (config.relay.ssh_agent)
    {
        const fs::path socket = ssh_agent_socket();
        ssh["socket"] = socket.string();
        ssh["running"] =
            InstanceLock::is_held(runtime_dir(), "ssh-agent.lock") && socket_alive(socket);
        if (launcher)
        {
            const AgentProbe probe = probe_ssh_agent(config);
            ssh["keys"] = probe.keys ? nlohmann::json(*probe.keys) : nlohmann::json();
            ssh["error"] = probe.error.empty() ? nlohmann::json() : nlohmann::json(probe.error);
        }
    }
    const auto gcm = find_gcm(config.relay, drive_root);
    return {
        {"ssh_agent", ssh},
        {"gcm",
         {{"enabled", config.relay.gcm},
          {"path", gcm ? nlohmann::json(gcm->string()) : nlohmann::json()}}}};
}

fs::path ssh_agent_socket()
{
    return runtime_dir() / "ssh-agent.sock";
}

int serve_ssh_agent(const BridgeConfig& config, Detach detach)
{
    if (!config.relay.ssh_agent)
    {
        throw UserError(
            "the ssh-agent relay is turned off ([ssh-agent] enabled = false in "
            "/etc/azurelinux/bridge.conf)",
            "set enabled = true there to use the Windows ssh-agent's keys in this distribution");
    }
    if (detach == Detach::no)
    {
        return run_ssh_relay(config, -1);
    }
    run_detached(
        [&config](int ready_fd) { return run_ssh_relay(config, ready_fd); },
        {"the ssh-agent relay", "run `azurelinux-bridge ssh-agent -v` to see why"});
    return 0;
}

std::string ssh_agent_env(const BridgeConfig& config, const char* current)
{
    if (!config.relay.ssh_agent || !find_host_launcher(config.relay, drive_mount_root()))
    {
        return {};
    }
    const fs::path socket = ssh_agent_socket();
    if (socket.native().find('\'') != std::string::npos)
    {
        throw UserError(
            fmt::format("the runtime directory {} has a quote in its name", socket.string()),
            "set XDG_RUNTIME_DIR to a directory without one");
    }
    if (current != nullptr && *current != '\0' && fs::path(current) != socket
        && socket_alive(current))
    {
        return {}; // the user's own agent (or one forwarded by ssh -A) stays in charge
    }
    if (!InstanceLock::is_held(runtime_dir(), "ssh-agent.lock") || !socket_alive(socket))
    {
        serve_ssh_agent(config, Detach::yes);
    }
    return fmt::format("export SSH_AUTH_SOCK='{}'\n", socket.string());
}

} // namespace azl::integration
