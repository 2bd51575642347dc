#pragma once

#include <azl/common/process.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace azl::integration
{

// Whether a token is asked for an Azure AD v1 resource or a v2 scope (`--resource` / `--scope`).
enum class TargetKind
{
    resource,
    scope,
};

// One token the host's Azure CLI is asked for.
struct TokenRequest
{
    std::string target; // "https://management.azure.com/" or "https://vault.azure.net/.default"
    TargetKind kind = TargetKind::resource;
    std::optional<std::string> tenant;

    // The cache key: one entry per (resource or scope, tenant).
    [[nodiscard]] std::string cache_key() const;
};

// An access token as the host CLI handed it out. Never logged.
struct AccessToken
{
    std::string access_token;
    std::int64_t expires_on = 0; // Unix seconds
    std::string token_type = "Bearer";
    std::string tenant;       // may be empty
    std::string subscription; // may be empty (e.g. with --tenant)
};

// Why the host CLI could not produce a token; each maps to its own advice.
enum class HostErrorKind
{
    not_found,            // no host az: not installed, or not found where we look
    interop_disabled,     // Windows programs cannot be started from this distribution
    not_signed_in,        // run `az login` in Windows
    interaction_required, // MFA, consent, expired sign-in: the CLI's own message says what to run
    tenant_mismatch,      // the requested tenant is not one the account is signed in to
    timeout,              // the CLI did not answer in time
    failed,               // any other failure, with the CLI's message
    bad_output,           // the CLI answered with something that is not its token JSON
};

// A host CLI failure with a message meant for the person at the guest's terminal.
class HostError : public std::runtime_error
{
public:
    // `message` is complete and user-facing.
    HostError(HostErrorKind kind, const std::string& message);

    // What went wrong.
    [[nodiscard]] HostErrorKind kind() const noexcept
    {
        return m_kind;
    }

private:
    HostErrorKind m_kind;
};

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

} // namespace azl::integration
