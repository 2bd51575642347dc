#pragma once

#include <azl/integration/clients.hpp>
#include <azl/integration/config.hpp>
#include <azl/integration/host_cli.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace azl::integration
{

// Whether `serve` stays in the foreground (systemd) or detaches once it is ready (profile hook).
enum class Detach
{
    no,
    yes,
};

// Runs the token server until stopped or idle; a second server for the same user finds the lock
// taken and returns 0 at once. With Detach::yes it returns as soon as the server is ready.
int serve(const BridgeConfig& config, Detach detach);

// The shell lines that point `clients` at this user's server, started first when it is not
// running; UserError when the bridge is turned off or cannot start.
std::string env_script(const BridgeConfig& config, ClientSet clients);

// A token in `az account get-access-token`'s JSON shape: from the running server (and its cache),
// else straight from the host CLI. Throws UserError with the host's advice on failure.
nlohmann::json get_token(const BridgeConfig& config, const TokenRequest& request);

// Whether `status` checks TLS to the Azure endpoints (doctor runs the same checks itself).
enum class NetworkChecks
{
    run,
    skip,
};

// Everything `status --json` reports (see the cross-team contract), with `network` (the Azure
// endpoints' TLS checks through the guest's proxy) unless skipped.
nlohmann::json status(const BridgeConfig& config, NetworkChecks network = NetworkChecks::run);

// `status` for people.
std::string format_status(const nlohmann::json& status);

// What `sync` copied.
struct SyncResult
{
    std::vector<std::string> settings;       // "core.output = table", …
    std::filesystem::path config_file;       // the guest's Azure CLI config that was written
    std::optional<std::string> subscription; // the host's default subscription
    bool subscription_selected = false;      // set in the guest's own az
};

// Copies the host CLI's safe settings (core output/colour, default group and location) into the
// guest's Azure CLI config, and selects the host's default subscription in a signed-in guest az.
// Never reads or copies token caches, service principal entries or any other secret.
SyncResult sync_settings(const BridgeConfig& config);

// Signs the guest's own Azure CLI in through the bridge (`az login --identity`) and selects the
// host's default subscription. UserError when the guest has no az or the bridge is not running.
void az_login(const BridgeConfig& config);

// Where the guest's own az is (not a Windows one under the drive mount); nullopt when absent.
std::optional<std::filesystem::path> find_guest_az();

} // namespace azl::integration
