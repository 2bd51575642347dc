#pragma once

#include <azl/common/process.hpp>
#include <azl/integration/config.hpp>
#include <azl/integration/token.hpp>

#include <chrono>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace azl::integration
{

// How to start the host's Azure CLI: the argv before `account …`, and the working directory.
struct HostCommand
{
    std::vector<std::string> prefix; // e.g. {"/mnt/c/…/CLI2/python.exe", "-IBm", "azure.cli"}
    std::filesystem::path cwd;  // empty: ours; for az.cmd: its directory (cmd.exe runs "az.cmd")
    std::filesystem::path path; // what was found, for status and messages
    bool via_cmd = false;       // arguments pass through cmd.exe: only cmd-safe characters allowed
};

// What locate_host_az looks at; tests pass their own.
struct LocateInputs
{
    std::optional<std::filesystem::path> configured; // config `hostAz`
    std::string path_env;                            // $PATH, with the Windows entries WSL appends
    std::filesystem::path drive_root;                // where Windows drives are mounted ("/mnt")
};

// The WSL drive mount root from /etc/wsl.conf `[automount] root` (default /mnt).
std::filesystem::path drive_mount_root(const std::filesystem::path& wsl_conf = "/etc/wsl.conf");

// Finds the host's az: the configured path, else an az.cmd in a PATH entry under the drive root,
// else the default Azure CLI install directory on a mounted drive. Never the guest's own az.
std::optional<HostCommand> locate_host_az(const LocateInputs& inputs);

// Turns a found az.cmd/python.exe/az into the command that runs it without a shell.
HostCommand host_command_for(const std::filesystem::path& az);

// Parses `az account get-access-token --output json` (both `expires_on` and older local-time
// `expiresOn` shapes, CRLF line ends); throws HostError(bad_output).
AccessToken parse_token_output(std::string_view text);

// One sign-in problem the host CLI reports: the text that identifies it in az's message (an
// AADSTS code, or az's own wording), and what the person at the guest's terminal should do.
struct SignInProblem
{
    std::string_view marker; // found in az's message, e.g. "AADSTS50076"
    std::string_view also;   // must be found too unless empty; "{tenant}": the requested tenant
    HostErrorKind kind;      // interaction_required, not_signed_in, tenant_mismatch, …
    std::string_view what;   // "multi-factor authentication is required (AADSTS50076)"
    // What to do in Windows: {login} is az's own `az login …` line (else `az login`), {tenant}
    // the requested tenant.
    std::string_view remedy;
};

// Every sign-in problem the bridge explains, most specific first (one table, one test per row).
std::span<const SignInProblem> sign_in_problems();

// Maps a failed run of the host CLI to a HostError with advice.
HostError classify_failure(const ProcessResult& result, const TokenRequest& request);

// Whether `s` may be passed to the host CLI as a resource, scope or tenant (also through cmd.exe).
bool is_safe_cli_argument(std::string_view s);

// The signed-in account as `az account show` reports it.
struct AccountInfo
{
    std::string user;
    std::string tenant;
    std::string subscription;
    std::string subscription_name;
};

// Parses `az account show --output json`; throws HostError(bad_output).
AccountInfo parse_account_show(std::string_view text);

// Runs the host's Azure CLI.
class HostCli
{
public:
    // `timeout` bounds every call.
    HostCli(HostCommand command, std::chrono::milliseconds timeout);

    // `az account get-access-token`; throws HostError.
    [[nodiscard]] AccessToken get_token(const TokenRequest& request) const;

    // `az account show`; throws HostError (not_signed_in when signed out).
    [[nodiscard]] AccountInfo account_show() const;

    // Runs `az ARGS… --output json` and returns its stdout; throws HostError on failure.
    [[nodiscard]] std::string run_json(const std::vector<std::string>& args) const;

    // Where the CLI was found.
    [[nodiscard]] const HostCommand& command() const noexcept
    {
        return m_command;
    }

private:
    [[nodiscard]] ProcessResult run(const std::vector<std::string>& args) const;

    HostCommand m_command;
    std::chrono::milliseconds m_timeout;
};

// Finds the host's az as configured, else where WSL and the Azure CLI installer put it.
std::optional<HostCommand> find_host_az(const BridgeConfig& config);

// The host CLI with the configured timeout, or HostError(not_found) naming where we looked.
HostCli make_host_cli(const BridgeConfig& config);

// The one way a token is fetched from the host, for the server's workers and for `token` without
// a server: finds the host's az anew on each call (an Azure CLI installed in Windows later is found
// without a restart) and asks it; throws HostError.
AccessToken fetch_host_token(const BridgeConfig& config, const TokenRequest& request);

} // namespace azl::integration
