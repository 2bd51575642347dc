// The ssh-agent relay's life (one per user, started by the login hook, detached) and where the
// Windows side of each relay is found: the launcher (its `relay` mode) and Git Credential Manager.
#include "daemon.hpp"

#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/common/log.hpp>
#include <azl/common/process.hpp>
#include <azl/integration/host_cli.hpp>
#include <azl/integration/relay.hpp>
#include <azl/integration/runtime.hpp>

#include <fmt/format.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>

namespace azl::integration
{

namespace fs = std::filesystem;

namespace
{

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
        if (regular_file_exists(c))
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

// One kind of relay: its one-per-user lock, its socket, and the command for each connection.
struct RelaySpec
{
    std::string_view name; // "ssh-agent", in logs
    std::string lock;      // in the runtime directory
    fs::path socket;
    std::function<std::optional<std::vector<std::string>>()> command;
};

int run_relay(const RelaySpec& spec, int ready_fd)
{
    const auto log = logger("relay");
    log->flush_on(spdlog::level::debug);
    auto lock = InstanceLock::try_acquire(runtime_dir(), spec.lock);
    if (!lock)
    {
        daemon_report(ready_fd, "running");
        return 0;
    }
    drop_bridge_secrets();
    SocketRelayOptions options;
    options.socket = spec.socket;
    options.allowed_uid = ::geteuid();
    SocketRelay relay(std::move(options));
    relay.find_command = spec.command;
    log->info("{} relay on {}", spec.name, spec.socket.string());
    daemon_report(ready_fd, "ok");
    relay.run();
    const auto stats = relay.stats();
    log->info(
        "{} relay stopped ({} connections relayed, {} refused, {} dropped)",
        spec.name,
        stats.relayed,
        stats.refused,
        stats.dropped);
    return 0;
}

// The ssh-agent relay: each connection to `azurelinux.exe relay --pipe openssh-ssh-agent`, the
// launcher looked for at each connection (one installed, moved or updated later is found).
RelaySpec ssh_spec(const RelayConfig& config)
{
    return {
        "ssh-agent",
        "ssh-agent.lock",
        ssh_agent_socket(),
        [config, drive_root = drive_mount_root()]() -> std::optional<std::vector<std::string>>
        {
            const auto launcher = find_host_launcher(config, drive_root);
            if (!launcher)
            {
                return std::nullopt;
            }
            return std::vector<std::string>{launcher->string(), "relay", "--pipe", config.ssh_pipe};
        }};
}

// `azurelinux.exe relay --assuan C:\...\S.gpg-agent.extra`; nullopt without the launcher or the
// Windows agent's socket file.
std::optional<std::vector<std::string>>
gpg_relay_command(const RelayConfig& config, const fs::path& drive_root)
{
    const auto launcher = find_host_launcher(config, drive_root);
    const auto file = find_gpg_socket_file(config, drive_root);
    const auto windows = file ? windows_path_of(*file, drive_root) : std::nullopt;
    if (!launcher || !windows)
    {
        return std::nullopt;
    }
    return std::vector<std::string>{launcher->string(), "relay", "--assuan", *windows};
}

// The gpg-agent relay: each connection to gpg_relay_command, looked for at each connection.
RelaySpec gpg_spec(const RelayConfig& config, const fs::path& socket)
{
    return {"gpg-agent", "gpg-agent.lock", socket, [config, drive_root = drive_mount_root()] {
                return gpg_relay_command(config, drive_root);
            }};
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
    nlohmann::json gpg = {
        {"enabled", config.relay.gpg_agent},
        {"socket_file", nullptr},
        {"socket", nullptr},
        {"running", false},
        {"own_agent", false},
        {"version", nullptr},
        {"error", nullptr}};
    if (config.relay.gpg_agent)
    {
        const auto file = find_gpg_socket_file(config.relay, drive_root);
        if (file)
        {
            gpg["socket_file"] = file->string();
        }
        if (const auto socket = guest_gpg_agent_socket())
        {
            gpg["socket"] = socket->string();
            const bool ours = InstanceLock::is_held(runtime_dir(), "gpg-agent.lock");
            const bool alive = socket_alive(*socket);
            gpg["running"] = ours && alive;
            // A gpg-agent of the guest's own (or systemd's socket for it) serves gpg: it stays.
            gpg["own_agent"] = alive && !ours;
            if (file && launcher && !gpg["own_agent"].get<bool>())
            {
                const AgentAnswer answer = probe_gpg_agent(
                    ours ? *socket : fs::path(), gpg_relay_command(config.relay, drive_root));
                gpg["version"] =
                    answer.version ? nlohmann::json(*answer.version) : nlohmann::json();
                gpg["error"] =
                    answer.error.empty() ? nlohmann::json() : nlohmann::json(answer.error);
            }
        }
    }
    const auto gcm = find_gcm(config.relay, drive_root);
    return {
        {"ssh_agent", ssh},
        {"gpg_agent", gpg},
        {"gcm",
         {{"enabled", config.relay.gcm},
          {"path", gcm ? nlohmann::json(gcm->string()) : nlohmann::json()}}}};
}

std::vector<fs::path>
gpg_socket_file_candidates(const RelayConfig& config, const fs::path& drive_root)
{
    if (config.gpg_socket_file)
    {
        return {*config.gpg_socket_file};
    }
    std::vector<fs::path> out;
    for (const auto& profile : windows_profiles(drive_root))
    {
        // GnuPG 2.3 and later keep their sockets in %LOCALAPPDATA%\gnupg, 2.2 in %APPDATA%\gnupg.
        for (const char* dir : {"AppData/Local/gnupg", "AppData/Roaming/gnupg"})
        {
            out.push_back(profile / dir / "S.gpg-agent.extra");
        }
    }
    return out;
}

std::optional<fs::path> find_gpg_socket_file(const RelayConfig& config, const fs::path& drive_root)
{
    return first_file(gpg_socket_file_candidates(config, drive_root));
}

std::optional<std::string> windows_path_of(const fs::path& guest, const fs::path& drive_root)
{
    const fs::path relative = guest.lexically_relative(drive_root);
    auto it = relative.begin();
    if (relative.empty() || it == relative.end() || it->native().size() != 1
        || std::isalpha(static_cast<unsigned char>(it->native()[0])) == 0)
    {
        return std::nullopt;
    }
    std::string out = fmt::format("{}:", static_cast<char>(std::toupper(it->native()[0])));
    for (++it; it != relative.end(); ++it)
    {
        if (*it == "..")
        {
            return std::nullopt;
        }
        out += '\\';
        out += it->native();
    }
    return out.size() == 2 ? out + "\\" : out;
}

std::optional<fs::path> guest_gpg_agent_socket()
{
    if (!find_program("gpgconf"))
    {
        return std::nullopt;
    }
    ProcessOptions options;
    options.timeout = std::chrono::seconds(10);
    options.stderr_mode = Stream::null;
    const auto result = run_process({"gpgconf", "--list-dirs", "agent-socket"}, options);
    // gpgconf percent-escapes what it prints (a ':' in a path is "%3a").
    const std::string escaped = result.out.substr(0, result.out.find('\n'));
    const auto hex = [](char c) -> int
    {
        if (c >= '0' && c <= '9')
        {
            return c - '0';
        }
        const char lower = static_cast<char>(c | 0x20);
        return lower >= 'a' && lower <= 'f' ? lower - 'a' + 10 : -1;
    };
    std::string line;
    for (std::size_t i = 0; i < escaped.size(); ++i)
    {
        if (escaped[i] == '%' && i + 2 < escaped.size() && hex(escaped[i + 1]) >= 0
            && hex(escaped[i + 2]) >= 0)
        {
            line += static_cast<char>(hex(escaped[i + 1]) * 16 + hex(escaped[i + 2]));
            i += 2;
        }
        else
        {
            line += escaped[i];
        }
    }
    if (!result.ok() || line.empty() || line.front() != '/')
    {
        return std::nullopt;
    }
    return fs::path(line);
}

int serve_gpg_agent(const BridgeConfig& config, Detach detach)
{
    if (!config.relay.gpg_agent)
    {
        throw UserError(
            "the gpg-agent relay is turned off ([gpg-agent] enabled = false in "
            "/etc/azurelinux/bridge.conf)",
            "set enabled = true there to sign with the Windows GnuPG agent's keys");
    }
    const auto socket = guest_gpg_agent_socket();
    if (!socket)
    {
        throw UserError(
            "GnuPG is not installed in this distribution (no gpgconf)",
            "install it (the gnupg package), then log in again");
    }
    // gpg's socket directory: /run/user/UID/gnupg or ~/.gnupg, private as gpg makes it.
    if (::mkdir(socket->parent_path().c_str(), 0700) != 0 && errno != EEXIST)
    {
        throw_errno(fmt::format("creating {}", socket->parent_path().string()));
    }
    const RelaySpec spec = gpg_spec(config.relay, *socket);
    if (detach == Detach::no)
    {
        return run_relay(spec, -1);
    }
    run_detached(
        [&spec](int ready_fd) { return run_relay(spec, ready_fd); },
        {"the gpg-agent relay", "run `azurelinux-bridge gpg-agent -v` to see why"});
    return 0;
}

void start_gpg_agent_relay(const BridgeConfig& config)
{
    const fs::path drive_root = drive_mount_root();
    if (!config.relay.gpg_agent || !find_host_launcher(config.relay, drive_root)
        || !find_gpg_socket_file(config.relay, drive_root)
        || InstanceLock::is_held(runtime_dir(), "gpg-agent.lock"))
    {
        return;
    }
    const auto socket = guest_gpg_agent_socket();
    if (!socket || socket_alive(*socket))
    {
        return; // no GnuPG here, or the guest's own gpg-agent runs: it stays in charge
    }
    serve_gpg_agent(config, Detach::yes);
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
    const RelaySpec spec = ssh_spec(config.relay);
    if (detach == Detach::no)
    {
        return run_relay(spec, -1);
    }
    run_detached(
        [&spec](int ready_fd) { return run_relay(spec, ready_fd); },
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
