#include <azl/common/fs.hpp>
#include <azl/integration/protocols.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>

using namespace azl::integration;
using nlohmann::json;

namespace
{

const Secrets kRouteSecrets{std::string(64, 'a'), std::string(64, 'b')};

HttpRequest
req(std::string method,
    std::string target,
    std::vector<std::pair<std::string, std::string>> headers = {},
    std::string body = {})
{
    HttpRequest r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.headers = std::move(headers);
    r.body = std::move(body);
    return r;
}

std::string p(std::string_view rest)
{
    return "/" + kRouteSecrets.prefix + std::string(rest);
}

int status_of(const std::variant<Route, Refusal>& v)
{
    return std::holds_alternative<Refusal>(v) ? std::get<Refusal>(v).status : 200;
}

} // namespace

TEST_CASE(
    "App Service requests need the prefix, GET, the identity header and api-version 2019-08-01",
    "[protocols]")
{
    const auto ok = route_request(
        req("GET",
            p("/msi/token?api-version=2019-08-01&resource=https://vault.azure.net"),
            {{"x-identity-header", kRouteSecrets.header}}),
        kRouteSecrets,
        std::nullopt);
    REQUIRE(std::holds_alternative<Route>(ok));
    CHECK(std::get<Route>(ok).protocol == Protocol::app_service);
    CHECK(std::get<Route>(ok).token.target == "https://vault.azure.net");

    const auto wrong_header = route_request(
        req("GET",
            p("/msi/token?api-version=2019-08-01&resource=r"),
            {{"x-identity-header", std::string(64, 'c')}}),
        kRouteSecrets,
        {});
    CHECK(status_of(wrong_header) == 401);
    CHECK(
        json::parse(std::get<Refusal>(wrong_header).body)["statusCode"]
        == 401); // App Service's error shape
    CHECK(
        status_of(route_request(
            req("GET", p("/msi/token?api-version=2019-08-01&resource=r")), kRouteSecrets, {}))
        == 401);
    CHECK(
        status_of(route_request(
            req("POST",
                p("/msi/token?api-version=2019-08-01&resource=r"),
                {{"x-identity-header", kRouteSecrets.header}}),
            kRouteSecrets,
            {}))
        == 405);
    CHECK(
        status_of(route_request(
            req("GET",
                p("/msi/token?api-version=2017-09-01&resource=r"),
                {{"x-identity-header", kRouteSecrets.header}}),
            kRouteSecrets,
            {}))
        == 400);
    CHECK(
        status_of(route_request(
            req("GET",
                p("/msi/token?api-version=2019-08-01&resource=r&client_id=x"),
                {{"x-identity-header", kRouteSecrets.header}}),
            kRouteSecrets,
            {}))
        == 400);
    CHECK(
        status_of(route_request(
            req("GET",
                p("/msi/token?api-version=2019-08-01&resource=a%26b"),
                {{"x-identity-header", kRouteSecrets.header}}),
            kRouteSecrets,
            {}))
        == 400);
}

TEST_CASE("a wrong or missing path prefix is refused with 403 before anything else", "[protocols]")
{
    const std::string other =
        "/" + std::string(64, 'c') + "/msi/token?api-version=2019-08-01&resource=r";
    CHECK(
        status_of(route_request(
            req("GET", other, {{"x-identity-header", kRouteSecrets.header}}), kRouteSecrets, {}))
        == 403);
    CHECK(status_of(route_request(req("GET", "/msi/token"), kRouteSecrets, {})) == 403);
    CHECK(
        status_of(route_request(req("GET", "/" + kRouteSecrets.prefix), kRouteSecrets, {})) == 403);
    CHECK(status_of(route_request(req("GET", p("/nothing")), kRouteSecrets, {})) == 404);
}

TEST_CASE(
    "Cloud Shell takes a POSTed form with Metadata: true, IMDS a GET with api-version",
    "[protocols]")
{
    const auto cs = route_request(
        req("POST",
            p("/cloudshell/token"),
            {{"metadata", "true"}},
            "resource=https%3A%2F%2Fmanagement.azure.com%2F"),
        kRouteSecrets,
        std::string("tenant-1"));
    REQUIRE(std::holds_alternative<Route>(cs));
    CHECK(std::get<Route>(cs).token.target == "https://management.azure.com/");
    CHECK(std::get<Route>(cs).token.tenant == "tenant-1");
    CHECK(
        status_of(
            route_request(req("POST", p("/cloudshell/token"), {}, "resource=r"), kRouteSecrets, {}))
        == 401);
    CHECK(
        status_of(route_request(
            req("POST", p("/cloudshell/token"), {{"metadata", "true"}}, "resource=%zz"),
            kRouteSecrets,
            {}))
        == 400);

    CHECK(
        status_of(route_request(
            req("GET",
                p("/metadata/identity/oauth2/token?api-version=2018-02-01&resource=r"),
                {{"metadata", "True"}}),
            kRouteSecrets,
            {}))
        == 200);
    CHECK(
        status_of(route_request(
            req("GET", p("/metadata/identity/oauth2/token?resource=r"), {{"metadata", "true"}}),
            kRouteSecrets,
            {}))
        == 400);
    const auto no_meta = route_request(
        req("GET", p("/metadata/identity/oauth2/token?api-version=2018-02-01&resource=r")),
        kRouteSecrets,
        {});
    CHECK(status_of(no_meta) == 401);
    CHECK(json::parse(std::get<Refusal>(no_meta).body)
              .contains("error_description")); // IMDS's error shape
}

TEST_CASE("replies have each protocol's fields, errors each protocol's shape", "[protocols]")
{
    AccessToken t;
    t.access_token = "tok";
    t.expires_on = 2'000'000'000;
    const TokenRequest r{"https://vault.azure.net", TargetKind::resource, std::nullopt};
    const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'999'996'400));
    const auto app = json::parse(render_token(Protocol::app_service, t, r, now));
    CHECK(app["access_token"] == "tok");
    CHECK(app["expires_on"] == "2000000000");
    CHECK(app["resource"] == "https://vault.azure.net");
    CHECK(app["token_type"] == "Bearer");
    CHECK(app["client_id"] == std::string(kAzureCliClientId));
    const auto imds = json::parse(render_token(Protocol::imds, t, r, now));
    CHECK(imds["expires_in"] == "3600");
    CHECK(imds["not_before"] == "1999996400");
    const auto az = json::parse(render_token(Protocol::bridge_token, t, r, now));
    CHECK(az["accessToken"] == "tok");
    CHECK(az["expires_on"] == 2'000'000'000);
    CHECK(az["tokenType"] == "Bearer");

    const auto signed_out = render_host_error(
        Protocol::app_service, {HostErrorKind::not_signed_in, "run `az login` in Windows"});
    CHECK(signed_out.status == 400);
    CHECK(
        json::parse(signed_out.body)["message"] == "azurelinux-bridge: run `az login` in Windows");
    const auto timeout = render_host_error(Protocol::imds, {HostErrorKind::timeout, "slow"});
    CHECK(timeout.status == 502);
    CHECK(json::parse(timeout.body)["error_description"] == "azurelinux-bridge: slow");
}

TEST_CASE("secrets compare in constant time and only when equal in length", "[protocols]")
{
    CHECK(constant_time_equal("abc", "abc"));
    CHECK_FALSE(constant_time_equal("abc", "abd"));
    CHECK_FALSE(constant_time_equal("abc", "abcd"));
    CHECK_FALSE(constant_time_equal("", ""));
}

namespace
{

std::string fixture(const std::string& name)
{
    return azl::read_file(std::filesystem::path(AZL_FIXTURES_DIR) / "azd-auth" / name, 1U << 16U);
}

std::string replaced(std::string text, const std::string& from, const std::string& to)
{
    const auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
}

// The request azd writes (tests/fixtures/azd-auth/request.http) with `body` and `key`, parsed.
HttpRequest azd_request(const std::string& body, const std::string& key = kRouteSecrets.header)
{
    std::string raw = fixture("request.http");
    raw = replaced(raw, "{PREFIX}", kRouteSecrets.prefix);
    raw = replaced(raw, "{PORT}", "40123");
    raw = replaced(raw, "{LENGTH}", std::to_string(body.size()));
    raw = replaced(raw, "{KEY}", key);
    raw = replaced(raw, "{BODY}", body);
    const auto parsed = parse_request(raw, HttpLimits{});
    REQUIRE(parsed.status == ParseStatus::complete);
    return parsed.request;
}

json azd_reply(const Refusal& r)
{
    CHECK(r.status == 200); // azd reads a body only from a 200 reply
    return json::parse(r.body);
}

} // namespace

TEST_CASE("azd's token request, as azd writes it, asks the host for its one scope", "[protocols]")
{
    const auto routed = route_request(
        azd_request(fixture("body-default-tenant.json")), kRouteSecrets, std::nullopt);
    REQUIRE(std::holds_alternative<Route>(routed));
    const auto& route = std::get<Route>(routed);
    CHECK(route.protocol == Protocol::azd);
    CHECK(route.token.kind == TargetKind::scope);
    CHECK(route.token.target == "https://management.azure.com//.default");
    CHECK_FALSE(route.token.tenant);

    // The configured tenant holds unless azd names another (GetTokenOptions.TenantID).
    const auto configured = route_request(
        azd_request(fixture("body-default-tenant.json")),
        kRouteSecrets,
        std::string("contoso.com"));
    CHECK(std::get<Route>(configured).token.tenant == "contoso.com");
    const auto other = route_request(
        azd_request(fixture("body-tenant.json")), kRouteSecrets, std::string("contoso.com"));
    CHECK(std::get<Route>(other).token.tenant == "fabrikam.onmicrosoft.com");
}

TEST_CASE("azd's success reply has its fields, expiresOn in RFC 3339 UTC", "[protocols]")
{
    AccessToken t;
    t.access_token = "eyJ0eXAi.tok";
    t.expires_on = 2'000'000'000;
    const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'999'996'400));
    const TokenRequest r{"https://management.azure.com//.default", TargetKind::scope, {}};
    const auto reply = json::parse(render_token(Protocol::azd, t, r, now));
    const auto expected =
        json::parse(replaced(fixture("reply-success.json"), "{TOKEN}", "eyJ0eXAi.tok"));
    CHECK(reply == expected);
}

TEST_CASE("azd hears of a host failure with status 200 and the code it knows", "[protocols]")
{
    const auto signed_out = azd_reply(render_host_error(
        Protocol::azd, {HostErrorKind::not_signed_in, "run `az login` in Windows"}));
    CHECK(
        signed_out
        == json::parse(replaced(
            fixture("reply-not-signed-in.json"),
            "{MESSAGE}",
            "azurelinux-bridge: run `az login` in Windows")));
    for (const auto kind :
         {HostErrorKind::interaction_required,
          HostErrorKind::tenant_mismatch,
          HostErrorKind::timeout,
          HostErrorKind::failed})
    {
        const auto reply = azd_reply(render_host_error(Protocol::azd, {kind, "why"}));
        CHECK(
            reply
            == json::parse(replaced(
                fixture("reply-get-token-error.json"), "{MESSAGE}", "azurelinux-bridge: why")));
    }
}

TEST_CASE(
    "azd requests without the key, or that cannot be served, are refused the way azd shows",
    "[protocols]")
{
    const std::string body = fixture("body-default-tenant.json");
    CHECK(
        status_of(route_request(azd_request(body, std::string(64, 'c')), kRouteSecrets, {}))
        == 401);
    CHECK(status_of(route_request(azd_request(body, "x"), kRouteSecrets, {})) == 401);
    auto no_auth = azd_request(body);
    std::erase_if(no_auth.headers, [](const auto& h) { return h.first == "authorization"; });
    CHECK(status_of(route_request(no_auth, kRouteSecrets, {})) == 401);
    auto get = azd_request(body);
    get.method = "GET";
    CHECK(status_of(route_request(get, kRouteSecrets, {})) == 405);

    // Answered with 200 and GetTokenError, so that azd prints why.
    const auto refused = [&](const HttpRequest& req)
    {
        const auto v = route_request(req, kRouteSecrets, {});
        REQUIRE(std::holds_alternative<Refusal>(v));
        const auto reply = azd_reply(std::get<Refusal>(v));
        CHECK(reply["status"] == "error");
        CHECK(reply["code"] == "GetTokenError");
        return reply["message"].get<std::string>();
    };
    const auto two = refused(azd_request(
        R"({"scopes":["https://management.azure.com//.default","https://graph.microsoft.com//.default"]})"));
    CHECK(two.find("one scope at a time") != std::string::npos);
    CHECK(refused(azd_request(R"({"scopes":[]})")).find("'scopes'") != std::string::npos);
    CHECK(refused(azd_request(R"({"scopes":"x"})")).find("'scopes'") != std::string::npos);
    CHECK(refused(azd_request("not json")).find("'scopes'") != std::string::npos);
    CHECK(refused(azd_request(R"({"scopes":["a b"]})")).find("malformed") != std::string::npos);
    CHECK(
        refused(azd_request(R"({"scopes":["s"],"tenantId":"a&b"})")).find("malformed")
        != std::string::npos);
    auto newer = azd_request(body);
    newer.target = replaced(newer.target, "2023-07-12-preview", "2099-01-01");
    CHECK(refused(newer).find("2023-07-12-preview") != std::string::npos);
}

TEST_CASE(
    "Terraform's request (go-azure-sdk) gets the ARM token, with expires_in as digits it parses",
    "[protocols]")
{
    std::string raw = azl::read_file(
        std::filesystem::path(AZL_FIXTURES_DIR) / "terraform-msi" / "request.http", 1U << 16U);
    raw = replaced(raw, "{PREFIX}", kRouteSecrets.prefix);
    raw = replaced(raw, "{PORT}", "40123");
    const auto parsed = parse_request(raw, HttpLimits{});
    REQUIRE(parsed.status == ParseStatus::complete);
    const auto routed = route_request(parsed.request, kRouteSecrets, std::nullopt);
    REQUIRE(std::holds_alternative<Route>(routed));
    const auto& route = std::get<Route>(routed);
    CHECK(route.protocol == Protocol::imds);
    CHECK(route.token.target == "https://management.azure.com/");
    CHECK(route.token.kind == TargetKind::resource);

    AccessToken t;
    t.access_token = "tok";
    t.expires_on = 2'000'000'000;
    const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'999'996'400));
    const auto reply = json::parse(render_token(Protocol::imds, t, route.token, now));
    CHECK(reply["access_token"] == "tok");
    CHECK(reply["token_type"] == "Bearer");
    // strconv.Atoi: only digits (no sign, no fraction).
    REQUIRE(reply["expires_in"].is_string());
    CHECK(reply["expires_in"] == "3600");
}
