#include <azl/common/text.hpp>
#include <azl/integration/host_cli.hpp>
#include <azl/integration/protocols.hpp>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <ctime>

namespace azl::integration
{

namespace
{

using nlohmann::json;

std::int64_t unix_seconds(std::chrono::system_clock::time_point t)
{
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

Refusal refuse(Protocol protocol, int status, std::string_view code, std::string_view message)
{
    // azd reads a reply body only with status 200 (else it reports just the status code): a
    // request it may send but we cannot serve is answered 200 with its error shape, so that the
    // user sees why. A wrong key or method stays a bare protocol failure.
    if (protocol == Protocol::azd && status != 401 && status != 405)
    {
        status = 200;
    }
    return {status, error_body(protocol, status, code, message)};
}

bool metadata_true(const HttpRequest& req)
{
    const auto v = req.header("metadata");
    if (!v)
    {
        return false;
    }
    return ascii_iequals(*v, "true");
}

bool identity_header_ok(const HttpRequest& req, const Secrets& secrets)
{
    const auto v = req.header("x-identity-header");
    return v && constant_time_equal(*v, secrets.header);
}

// azd sends AZD_AUTH_KEY as "Authorization: Bearer KEY" (pkg/auth/remote_credential.go).
bool azd_key_ok(const HttpRequest& req, const Secrets& secrets)
{
    constexpr std::string_view kScheme = "Bearer ";
    const auto v = req.header("authorization");
    return v && v->substr(0, kScheme.size()) == kScheme
           && constant_time_equal(v->substr(kScheme.size()), secrets.header);
}

// azd's body: {"scopes": ["…"], "tenantId": "…"} (tenantId optional). One scope per token: the
// host CLI's token is for one resource, and azd's Azure SDK clients ask for one at a time.
std::variant<Route, Refusal>
route_azd(const HttpRequest& req, std::string_view query, const std::optional<std::string>& tenant)
{
    constexpr Protocol kAzd = Protocol::azd;
    const auto params = parse_query(query);
    if (!params || !params->contains("api-version") || params->at("api-version") != kAzdApiVersion)
    {
        return refuse(
            kAzd,
            400,
            "invalid_request",
            fmt::format(
                "azurelinux-bridge speaks api-version {} of azd's external authentication; this "
                "azd asked for another",
                kAzdApiVersion));
    }
    const auto body = json::parse(req.body, nullptr, false);
    const auto scopes = body.is_object() ? body.find("scopes") : body.end();
    if (!body.is_object() || scopes == body.end() || !scopes->is_array() || scopes->empty()
        || !std::all_of(
            scopes->begin(), scopes->end(), [](const json& s) { return s.is_string(); }))
    {
        return refuse(
            kAzd, 400, "invalid_request", "the body must be JSON with a non-empty 'scopes' list");
    }
    if (scopes->size() > 1)
    {
        return refuse(
            kAzd,
            400,
            "invalid_request",
            fmt::format(
                "azurelinux-bridge issues a token for one scope at a time, and {} were asked for "
                "at once ({}); ask for each resource's scope separately",
                scopes->size(),
                scopes->dump()));
    }
    TokenRequest request{scopes->front().get<std::string>(), TargetKind::scope, tenant};
    if (const auto t = body.find("tenantId"); t != body.end() && !t->is_null())
    {
        if (!t->is_string())
        {
            return refuse(kAzd, 400, "invalid_request", "'tenantId' must be a string");
        }
        if (!t->get_ref<const std::string&>().empty())
        {
            request.tenant = t->get<std::string>();
        }
    }
    if (!is_safe_cli_argument(request.target)
        || (request.tenant && !is_safe_cli_argument(*request.tenant)))
    {
        return refuse(kAzd, 400, "invalid_request", "malformed scope or tenantId");
    }
    return Route{kAzd, std::move(request)};
}

// User-assigned identities cannot exist here: the bridge has only the host's signed-in account.
std::optional<Refusal>
refuse_user_assigned(Protocol protocol, const std::map<std::string, std::string>& q)
{
    for (const char* name :
         {"client_id", "clientid", "object_id", "principal_id", "mi_res_id", "msi_res_id"})
    {
        if (q.contains(name))
        {
            return refuse(
                protocol,
                400,
                "invalid_request",
                fmt::format(
                    "azurelinux-bridge serves the Windows Azure CLI's signed-in account; a "
                    "user-assigned "
                    "identity ({}) is not available",
                    name));
        }
    }
    return std::nullopt;
}

std::variant<Route, Refusal> target_from(
    Protocol protocol,
    const std::map<std::string, std::string>& params,
    const std::optional<std::string>& tenant)
{
    if (auto refusal = refuse_user_assigned(protocol, params))
    {
        return *refusal;
    }
    const auto resource = params.find("resource");
    if (resource == params.end() || resource->second.empty())
    {
        return refuse(
            protocol, 400, "invalid_request", "the required parameter 'resource' is missing");
    }
    if (!is_safe_cli_argument(resource->second))
    {
        return refuse(
            protocol,
            400,
            "invalid_request",
            "the parameter 'resource' is not a valid resource URI");
    }
    return Route{protocol, TokenRequest{resource->second, TargetKind::resource, tenant}};
}

std::variant<Route, Refusal> route_bridge_token(const std::map<std::string, std::string>& q)
{
    const auto resource = q.find("resource");
    const auto scope = q.find("scope");
    const auto tenant = q.find("tenant");
    if ((resource == q.end()) == (scope == q.end()))
    {
        return refuse(
            Protocol::bridge_token,
            400,
            "invalid_request",
            "exactly one of 'resource' and 'scope' is required");
    }
    TokenRequest request;
    request.kind = resource != q.end() ? TargetKind::resource : TargetKind::scope;
    request.target = resource != q.end() ? resource->second : scope->second;
    if (tenant != q.end())
    {
        request.tenant = tenant->second;
    }
    if (request.target.empty() || !is_safe_cli_argument(request.target)
        || (request.tenant && (request.tenant->empty() || !is_safe_cli_argument(*request.tenant))))
    {
        return refuse(
            Protocol::bridge_token, 400, "invalid_request", "malformed resource, scope or tenant");
    }
    return Route{Protocol::bridge_token, request};
}

std::variant<Route, Refusal> route_protocol(
    Protocol protocol,
    const HttpRequest& req,
    std::string_view query,
    const Secrets& secrets,
    const std::optional<std::string>& tenant)
{
    const bool post = protocol == Protocol::cloud_shell || protocol == Protocol::azd;
    if (req.method != (post ? "POST" : "GET"))
    {
        return refuse(
            protocol,
            405,
            "invalid_request",
            fmt::format("use {} for this endpoint", post ? "POST" : "GET"));
    }
    if (protocol == Protocol::azd)
    {
        if (!azd_key_ok(req, secrets))
        {
            return refuse(
                protocol,
                401,
                "invalid_request",
                "the Authorization header (AZD_AUTH_KEY) is wrong");
        }
        return route_azd(req, query, tenant);
    }
    const bool ours = protocol == Protocol::app_service || protocol == Protocol::bridge_token
                      || protocol == Protocol::bridge_status;
    if (ours ? !identity_header_ok(req, secrets) : !metadata_true(req))
    {
        return refuse(
            protocol,
            401,
            "unauthorized",
            ours ? "the X-IDENTITY-HEADER header is missing or wrong"
                 : "the header 'Metadata: true' is required");
    }
    auto params = parse_query(query);
    if (!params)
    {
        return refuse(protocol, 400, "invalid_request", "malformed query string");
    }
    switch (protocol)
    {
    case Protocol::app_service:
    {
        const auto v = params->find("api-version");
        if (v == params->end() || v->second != "2019-08-01")
        {
            return refuse(protocol, 400, "invalid_request", "api-version 2019-08-01 is required");
        }
        return target_from(protocol, *params, tenant);
    }
    case Protocol::imds:
        if (params->count("api-version") == 0)
        {
            return refuse(
                protocol,
                400,
                "invalid_request",
                "the required parameter 'api-version' is missing");
        }
        return target_from(protocol, *params, tenant);
    case Protocol::cloud_shell:
    {
        auto form = parse_query(req.body);
        if (!form)
        {
            return refuse(protocol, 400, "invalid_request", "malformed form body");
        }
        return target_from(protocol, *form, tenant);
    }
    case Protocol::bridge_token:
        return route_bridge_token(*params);
    case Protocol::bridge_status:
        return Route{protocol, {}};
    case Protocol::azd: // answered above
        break;
    }
    return refuse(protocol, 404, "not_found", "no such endpoint");
}

} // namespace

bool constant_time_equal(std::string_view a, std::string_view b)
{
    if (a.size() != b.size() || a.empty())
    {
        return false;
    }
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::variant<Route, Refusal> route_request(
    const HttpRequest& req, const Secrets& secrets, const std::optional<std::string>& tenant)
{
    const std::string_view target(req.target);
    const auto qmark = target.find('?');
    const auto path = target.substr(0, qmark);
    const auto query =
        qmark == std::string_view::npos ? std::string_view() : target.substr(qmark + 1);
    const std::size_t n = secrets.prefix.size();
    if (path.size() < n + 2 || path[0] != '/' || path[n + 1] != '/'
        || !constant_time_equal(path.substr(1, n), secrets.prefix))
    {
        return refuse(
            Protocol::imds,
            403,
            "forbidden",
            "unknown endpoint: run `eval \"$(azurelinux-bridge env)\"` for the current one");
    }
    const auto rest = path.substr(n + 1);
    const std::array<std::pair<std::string_view, Protocol>, 6> table = {{
        {kAppServicePath, Protocol::app_service},
        {kCloudShellPath, Protocol::cloud_shell},
        {kImdsPath, Protocol::imds},
        {kAzdPath, Protocol::azd},
        {kBridgeTokenPath, Protocol::bridge_token},
        {kBridgeStatusPath, Protocol::bridge_status},
    }};
    for (const auto& [suffix, protocol] : table)
    {
        if (rest == suffix)
        {
            return route_protocol(protocol, req, query, secrets, tenant);
        }
    }
    return refuse(Protocol::imds, 404, "not_found", "no such endpoint");
}

std::string render_token(
    Protocol protocol,
    const AccessToken& token,
    const TokenRequest& request,
    std::chrono::system_clock::time_point now)
{
    const std::int64_t now_s = unix_seconds(now);
    const std::int64_t expires_in = std::max<std::int64_t>(0, token.expires_on - now_s);
    json j;
    switch (protocol)
    {
    case Protocol::app_service:
        j = {
            {"access_token", token.access_token},
            {"expires_on", std::to_string(token.expires_on)},
            {"resource", request.target},
            {"token_type", token.token_type},
            {"client_id", kAzureCliClientId}};
        break;
    case Protocol::cloud_shell:
    case Protocol::imds:
        j = {
            {"access_token", token.access_token},
            {"client_id", kAzureCliClientId},
            {"expires_in", std::to_string(expires_in)},
            {"expires_on", std::to_string(token.expires_on)},
            {"ext_expires_in", std::to_string(expires_in)},
            {"not_before", std::to_string(now_s)},
            {"resource", request.target},
            {"token_type", token.token_type}};
        break;
    case Protocol::azd:
    {
        // azd decodes expiresOn into a Go time.Time: RFC 3339, here in UTC.
        const auto t = static_cast<std::time_t>(token.expires_on);
        std::tm utc{};
        ::gmtime_r(&t, &utc);
        j = {
            {"status", "success"},
            {"token", token.access_token},
            {"expiresOn", fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", utc)}};
        break;
    }
    case Protocol::bridge_token:
    case Protocol::bridge_status:
    {
        const auto t = static_cast<std::time_t>(token.expires_on);
        std::tm local{};
        ::localtime_r(&t, &local);
        j = {
            {"accessToken", token.access_token},
            {"expiresOn", fmt::format("{:%Y-%m-%d %H:%M:%S}.000000", local)},
            {"expires_on", token.expires_on},
            {"tokenType", token.token_type}};
        if (!token.subscription.empty())
        {
            j["subscription"] = token.subscription;
        }
        if (!token.tenant.empty())
        {
            j["tenant"] = token.tenant;
        }
        break;
    }
    }
    return j.dump();
}

std::string
error_body(Protocol protocol, int status, std::string_view code, std::string_view message)
{
    if (protocol == Protocol::azd)
    {
        // azd knows two codes: NotSignedInError (it then suggests signing in) and GetTokenError.
        return json{
            {"status", "error"},
            {"code", code == "not_signed_in" ? "NotSignedInError" : "GetTokenError"},
            {"message", message}}
            .dump();
    }
    if (protocol == Protocol::app_service)
    {
        // App Service's own error shape; MSAL and azure-identity show `message`.
        return json{{"statusCode", status}, {"message", message}, {"error", code}}.dump();
    }
    return json{{"error", code}, {"error_description", message}}.dump();
}

Refusal render_host_error(Protocol protocol, const CachedError& error)
{
    int status = 400;
    std::string_view code = "invalid_request";
    switch (error.kind)
    {
    case HostErrorKind::interaction_required:
        code = "interaction_required";
        break;
    case HostErrorKind::timeout:
    case HostErrorKind::failed:
    case HostErrorKind::bad_output:
        // 502: the host CLI (our upstream) failed. Not one of the codes SDKs retry on: the
        // failure is remembered for a few seconds anyway.
        status = 502;
        code = "bad_gateway";
        break;
    default:
        break;
    }
    if (protocol == Protocol::azd)
    {
        // azd reads the message only from a 200 reply; NotSignedInError lets it say so.
        status = 200;
        code = error.kind == HostErrorKind::not_signed_in ? "not_signed_in" : code;
    }
    return {status, error_body(protocol, status, code, "azurelinux-bridge: " + error.message)};
}

std::string render_cache_entries(const std::vector<CacheEntryInfo>& entries)
{
    json list = json::array();
    for (const auto& e : entries)
    {
        list.push_back({{"key", e.key}, {"expires_in", e.expires_in}});
    }
    return json{{"cache", list}}.dump();
}

} // namespace azl::integration
