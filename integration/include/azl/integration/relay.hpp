#pragma once
// The developer-credential relays: the guest's ssh-agent socket served by the Windows agent through
// the launcher's `relay` mode, and Git Credential Manager found on the Windows drive.

#include <azl/common/fs.hpp>
#include <azl/integration/bridge.hpp>
#include <azl/integration/config.hpp>

#include <nlohmann/json.hpp>

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace azl::integration
{

// Where the Windows side of a relay is looked for: the configured launcher, else the places the
// launcher is installed, under `drive_root` (/mnt): C:\Program Files\AzureLinux, the Microsoft
// Store's per-user alias (%LOCALAPPDATA%\Microsoft\WindowsApps) and a per-user install
// (%LOCALAPPDATA%\Programs\AzureLinux) of each Windows user.
std::vector<std::filesystem::path>
host_launcher_candidates(const RelayConfig& config, const std::filesystem::path& drive_root);

// The first candidate that is a file; nullopt when the launcher is nowhere.
std::optional<std::filesystem::path>
find_host_launcher(const RelayConfig& config, const std::filesystem::path& drive_root);

// Where Git Credential Manager is looked for under `drive_root`: the configured path, else Git for
// Windows (ucrt64/bin, mingw64/bin, the older mingw64/libexec/git-core with both of GCM's names) in
// Program Files and in each user's %LOCALAPPDATA%\Programs, and GCM's own system-wide and per-user
// installers' folders.
std::vector<std::filesystem::path>
gcm_candidates(const RelayConfig& config, const std::filesystem::path& drive_root);

// The first GCM candidate that is a file; nullopt when GCM is not installed.
std::optional<std::filesystem::path>
find_gcm(const RelayConfig& config, const std::filesystem::path& drive_root);

// `git credential` helper mode: runs the Windows GCM with `action` (get, store, erase), this
// process's stdin and stdout (the credential never passes through us), found anew at every call so
// a Git for Windows update that moves it needs nothing. Returns GCM's exit status; 0 without a
// word (git then asks as usual) when GCM is off or not installed.
int run_git_credential(const BridgeConfig& config, const std::string& action);

// A Unix socket whose every connection is handed, as stdin and stdout, to a new process running
// `command` (the relay to the host): a connection is a process, so a host side killed mid-session
// ends that connection alone and the next one starts afresh.
struct SocketRelayOptions
{
    std::filesystem::path socket;      // created 0600; an existing file there is replaced
    std::vector<std::string> command;  // argv; empty: found per connection by `find_command`
    uid_t allowed_uid = 0;             // other peers (SO_PEERCRED) are closed at once
    std::size_t max_connections = 256; // beyond it, new connections are closed
};

class SocketRelay
{
public:
    // Binds and listens; throws SystemError.
    explicit SocketRelay(SocketRelayOptions options);
    SocketRelay(const SocketRelay&) = delete;
    SocketRelay& operator=(const SocketRelay&) = delete;
    SocketRelay(SocketRelay&&) = delete;
    SocketRelay& operator=(SocketRelay&&) = delete;
    // Removes the socket file.
    ~SocketRelay();

    // The command for the next connection; nullopt closes that connection (host side missing).
    std::function<std::optional<std::vector<std::string>>()> find_command;

    // Serves until SIGTERM, SIGINT or SIGHUP (which must be blocked in every thread) or stop().
    void run();

    // Makes run() return (from any thread).
    void stop();

    // Connections handed to a relay process, refused for their uid, dropped at the limit.
    struct Stats
    {
        std::size_t relayed = 0;
        std::size_t refused = 0;
        std::size_t dropped = 0;
    };

    [[nodiscard]] Stats stats() const noexcept
    {
        return m_stats;
    }

private:
    void accept_one();
    void reap();

    SocketRelayOptions m_options;
    UniqueFd m_listen;
    UniqueFd m_wake; // eventfd: stop()
    std::size_t m_children = 0;
    Stats m_stats;
};

// The per-user socket of the ssh-agent relay: RUNTIME/ssh-agent.sock (see runtime_dir()).
std::filesystem::path ssh_agent_socket();

// Serves the ssh-agent relay for this user (one per user: a second finds the lock taken and returns
// 0); with Detach::yes returns once the socket is ready. UserError when it is turned off.
int serve_ssh_agent(const BridgeConfig& config, Detach detach);

// The login hook's line for SSH_AUTH_SOCK: empty when the relay is off, the user already has a live
// agent (`current` names a socket that answers), or the Windows side is not installed; otherwise
// starts the relay when it is not running and returns the export.
std::string ssh_agent_env(const BridgeConfig& config, const char* current);

// Where the Windows GnuPG agent's socket file is looked for: [gpg-agent] socketFile, else each
// Windows user's S.gpg-agent.extra (the socket GnuPG offers for forwarding: no key management) in
// %LOCALAPPDATA%\gnupg (GnuPG 2.3 and later), then in %APPDATA%\gnupg (2.2).
std::vector<std::filesystem::path>
gpg_socket_file_candidates(const RelayConfig& config, const std::filesystem::path& drive_root);

// The first that is a file; nullopt when GnuPG's agent does not run on Windows.
std::optional<std::filesystem::path>
find_gpg_socket_file(const RelayConfig& config, const std::filesystem::path& drive_root);

// The Windows path (C:\Users\…) of a guest path on a drive mount (/mnt/c/Users/…); nullopt for
// any other path.
std::optional<std::string>
windows_path_of(const std::filesystem::path& guest, const std::filesystem::path& drive_root);

// Where the guest's gpg looks for its agent (`gpgconf --list-dirs agent-socket`); nullopt when
// GnuPG is not installed.
std::optional<std::filesystem::path> guest_gpg_agent_socket();

// Serves the gpg-agent relay at the guest's agent socket, each connection relayed to the Windows
// agent by `azurelinux.exe relay --assuan` (one per user); UserError when turned off or without
// GnuPG in the guest.
int serve_gpg_agent(const BridgeConfig& config, Detach detach);

// The login hook's part for GnuPG (nothing to export: gpg finds its socket itself): starts the
// relay unless it is off, runs already, the Windows side or the guest's GnuPG is missing, or the
// guest's own gpg-agent answers on the socket.
void start_gpg_agent_relay(const BridgeConfig& config);

// Whether a Unix socket at `path` accepts a connection now.
bool socket_alive(const std::filesystem::path& path);

// What asking the agent for its keys found.
struct AgentProbe
{
    std::optional<std::uint32_t> keys; // how many the agent holds; nullopt when it did not answer
    std::string error;                 // why not, for people
};

// Asks the ssh-agent behind `fd` (a connected stream) how many keys it holds (the agent
// protocol's REQUEST_IDENTITIES), waiting at most `timeout` for the answer.
AgentProbe query_agent_keys(int fd, std::chrono::milliseconds timeout);

// Asks the Windows agent through the relay: through the running relay's socket, else through the
// launcher's `relay` started for this one question. For `status` and `doctor`.
AgentProbe probe_ssh_agent(const BridgeConfig& config);

// What asking GnuPG's agent for its version found.
struct AgentAnswer
{
    std::optional<std::string> version; // GnuPG's version; nullopt when the agent did not answer
    std::string error;                  // why not, for people
};

// Reads the Assuan greeting of the gpg-agent behind `fd`, then asks GETINFO version, waiting at
// most `timeout` in all.
AgentAnswer query_assuan_version(int fd, std::chrono::milliseconds timeout);

// Asks the Windows GnuPG agent through the relay: through `socket` when our relay serves it, else
// through `command` (`azurelinux.exe relay --assuan FILE`) started for this one question.
AgentAnswer probe_gpg_agent(
    const std::filesystem::path& socket, const std::optional<std::vector<std::string>>& command);

// `status --json`'s "ssh_agent", "gpg_agent" and "gcm" objects.
nlohmann::json relay_status(const BridgeConfig& config);

} // namespace azl::integration
