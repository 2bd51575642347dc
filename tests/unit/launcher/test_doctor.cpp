// doctor, against the recording fake (the bridge's JSON in the contract's shape).
#include "fake_backend.hpp"

#include <azl/launcher/commands.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using azl::test::add_distro;
using azl::test::FakeBackend;
namespace L = azl::launcher;

namespace
{

std::string statuses(const std::vector<L::DoctorCheck>& checks)
{
    std::string out;
    for (const auto& c : checks)
    {
        out += c.id + "="
               + (c.status == L::CheckStatus::ok     ? "ok"
                  : c.status == L::CheckStatus::warn ? "warn"
                                                     : "fail")
               + " ";
    }
    return out;
}

constexpr const char* kSignedIn =
    R"({"host_cli": {"found": true, "path": "/mnt/c/az.exe", "signed_in": true,
  "user": "alice@contoso.com", "tenant": "t-1", "subscription": "s-1", "error": null},
  "server": {"running": true, "port": 40342, "pid": 12}, "cache": []})";

} // namespace

TEST_CASE("doctor reports each check with ok, warn or fail", "[doctor]")
{
    FakeBackend b;
    add_distro(b, 1000);
    b.distros["AzureLinux"].bridge_status = kSignedIn;
    const auto checks = L::doctor(b, "AzureLinux");
    CHECK(
        statuses(checks)
        == "engine=ok registered=ok setup=ok default-user=ok bridge=ok azure-cli=ok ");
    const std::string text = L::format_doctor(checks);
    CHECK_THAT(text, Catch::Contains("ok    fake 1.0\n"));
    CHECK_THAT(text, Catch::Contains("default user alice (uid 1000)"));
    CHECK_THAT(text, Catch::Contains("bridge running on port 40342 (pid 12)"));
    CHECK_THAT(
        text, Catch::Contains("signed in as alice@contoso.com (tenant t-1, subscription s-1)"));
    // The bridge runs as the default user (no explicit user).
    CHECK(b.calls_starting("launch AzureLinux user=- ").size() == 1);
    const auto j = nlohmann::json::parse(L::format_doctor_json(checks));
    CHECK(j.size() == 6);
    CHECK(j[0].at("status") == "ok");
    CHECK(j[0].at("hint").is_null());
}

TEST_CASE("doctor explains what is missing", "[doctor]")
{
    SECTION("no bridge in the guest: warn, and the CLI check is skipped")
    {
        FakeBackend b;
        add_distro(b, 0);
        b.distros["AzureLinux"].config.setup_pending = true;
        const auto checks = L::doctor(b, "AzureLinux");
        CHECK(
            statuses(checks)
            == "engine=ok registered=ok setup=warn default-user=warn bridge=warn azure-cli=warn ");
        CHECK_THAT(L::format_doctor(checks), Catch::Contains("the Azure bridge is not installed"));
    }
    SECTION("not installed: fail and stop")
    {
        FakeBackend b;
        const auto checks = L::doctor(b, "AzureLinux");
        CHECK(statuses(checks) == "engine=ok registered=fail ");
        CHECK_THAT(checks[1].hint, Catch::Contains("azurelinux install --name AzureLinux"));
    }
    SECTION("engine unusable: fail, guest checks skipped")
    {
        FakeBackend b;
        add_distro(b, 1000);
        b.engine_info.usable = false;
        b.engine_info.problem = "bubblewrap is not installed";
        const auto checks = L::doctor(b, "AzureLinux");
        CHECK(
            statuses(checks)
            == "engine=fail registered=ok setup=ok default-user=warn bridge=warn azure-cli=warn ");
        CHECK(b.calls_starting("launch").empty());
    }
    SECTION("a default uid without a user")
    {
        FakeBackend b;
        add_distro(b, 1234);
        CHECK(statuses(L::doctor(b, "AzureLinux")).find("default-user=fail") != std::string::npos);
    }
    SECTION("bridge stopped and host CLI signed out")
    {
        FakeBackend b;
        add_distro(b, 1000);
        auto status = nlohmann::json::parse(kSignedIn);
        status["server"]["running"] = false;
        status["host_cli"]["signed_in"] = false;
        status["host_cli"]["error"] = "Please run 'az login' to setup account.";
        b.distros["AzureLinux"].bridge_status = status.dump();
        const auto checks = L::doctor(b, "AzureLinux");
        CHECK(
            statuses(checks)
            == "engine=ok registered=ok setup=ok default-user=ok bridge=warn azure-cli=warn ");
        CHECK_THAT(checks.back().message, Catch::Contains("not signed in: Please run 'az login'"));
        CHECK_THAT(checks.back().hint, Catch::Contains("az login"));
    }
    SECTION("bridge output that is not the contract's JSON")
    {
        FakeBackend b;
        add_distro(b, 1000);
        b.distros["AzureLinux"].bridge_status = "{\"server\": {}}";
        const auto checks = L::doctor(b, "AzureLinux");
        CHECK(
            statuses(checks)
            == "engine=ok registered=ok setup=ok default-user=ok bridge=fail azure-cli=warn ");
    }
}

TEST_CASE("doctor names the failed first-run step the guest reports", "[doctor]")
{
    FakeBackend b;
    auto& d = add_distro(b, 1000);
    d.files["/etc/wsl-distribution.conf"] = std::string(azl::test::kDistributionConf);
    d.bridge_status = kSignedIn;
    d.oobe_status = R"({"state":"failed","step":"packages","reason":"step failed","log":"x"})";
    const auto checks = L::doctor(b, "AzureLinux");
    CHECK(
        statuses(checks)
        == "engine=ok registered=ok setup=ok first-run=fail default-user=ok bridge=ok "
           "azure-cli=ok ");
    CHECK_THAT(
        L::format_doctor(checks),
        Catch::Contains("first-run setup failed at step packages (step failed)"));
    CHECK_THAT(checks[3].hint, Catch::Contains("azurelinux setup --name AzureLinux"));
}

TEST_CASE("seal clears the guest, stops it and marks first-run setup pending", "[seal]")
{
    FakeBackend b;
    auto& d = add_distro(b, 1000);
    d.files["/etc/wsl-distribution.conf"] = std::string(azl::test::kDistributionConf);
    azl::test::FakeConsole console;
    const L::CommandEnv env{.console = console, .exe_dir = {}, .progress = azl::ProgressMode::off};
    L::seal(b, "AzureLinux", false, env);
    CHECK(d.sealed);
    CHECK(b.distros.at("AzureLinux").config.setup_pending);
    CHECK(b.calls_starting("terminate AzureLinux").size() == 1);

    FakeBackend none;
    add_distro(none, 1000); // no [oobe] command: nothing would run again
    CHECK_THROWS_WITH(
        L::seal(none, "AzureLinux", false, env), Catch::Contains("has no first-run setup"));
    CHECK_FALSE(none.distros.at("AzureLinux").config.setup_pending);
}

TEST_CASE("doctor shows the guest's TLS checks and hints as they came", "[doctor]")
{
    FakeBackend b;
    add_distro(b, 1000);
    b.distros["AzureLinux"].bridge_status = kSignedIn;
    b.distros["AzureLinux"].network_checks = R"json([
      {"id": "tls:repo.contoso.com:443", "status": "fail",
       "message": "TLS to repo.contoso.com:443 is intercepted by CN=Contoso Root CA; Windows trusts it, the guest does not (package repository)",
       "hint": "run `azurelinux sync`"},
      {"id": "tls:login.microsoftonline.com:443", "status": "warn", "message": "offline", "hint": null}])json";
    const auto checks = L::doctor(b, "AzureLinux");
    CHECK(
        statuses(checks)
        == "engine=ok registered=ok setup=ok default-user=ok bridge=ok azure-cli=ok "
           "tls:repo.contoso.com:443=fail tls:login.microsoftonline.com:443=warn ");
    CHECK_THAT(
        L::format_doctor(checks),
        Catch::Contains("fail  TLS to repo.contoso.com:443 is intercepted by CN=Contoso Root CA; "
                        "Windows trusts it, the guest does not (package repository)\n"
                        "      hint: run `azurelinux sync`\n"));
    // It runs as root, with the host's facts on stdin.
    CHECK(
        b.calls_starting(
             R"(launch AzureLinux user=root cwd=/ argv=[/bin/sh|-c|test -x "$1" || exit 127; exec "$1" --check-network)")
            .size()
        == 1);

    b.distros["AzureLinux"].network_checks = "not json";
    CHECK(statuses(L::doctor(b, "AzureLinux")).ends_with("network=warn "));
}

TEST_CASE(
    "doctor checks the ssh-agent relay and Git Credential Manager and says how to fix them",
    "[doctor]")
{
    FakeBackend b;
    add_distro(b, 1000);
    auto with = [&b](const char* relays)
    {
        auto status = nlohmann::json::parse(kSignedIn);
        status.update(nlohmann::json::parse(relays));
        b.distros["AzureLinux"].bridge_status = status.dump();
        return L::doctor(b, "AzureLinux");
    };
    auto checks = with(R"({"ssh_agent": {"enabled": true, "launcher": "/mnt/c/x/azurelinux.exe",
        "socket": "/run/user/1000/azurelinux-bridge/ssh-agent.sock", "running": true, "keys": 2,
        "error": null}, "gcm": {"enabled": true, "path": "/mnt/c/Program Files/Git/mingw64/bin/git-credential-manager.exe"}})");
    CHECK_THAT(statuses(checks), Catch::EndsWith("azure-cli=ok ssh-agent=ok gcm=ok "));
    auto text = L::format_doctor(checks);
    CHECK_THAT(text, Catch::Contains("the Windows ssh-agent is reachable and holds 2 key(s)"));
    CHECK_THAT(text, Catch::Contains("Git Credential Manager found at /mnt/c/Program Files/Git/"));

    checks = with(R"({"ssh_agent": {"enabled": true, "launcher": "/mnt/c/x/azurelinux.exe",
        "socket": "/s", "running": false, "keys": null, "error": "no answer from the agent in time"},
        "gcm": {"enabled": true, "path": null}})");
    CHECK_THAT(statuses(checks), Catch::EndsWith("ssh-agent=warn gcm=warn "));
    text = L::format_doctor(checks);
    CHECK_THAT(
        text,
        Catch::Contains("did not answer through the relay: no answer from the agent in time"));
    CHECK_THAT(text, Catch::Contains("Start-Service ssh-agent"));
    CHECK_THAT(text, Catch::Contains("winget install Git.Git"));

    checks = with(R"({"ssh_agent": {"enabled": true, "launcher": null, "socket": "/s",
        "running": false, "keys": null, "error": null}, "gcm": {"enabled": false, "path": null}})");
    CHECK_THAT(statuses(checks), Catch::EndsWith("ssh-agent=warn gcm=ok "));
    CHECK_THAT(L::format_doctor(checks), Catch::Contains("[relay] launcher"));

    checks = with(R"({"gpg_agent": {"enabled": true, "socket": "/run/user/1000/gnupg/S.gpg-agent",
        "socket_file": "/mnt/c/Users/jane/AppData/Local/gnupg/S.gpg-agent.extra", "running": true,
        "own_agent": false, "version": "2.4.5", "error": null}})");
    CHECK_THAT(statuses(checks), Catch::EndsWith("azure-cli=ok gpg-agent=ok "));
    CHECK_THAT(
        L::format_doctor(checks),
        Catch::Contains("the Windows GnuPG agent (GnuPG 2.4.5) answers through the relay from "
                        "/mnt/c/Users/jane/"));
    checks = with(R"({"gpg_agent": {"enabled": true, "socket": "/s", "socket_file": null,
        "running": false, "own_agent": false, "version": null, "error": null}})");
    CHECK_THAT(statuses(checks), Catch::EndsWith("gpg-agent=warn "));
    CHECK_THAT(L::format_doctor(checks), Catch::Contains("gpgconf --launch gpg-agent"));
    checks = with(R"({"gpg_agent": {"enabled": true, "socket": "/s", "socket_file": "/f",
        "running": false, "own_agent": false, "version": null,
        "error": "the relay closed the connection without an answer"}})");
    CHECK_THAT(statuses(checks), Catch::EndsWith("gpg-agent=warn "));
    CHECK_THAT(
        L::format_doctor(checks),
        Catch::Contains("did not answer through the relay: the relay closed the connection"));
    checks = with(R"({"gpg_agent": {"enabled": true, "socket": "/s", "socket_file": "/f",
        "running": false, "own_agent": true, "version": null, "error": null}})");
    CHECK_THAT(statuses(checks), Catch::EndsWith("gpg-agent=ok "));
    CHECK_THAT(L::format_doctor(checks), Catch::Contains("gpgconf --kill gpg-agent"));
    checks = with(R"({"gpg_agent": {"enabled": false, "socket": null, "socket_file": null,
        "running": false, "own_agent": false, "version": null, "error": null}})");
    CHECK_THAT(L::format_doctor(checks), Catch::Contains("[gpg-agent] enabled = false"));

    // A bridge without the relays (older image): no lines for them.
    b.distros["AzureLinux"].bridge_status = kSignedIn;
    CHECK_THAT(statuses(L::doctor(b, "AzureLinux")), Catch::EndsWith("azure-cli=ok "));
}
