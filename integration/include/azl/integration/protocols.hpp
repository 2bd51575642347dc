#pragma once

#include <azl/integration/http.hpp>
#include <azl/integration/token.hpp>
#include <azl/integration/token_cache.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <variant>

namespace azl::integration
{

// The two secrets of a running bridge: the URL path prefix (a capability: in WSL2 every
// distribution shares the loopback interface) and the App Service identity header.
struct Secrets
{
    std::string prefix; // 64 hex digits (256 bits)
    std::string header; // 64 hex digits (256 bits)
};

// Which protocol a request speaks; each has its own reply and error shapes.
enum class Protocol
{
    app_service, // GET IDENTITY_ENDPOINT?api-version=2019-08-01&resource=… + X-IDENTITY-HEADER
    cloud_shell, // POST MSI_ENDPOINT, form resource=…, Metadata: true
    imds, // GET …/metadata/identity/oauth2/token?api-version=2018-02-01&resource=…, Metadata: true
    azd, // POST AZD_AUTH_ENDPOINT/token?api-version=2023-07-12-preview, JSON {scopes, tenantId}
    bridge_token,  // our own: `azurelinux-bridge token`, az's JSON shape
    bridge_status, // our own: the cache entries for `azurelinux-bridge status`
};

// A request that passed every check: which protocol and which token.
struct Route
{
    Protocol protocol = Protocol::app_service;
    TokenRequest token;
};

// A request refused before any token work: the complete reply.
struct Refusal
{
    int status = 400;
    std::string body;
};

// The path after the prefix of each endpoint.
inline constexpr std::string_view kAppServicePath = "/msi/token";
inline constexpr std::string_view kCloudShellPath = "/cloudshell/token";
inline constexpr std::string_view kImdsPath = "/metadata/identity/oauth2/token";
// azd's external authentication: AZD_AUTH_ENDPOINT is the base, azd appends "/token".
inline constexpr std::string_view kAzdBasePath = "/azd";
inline constexpr std::string_view kAzdPath = "/azd/token";
inline constexpr std::string_view kAzdApiVersion = "2023-07-12-preview";
inline constexpr std::string_view kBridgeTokenPath = "/bridge/token";
inline constexpr std::string_view kBridgeStatusPath = "/bridge/status";

// Azure CLI's public client id: the application the host's tokens are issued to.
inline constexpr std::string_view kAzureCliClientId = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

// Checks path prefix (constant time), method, secret header (constant time), api-version and
// query of one request; `tenant` is the configured tenant for protocol requests.
std::variant<Route, Refusal> route_request(
    const HttpRequest& request, const Secrets& secrets, const std::optional<std::string>& tenant);

// The success body of `protocol` for `token`.
std::string render_token(
    Protocol protocol,
    const AccessToken& token,
    const TokenRequest& request,
    std::chrono::system_clock::time_point now);

// The status and error body of `protocol` that its clients show for a host failure.
Refusal render_host_error(Protocol protocol, const CachedError& error);

// An error body in the shape `protocol`'s clients read (App Service: statusCode/message;
// IMDS and Cloud Shell: error/error_description; azd: status "error", code, message).
std::string
error_body(Protocol protocol, int status, std::string_view code, std::string_view message);

// The JSON of `status`'s cache list.
std::string render_cache_entries(const std::vector<CacheEntryInfo>& entries);

// Equal strings, compared in time independent of where they differ (CRYPTO_memcmp).
bool constant_time_equal(std::string_view a, std::string_view b);

} // namespace azl::integration
