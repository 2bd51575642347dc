#pragma once
// The bridge's vocabulary for one token: what is asked of the host, what it hands back, and why it
// could not. Shared by the host CLI provider, the cache, the protocols and the server; none of them
// needs the process runner for it.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

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
    subscription_missing, // the default subscription is gone or not visible to the account
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

} // namespace azl::integration
