#include <azl/common/fs.hpp>
#include <azl/integration/host_cli.hpp>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <sys/stat.h>

#include <cstdlib>
#include <ctime>
#include <fstream>

using namespace azl::integration;
namespace fs = std::filesystem;

namespace
{

void make_script(const fs::path& p, unsigned mode = 0755)
{
    fs::create_directories(p.parent_path());
    std::ofstream(p) << "#!/bin/sh\n";
    ::chmod(p.c_str(), mode);
}

// The fake host az with its own state directory.
struct FakeAz
{
    azl::TempDir state{"azl-fakeaz"};

    FakeAz()
    {
        ::setenv("FAKE_AZ_STATE", state.path().c_str(), 1);
    }

    void set(const std::string& name, const std::string& value) const
    {
        azl::write_file_atomic(state.path() / name, value);
    }

    // A HostCli on the fake az, which finds its state through FAKE_AZ_STATE (set above).
    [[nodiscard]] static HostCli cli(std::chrono::milliseconds timeout = std::chrono::seconds(20))
    {
        return {host_command_for(AZL_FAKE_AZ), timeout};
    }
};

} // namespace

TEST_CASE("az's token output parses in both shapes, with CRLF line ends", "[host]")
{
    const auto t = parse_token_output(
        "{\r\n  \"accessToken\": \"eyJ0\",\r\n  \"expiresOn\": \"2023-10-31 21:59:10.000000\",\r\n"
        "  \"expires_on\": 1698787150,\r\n  \"subscription\": \"sub\",\r\n  \"tenant\": "
        "\"ten\",\r\n"
        "  \"tokenType\": \"Bearer\"\r\n}\r\n");
    CHECK(t.access_token == "eyJ0");
    CHECK(t.expires_on == 1698787150);
    CHECK(t.subscription == "sub");
    CHECK(t.tenant == "ten");

    std::tm tm{};
    tm.tm_year = 2023 - 1900;
    tm.tm_mon = 9;
    tm.tm_mday = 31;
    tm.tm_hour = 21;
    tm.tm_min = 59;
    tm.tm_sec = 10;
    tm.tm_isdst = -1;
    const auto old = parse_token_output("{\r\n  \"accessToken\": \"x\",\r\n  \"expiresOn\": "
                                        "\"2023-10-31 21:59:10.000000\"\r\n}\r\n");
    CHECK(
        old.expires_on
        == static_cast<std::int64_t>(std::mktime(&tm))); // local time, as az printed it

    CHECK_THROWS_AS(parse_token_output("not json"), HostError);
    CHECK_THROWS_AS(parse_token_output("{\"accessToken\": \"x\"}"), HostError);
    CHECK_THROWS_AS(
        parse_token_output("{\"accessToken\": \"x\", \"expiresOn\": \"tomorrow\"}"), HostError);
    CHECK_THROWS_AS(parse_token_output("{\"expires_on\": 1}"), HostError);

    // Numbers JSON carries but no clock reaches are bad output, not undefined behaviour (found by
    // fuzz_host_cli: a float this large overflowed the conversion to 64 bits).
    for (const char* expiry : {"1e300", "-1e300", "9223372036854775808", "18446744073709551615"})
    {
        CHECK_THROWS_WITH(
            parse_token_output(
                std::string("{\"accessToken\": \"x\", \"expires_on\": ") + expiry + "}"),
            Catch::Contains("unreadable expires_on"));
    }
    CHECK(
        parse_token_output("{\"accessToken\": \"x\", \"expires_on\": 1797777777.5}").expires_on
        == 1797777777);
}

TEST_CASE("host failures map to errors that say what to do", "[host]")
{
    azl::ProcessResult r;
    r.exit_code = 1;
    r.err = "ERROR: Please run 'az login' to setup account.\r\n";
    const auto signed_out = classify_failure(r, {});
    CHECK(signed_out.kind() == HostErrorKind::not_signed_in);
    CHECK(std::string(signed_out.what()).find("run `az login` in Windows") != std::string::npos);

    r.err = "ERROR: AADSTS50076: Due to a configuration change ... multi-factor authentication "
            "...\r\nInteractive "
            "authentication is needed. Please run:\r\naz login --scope "
            "https://management.core.windows.net//.default\r\n";
    const auto mfa = classify_failure(r, {});
    CHECK(mfa.kind() == HostErrorKind::interaction_required);
    CHECK(
        std::string(mfa.what())
            .find("az login --scope https://management.core.windows.net//.default")
        != std::string::npos);
    CHECK(std::string(mfa.what()).find('\r') == std::string::npos);

    r.err = "ERROR: AADSTS90002: Tenant 'fabrikam.com' not found.\r\n";
    const auto tenant = classify_failure(
        r, {"https://vault.azure.net", TargetKind::resource, std::string("fabrikam.com")});
    CHECK(tenant.kind() == HostErrorKind::tenant_mismatch);
    CHECK(std::string(tenant.what()).find("az login --tenant fabrikam.com") != std::string::npos);

    r.err = "ERROR: something else broke\r\n";
    CHECK(classify_failure(r, {}).kind() == HostErrorKind::failed);
    r.timed_out = true;
    CHECK(classify_failure(r, {}).kind() == HostErrorKind::timeout);
}

TEST_CASE(
    "the host az is found in the Windows PATH entries, then the default install dir, never the "
    "guest's",
    "[host]")
{
    const azl::TempDir dir("azl-test");
    const fs::path mnt = dir.path() / "mnt";
    make_script(dir.path() / "usr/bin/az");
    const std::string guest_path = (dir.path() / "usr/bin").string();
    CHECK_FALSE(locate_host_az({std::nullopt, guest_path, mnt}));

    const fs::path def = mnt / "c/Program Files/Microsoft SDKs/Azure/CLI2/wbin/az.cmd";
    make_script(def, 0644);
    auto found = locate_host_az({std::nullopt, guest_path, mnt});
    REQUIRE(found);
    CHECK(found->path == def);
    CHECK(found->via_cmd); // no python.exe beside it: through cmd.exe, started in its directory
    CHECK(found->prefix == std::vector<std::string>{"cmd.exe", "/d", "/c", "az.cmd"});
    CHECK(found->cwd == def.parent_path());

    const fs::path on_path = mnt / "d/Tools/CLI2/wbin/az.cmd";
    make_script(on_path, 0644);
    make_script(mnt / "d/Tools/CLI2/python.exe");
    found = locate_host_az({std::nullopt, guest_path + ":" + on_path.parent_path().string(), mnt});
    REQUIRE(found);
    CHECK(found->path == on_path);
    CHECK_FALSE(found->via_cmd); // python.exe -IBm azure.cli: no cmd.exe at all
    CHECK(
        found->prefix
        == std::vector<std::string>{
            (mnt / "d/Tools/CLI2/python.exe").string(), "-IBm", "azure.cli"});

    const fs::path configured = dir.path() / "elsewhere/az";
    CHECK_FALSE(locate_host_az({configured, guest_path, mnt}));
    make_script(configured);
    CHECK(
        locate_host_az({configured, guest_path, mnt})->prefix
        == std::vector<std::string>{configured.string()});
}

TEST_CASE("only cmd-safe characters pass as CLI arguments", "[host]")
{
    CHECK(is_safe_cli_argument("https://management.azure.com/"));
    CHECK(is_safe_cli_argument("api://1d2c/.default"));
    CHECK(is_safe_cli_argument("72f988bf-86f1-41af-91ab-2d7cd011db47"));
    for (const char* bad : {"", "a b", "a&b", "a|b", "a^b", "a%PATH%", "a\"b", "a<b", "a>b", "(a)"})
    {
        CHECK_FALSE(is_safe_cli_argument(bad));
    }
}

TEST_CASE(
    "the fake host az answers like Azure CLI: tokens, signed out, MFA, tenant", "[host][process]")
{
    const FakeAz fake;
    const auto cli = FakeAz::cli();
    const auto t =
        cli.get_token({"https://management.azure.com/", TargetKind::resource, std::nullopt});
    CHECK(t.access_token.rfind("eyJ", 0) == 0);
    CHECK(t.expires_on > std::time(nullptr) + 3000);
    fake.set("shape", "old");
    const auto old =
        cli.get_token({"https://vault.azure.net/.default", TargetKind::scope, std::nullopt});
    CHECK(std::abs(old.expires_on - (std::time(nullptr) + 3600)) <= 2);

    fake.set("mode", "signed-out");
    CHECK_THROWS_WITH(
        cli.get_token({"r", TargetKind::resource, std::nullopt}),
        Catch::Contains("run `az login` in Windows"));
    fake.set("mode", "mfa");
    CHECK_THROWS_WITH(
        cli.get_token({"r", TargetKind::resource, std::nullopt}), Catch::Contains("AADSTS50076"));
    fake.set("mode", "signed-in");
    CHECK_THROWS_WITH(
        cli.get_token({"r", TargetKind::resource, std::string("fabrikam.com")}),
        Catch::Contains("az login --tenant fabrikam.com"));
    fake.set("delay", "5");
    try
    {
        (void)FakeAz::cli(std::chrono::milliseconds(300))
            .get_token({"r", TargetKind::resource, std::nullopt});
        FAIL("no timeout");
    }
    catch (const HostError& e)
    {
        CHECK(e.kind() == HostErrorKind::timeout);
    }
}

TEST_CASE("a missing host CLI is reported as not found", "[host]")
{
    const HostCli cli(host_command_for("/nonexistent/az"), std::chrono::seconds(5));
    try
    {
        (void)cli.get_token({"r", TargetKind::resource, std::nullopt});
        FAIL("no error");
    }
    catch (const HostError& e)
    {
        CHECK(e.kind() == HostErrorKind::not_found);
    }
}

namespace
{

// What az prints on stderr for each sign-in problem (azure-cli-core's aad_error_handler: the
// Entra ID description, then "Interactive authentication is needed. Please run:" and the login
// line; _profile.py and the subscription lookups for the rest), one per row of the table.
std::string aad(std::string_view code, std::string_view description, std::string_view login)
{
    return fmt::format(
        "ERROR: {}: {} Trace ID: 4c1c3ec4-1a47-4e5b-9a5d-0b4e9d8f6e00 Correlation ID: "
        "2b6bd1a8-8d4a-4c71-a6b0-5d3f2d6a0c11 Timestamp: 2026-05-02 10:11:12Z\r\nInteractive "
        "authentication is needed. Please run:\r\n{}\r\n",
        code,
        description,
        login);
}

struct Row
{
    std::string stderr_text;
    std::optional<std::string> tenant; // the tenant the token was asked for
    std::string_view expected_marker;  // the table row this must hit
    std::string must_say;              // in the message the client sees
};

std::vector<Row> az_failures()
{
    const std::string mgmt = "az login --scope https://management.core.windows.net//.default";
    return {
        {aad("AADSTS50076",
             "Due to a configuration change made by your administrator, or because you moved to a "
             "new location, you must use multi-factor authentication to access "
             "'797f4846-ba00-4fd7-ba43-dac1f8f63013'.",
             mgmt),
         {},
         "AADSTS50076",
         mgmt},
        {aad("AADSTS50079",
             "Due to a configuration change made by your administrator, or because you moved to a "
             "new location, you must enroll in multi-factor authentication to access "
             "'797f4846-ba00-4fd7-ba43-dac1f8f63013'.",
             mgmt),
         {},
         "AADSTS50079",
         mgmt},
        {aad("AADSTS50072", "User needs to enroll for second factor authentication.", "az login"),
         {},
         "AADSTS50072",
         "az login"},
        {aad("AADSTS50158",
             "External security challenge not satisfied. User will be redirected to another page "
             "or authentication provider to satisfy additional authentication challenges.",
             mgmt),
         {},
         "AADSTS50158",
         mgmt},
        {aad("AADSTS530003",
             "Your device is required to be managed to access this resource.",
             "az login --scope https://graph.microsoft.com//.default"),
         {},
         "AADSTS530003",
         "az login --scope https://graph.microsoft.com//.default"},
        {aad("AADSTS53000",
             "Device is not in required device state: compliant. Conditional Access policy "
             "requires a compliant device, and the device is not compliant. The user must enroll "
             "their device with an approved MDM provider like Intune.",
             mgmt),
         {},
         "AADSTS53000",
         "compliant"},
        {aad("AADSTS53003",
             "Access has been blocked by Conditional Access policies. The access policy does not "
             "allow token issuance.",
             mgmt),
         {},
         "AADSTS53003",
         "administrator"},
        {aad("AADSTS50097", "Device authentication is required.", mgmt),
         {},
         "AADSTS50097",
         "registered"},
        {aad("AADSTS65001",
             "The user or administrator has not consented to use the application with ID "
             "'04b07795-8ddb-461a-bbee-02f9e1bf7b46' named 'Microsoft Azure CLI'.",
             "az login --scope https://vault.azure.net/.default"),
         {},
         "AADSTS65001",
         "consent"},
        {aad("AADSTS700082",
             "The refresh token has expired due to inactivity. The token was issued on "
             "2026-01-02T10:11:12.000Z and was inactive for 90.00:00:00.",
             mgmt),
         {},
         "AADSTS700082",
         mgmt},
        {aad("AADSTS70043",
             "The refresh token has expired or is invalid due to sign-in frequency checks by "
             "conditional access. The token was issued on 2026-05-01T10:11:12.000Z and the maximum "
             "allowed lifetime for this request is 43200.",
             mgmt),
         {},
         "AADSTS70043",
         mgmt},
        {aad("AADSTS50173",
             "The provided grant has expired due to it being revoked, a fresh auth token is "
             "needed. The user might have changed or reset their password.",
             mgmt),
         {},
         "AADSTS50173",
         mgmt},
        {aad("AADSTS90002",
             "Tenant 'fabrikam.com' not found. Check to make sure you have the correct tenant ID "
             "and are signing into the correct cloud.",
             "az login --tenant \"fabrikam.com\""),
         std::string("fabrikam.com"),
         "AADSTS90002",
         "az login --tenant fabrikam.com"},
        {aad("AADSTS50020",
             "User account 'dev@contoso.com' from identity provider "
             "'https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/' does not exist in "
             "tenant 'Fabrikam' and cannot access the application "
             "'04b07795-8ddb-461a-bbee-02f9e1bf7b46'(Microsoft Azure CLI) in that tenant.",
             "az login --tenant \"fabrikam.com\""),
         std::string("fabrikam.com"),
         "AADSTS50020",
         "az login --tenant fabrikam.com"},
        {aad("AADSTS50034",
             "The user account dev@contoso.com does not exist in the fabrikam.com directory. To "
             "sign into this application, the account must be added to the directory.",
             "az login --tenant \"fabrikam.com\""),
         std::string("fabrikam.com"),
         "AADSTS50034",
         "az login --tenant fabrikam.com"},
        {aad("AADSTS90072",
             "User account 'dev@contoso.com' from identity provider 'live.com' does not exist in "
             "tenant 'Fabrikam' and cannot access the application.",
             "az login --tenant \"fabrikam.com\""),
         std::string("fabrikam.com"),
         "AADSTS90072",
         "az login --tenant fabrikam.com"},
        {"ERROR: Tenant 'fabrikam.com' not found in the accounts signed in.\r\n",
         std::string("fabrikam.com"),
         "not found",
         "az login --tenant fabrikam.com"},
        {"ERROR: The tenant fabrikam.com does not exist for this account.\r\n",
         std::string("fabrikam.com"),
         "does not exist",
         "az login --tenant fabrikam.com"},
        {"ERROR: Subscription '0b1f6471-1bf0-4dda-aec3-cb9272f09590' not found. Check the spelling "
         "and casing and try again.\r\n",
         {},
         "Check the spelling and casing",
         "az account set --subscription"},
        {"ERROR: The subscription of '0b1f6471-1bf0-4dda-aec3-cb9272f09590' doesn't exist in cloud "
         "'AzureCloud'.\r\n",
         {},
         "doesn't exist in cloud",
         "az account list"},
        {"ERROR: Some new Entra ID problem.\r\nInteractive authentication is needed. Please "
         "run:\r\naz login --scope https://storage.azure.com/.default\r\n",
         {},
         "Interactive authentication is needed",
         "az login --scope https://storage.azure.com/.default"},
        {"ERROR: (interaction_required) the token cache has no usable refresh token\r\n",
         {},
         "interaction_required",
         "run `az login` in Windows"},
        {"ERROR: Please run 'az login' to setup account.\r\n",
         {},
         "Please run 'az login'",
         "run `az login` in Windows"},
        {"ERROR: No subscription found. Run 'az account set' to select a subscription.\r\n",
         {},
         "No subscription found",
         "run `az login` in Windows"},
        {"ERROR: There are no active accounts.\r\n",
         {},
         "no active accounts",
         "run `az login` in Windows"},
    };
}

} // namespace

TEST_CASE("every sign-in problem in the table is recognised in az's own words", "[host]")
{
    const auto rows = az_failures();
    const auto table = sign_in_problems();
    REQUIRE(rows.size() == table.size()); // one test row per table row
    for (std::size_t i = 0; i < rows.size(); ++i)
    {
        const auto& row = rows[i];
        const auto& problem = table[i];
        DYNAMIC_SECTION(problem.marker << " " << problem.also)
        {
            REQUIRE(problem.marker == row.expected_marker);
            azl::ProcessResult r;
            r.exit_code = 1;
            r.err = row.stderr_text;
            const auto e = classify_failure(
                r, {"https://management.azure.com/", TargetKind::resource, row.tenant});
            const std::string what = e.what();
            CHECK(e.kind() == problem.kind);
            CHECK(what.rfind(std::string(problem.what), 0) == 0); // this row, not an earlier one
            CHECK(what.find(row.must_say) != std::string::npos);
            CHECK(what.find('\r') == std::string::npos);
            CHECK(what.find("ERROR: ") == std::string::npos);
        }
    }
}
