#include <azl/integration/protocols.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace azl::integration;
using nlohmann::json;

namespace
{

const Secrets kSecrets{std::string(64, 'a'), std::string(64, 'b')};

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
    return "/" + kSecrets.prefix + std::string(rest);
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
            {{"x-identity-header", kSecrets.header}}),
        kSecrets,
        std::nullopt);
    REQUIRE(std::holds_alternative<Route>(ok));
    CHECK(std::get<Route>(ok).protocol == Protocol::app_service);
    CHECK(std::get<Route>(ok).token.target == "https://vault.azure.net");

    const auto wrong_header = route_request(
        req("GET",
            p("/msi/token?api-version=2019-08-01&resource=r"),
            {{"x-identity-header", std::string(64, 'c')}}),
        kSecrets,
        {});
    CHECK(status_of(wrong_header) == 401);
    CHECK(
        json::parse(std::get<Refusal>(wrong_header).body)["statusCode"]
        == 401); // App Service's error shape
    CHECK(
        status_of(route_request(
            req("GET", p("/msi/token?api-version=2019-08-01&resource=r")), kSecrets, {}))
        == 401);
    CHECK(
        status_of(route_request(
            req("POST",
                p("/msi/token?api-version=2019-08-01&resource=r"),
                {{"x-identity-header", kSecrets.header}}),
            kSecrets,
            {}))
        == 405);
    CHECK(
        status_of(route_request(
            req("GET",
                p("/msi/token?api-version=2017-09-01&resource=r"),
                {{"x-identity-header", kSecrets.header}}),
            kSecrets,
            {}))
        == 400);
    CHECK(
        status_of(route_request(
            req("GET",
                p("/msi/token?api-version=2019-08-01&resource=r&client_id=x"),
                {{"x-identity-header", kSecrets.header}}),
            kSecrets,
            {}))
        == 400);
    CHECK(
        status_of(route_request(
            req("GET",
                p("/msi/token?api-version=2019-08-01&resource=a%26b"),
                {{"x-identity-header", kSecrets.header}}),
            kSecrets,
            {}))
        == 400);
}

TEST_CASE("a wrong or missing path prefix is refused with 403 before anything else", "[protocols]")
{
    const std::string other =
        "/" + std::string(64, 'c') + "/msi/token?api-version=2019-08-01&resource=r";
    CHECK(
        status_of(route_request(
            req("GET", other, {{"x-identity-header", kSecrets.header}}), kSecrets, {}))
        == 403);
    CHECK(status_of(route_request(req("GET", "/msi/token"), kSecrets, {})) == 403);
    CHECK(status_of(route_request(req("GET", "/" + kSecrets.prefix), kSecrets, {})) == 403);
    CHECK(status_of(route_request(req("GET", p("/nothing")), kSecrets, {})) == 404);
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
        kSecrets,
        std::string("tenant-1"));
    REQUIRE(std::holds_alternative<Route>(cs));
    CHECK(std::get<Route>(cs).token.target == "https://management.azure.com/");
    CHECK(std::get<Route>(cs).token.tenant == "tenant-1");
    CHECK(
        status_of(
            route_request(req("POST", p("/cloudshell/token"), {}, "resource=r"), kSecrets, {}))
        == 401);
    CHECK(
        status_of(route_request(
            req("POST", p("/cloudshell/token"), {{"metadata", "true"}}, "resource=%zz"),
            kSecrets,
            {}))
        == 400);

    CHECK(
        status_of(route_request(
            req("GET",
                p("/metadata/identity/oauth2/token?api-version=2018-02-01&resource=r"),
                {{"metadata", "True"}}),
            kSecrets,
            {}))
        == 200);
    CHECK(
        status_of(route_request(
            req("GET", p("/metadata/identity/oauth2/token?resource=r"), {{"metadata", "true"}}),
            kSecrets,
            {}))
        == 400);
    const auto no_meta = route_request(
        req("GET", p("/metadata/identity/oauth2/token?api-version=2018-02-01&resource=r")),
        kSecrets,
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
