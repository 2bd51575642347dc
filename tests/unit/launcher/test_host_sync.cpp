#include "fake_backend.hpp"

#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/common/scope_guard.hpp>
#include <azl/launcher/host_sync.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <array>
#include <cstdlib>
#include <filesystem>

using namespace azl::launcher;

TEST_CASE("DER becomes PEM: base64 in lines of 64, every padding length", "[launcher][sync]")
{
    CHECK(
        der_to_pem(std::array<unsigned char, 3>{'a', 'b', 'c'})
        == "-----BEGIN CERTIFICATE-----\nYWJj\n-----END CERTIFICATE-----\n");
    CHECK(der_to_pem(std::array<unsigned char, 2>{'a', 'b'}).find("\nYWI=\n") != std::string::npos);
    CHECK(der_to_pem(std::array<unsigned char, 1>{'a'}).find("\nYQ==\n") != std::string::npos);
    std::array<unsigned char, 96> long_der{};
    const auto pem = der_to_pem(long_der);
    CHECK(
        pem
        == "-----BEGIN CERTIFICATE-----\n" + std::string(64, 'A') + "\n" + std::string(64, 'A')
               + "\n-----END CERTIFICATE-----\n");
}

TEST_CASE("Windows Internet Settings as a proxy", "[launcher][sync]")
{
    SECTION("one server for every scheme; the override list as no_proxy without <local>")
    {
        const auto p = proxy_from_internet_settings(
            {.proxy_enable = true,
             .proxy_server = "proxy.contoso.com:8080",
             .proxy_override = "*.contoso.com;10.*;<local>",
             .auto_config_url = ""});
        REQUIRE(p);
        CHECK(p->http == "http://proxy.contoso.com:8080");
        CHECK(p->https == "http://proxy.contoso.com:8080");
        CHECK(p->no_proxy == std::vector<std::string>{"*.contoso.com", "10.*"});
        CHECK(p->source == "Windows Internet Settings");
    }
    SECTION("per-scheme servers")
    {
        const auto p = proxy_from_internet_settings(
            {.proxy_enable = true,
             .proxy_server = "http=web:80;https=secure:8443;socks=s:1080",
             .proxy_override = "",
             .auto_config_url = ""});
        REQUIRE(p);
        CHECK(p->http == "http://web:80");
        CHECK(p->https == "http://secure:8443");
    }
    SECTION("disabled, or nothing set: no proxy; a PAC URL alone is kept")
    {
        CHECK_FALSE(proxy_from_internet_settings(
            {.proxy_enable = false,
             .proxy_server = "p:1",
             .proxy_override = "",
             .auto_config_url = ""}));
        CHECK_FALSE(proxy_from_internet_settings({}));
        const auto pac = proxy_from_internet_settings(
            {.proxy_enable = false,
             .proxy_server = "",
             .proxy_override = "",
             .auto_config_url = "http://wpad.contoso.com/proxy.pac"});
        REQUIRE(pac);
        CHECK(pac->http.empty());
        CHECK(pac->pac_url == "http://wpad.contoso.com/proxy.pac");
    }
}

TEST_CASE(
    "the guest request: certificates, the proxy, and a loopback proxy in NAT mode",
    "[launcher][sync]")
{
    HostFacts facts;
    facts.certificates_known = true;
    facts.certificates.push_back({"LocalMachine\\Root", "PEM"});
    facts.proxy = HostProxy{
        .source = "Windows Internet Settings",
        .http = "http://127.0.0.1:3128",
        .https = "http://127.0.0.1:3128",
        .no_proxy = {".corp"},
        .pac_url = ""};
    facts.loopback_reachable = true;
    auto doc = nlohmann::json::parse(host_sync_request(facts));
    CHECK(doc["version"] == 1);
    CHECK(doc["certificates"][0]["store"] == "LocalMachine\\Root");
    CHECK(doc["proxy"]["https"] == "http://127.0.0.1:3128");
    CHECK_FALSE(doc["proxy"].contains("problem"));

    facts.loopback_reachable = false; // WSL's NAT mode
    doc = nlohmann::json::parse(host_sync_request(facts));
    CHECK_FALSE(doc["proxy"].contains("https"));
    CHECK(
        doc["proxy"]["problem"].get<std::string>().find(
            "listens on Windows' loopback, which the guest cannot reach in WSL's NAT networking "
            "mode")
        != std::string::npos);

    facts.certificates_known = false;
    CHECK(nlohmann::json::parse(host_sync_request(facts))["certificates"].is_null());
}

TEST_CASE("a guest report in words", "[launcher][sync]")
{
    const auto lines = summarize_sync_report(R"({
      "certificates": {"enabled": true, "changed": true,
        "trusted": [{"store": "LocalMachine\\Root", "subject": "CN=Contoso Root CA", "sha256": "a"}],
        "skipped": [{"store": "LocalMachine\\Root", "subject": "CN=Public", "sha256": "b", "reason": "already trusted by the guest"},
                    {"store": "CurrentUser\\CA", "subject": "CN=Old", "sha256": "c", "reason": "expired"}]},
      "proxy": {"enabled": true, "source": "Windows Internet Settings", "proxy": "http://p:8080",
                "changed": ["/etc/environment"]}})");
    REQUIRE(lines.size() == 4);
    CHECK(
        lines[0]
        == "certificates: 1 trusted from the host (CN=Contoso Root CA), 1 already trusted, trust "
           "store rebuilt");
    CHECK(lines[1] == "  skipped: CN=Old (expired, from CurrentUser\\CA)");
    CHECK(lines[2] == "proxy: http://p:8080 (from Windows Internet Settings)");
    CHECK(lines[3] == "  written: /etc/environment");
    CHECK_THROWS_AS(summarize_sync_report("{}"), azl::UserError);
}

TEST_CASE(
    "sync: as root with the request on stdin, and at launch only when the host changed",
    "[launcher][sync]")
{
    const azl::TempDir tmp("azl-sync");
    const auto store = tmp.path() / "store";
    std::filesystem::create_directories(store);
    // The sandbox's stand-ins for Windows, and where the last request is kept, in this test's
    // folder.
    ::setenv("XDG_DATA_HOME", (tmp.path() / "data").c_str(), 1);
    ::setenv("AZL_SANDBOX_TRUSTED_CERTS", store.c_str(), 1);
    for (const char* v :
         {"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "no_proxy", "NO_PROXY"})
    {
        ::unsetenv(v);
    }
    const azl::ScopeGuard restore([] { ::unsetenv("AZL_SANDBOX_TRUSTED_CERTS"); });
    azl::test::FakeBackend b;
    auto& d = azl::test::add_distro(b, 1000);

    CHECK_FALSE(sync_host(b, "AzureLinux", SyncWhen::launch).ran); // nothing to carry, ever
    CHECK_FALSE(sync_host(b, "AzureLinux", SyncWhen::first_run).ran);
    CHECK(b.calls_starting("launch").empty());

    azl::write_file_atomic(
        store / "corp.pem", "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n");
    const auto first = sync_host(b, "AzureLinux", SyncWhen::launch);
    CHECK(first.ran);
    REQUIRE(d.sync_requests.size() == 1);
    CHECK(d.sync_requests[0].find("\"store\":\"sandbox:corp.pem\"") != std::string::npos);
    CHECK(b.calls_starting("launch AzureLinux user=root cwd=/ argv=[/bin/sh|-c|").size() == 1);

    CHECK_FALSE(sync_host(b, "AzureLinux", SyncWhen::launch).ran); // unchanged: no launch at all
    CHECK(d.sync_requests.size() == 1);

    std::filesystem::remove(store / "corp.pem"); // removed in "Windows": carried at the next launch
    CHECK(sync_host(b, "AzureLinux", SyncWhen::launch).ran);
    CHECK(d.sync_requests.size() == 2);
    CHECK(sync_host(b, "AzureLinux", SyncWhen::on_demand).ran); // always
    CHECK(d.sync_requests.size() == 3);
    CHECK_THROWS_AS(sync_host(b, "Nope", SyncWhen::on_demand), azl::UserError);

    forget_host_sync("AzureLinux");
    CHECK_FALSE(sync_host(b, "AzureLinux", SyncWhen::launch).ran); // empty host, nothing sent
}
