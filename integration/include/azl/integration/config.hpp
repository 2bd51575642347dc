#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace azl::integration
{

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
    std::vector<std::filesystem::path> sources; // the files that were read, in order
};

// The configuration files in the order they are read (system first), existing or not.
std::vector<std::filesystem::path> config_paths();

// Reads the files that exist among `paths`; throws UserError naming the file and line on bad
// values.
BridgeConfig load_config(const std::vector<std::filesystem::path>& paths);

} // namespace azl::integration
