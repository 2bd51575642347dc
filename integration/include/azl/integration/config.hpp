#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace azl::integration
{

// The developer-credential relays' settings (sections [relay], [ssh-agent], [gcm] of bridge.conf).
struct RelayConfig
{
    // Guest path of the Windows launcher whose `relay` mode reaches the host's agents; empty:
    // looked for where it is installed (relay.hpp, find_host_launcher).
    std::optional<std::filesystem::path> launcher;
    bool ssh_agent = true; // [ssh-agent] enabled: SSH_AUTH_SOCK in login shells
    std::string ssh_pipe = "openssh-ssh-agent"; // [ssh-agent] pipe: the Windows agent's named pipe
    bool gpg_agent = true; // [gpg-agent] enabled: the guest's gpg signs with the Windows agent
    std::optional<std::filesystem::path> gpg_socket_file; // [gpg-agent] socketFile; empty: found
    bool gcm = true; // [gcm] enabled: git's credential helper forwards
    std::optional<std::filesystem::path> gcm_path; // [gcm] path: guest path of GCM; empty: found
};

// The bridge's settings: /etc/azurelinux/bridge.conf, then the user's
// $XDG_CONFIG_HOME/azurelinux/bridge.conf (default ~/.config/…), later files winning key by key.
struct BridgeConfig
{
    bool enabled = true;
    std::chrono::seconds idle_timeout{
        3600}; // serve exits after this long without a request; 0: never
    std::optional<std::filesystem::path>
        host_az;                           // guest path of the host's az (az.cmd, python.exe, az)
    std::optional<std::string> tenant;     // tenant passed to the host CLI for protocol requests
    std::chrono::seconds host_timeout{60}; // a host az call is killed after this long
    RelayConfig relay;
    std::vector<std::filesystem::path> sources; // the files that were read, in order
};

// The configuration files in the order they are read (system first), existing or not.
std::vector<std::filesystem::path> config_paths();

// Reads the files that exist among `paths`; throws UserError naming the file and line on bad
// values.
BridgeConfig load_config(const std::vector<std::filesystem::path>& paths);

} // namespace azl::integration
