// `azurelinux dsc`: the instance parser and get/test/set/export against the recording fake, whose
// guest answers first-run setup's dry-run plan the way azurelinux-oobe does (steps done only for
// the answers it last applied).
#include "fake_backend.hpp"

#include <azl/common/error.hpp>
#include <azl/launcher/dsc.hpp>

#include <catch2/catch.hpp>

#include <fstream>
#include <test_support.hpp>

using azl::test::FakeBackend;
using azl::test::FakeConsole;
namespace L = azl::launcher;

namespace
{

const std::string kDscDigest(64, 'b');

struct DscFixture : azl::test::CommandFixture
{
    // An instance with an image file and inline answers (timezone `tz`).
    [[nodiscard]] L::DscDesired instance(const std::string& tz = "Etc/UTC") const
    {
        const auto image = dir.write("AzureLinux.wsl", "image bytes");
        return L::parse_dsc_input(fmt::format(
            R"({{"name":"Dev","image":"{}","sha256":"{}","answers":{{"version":1,"timezone":"{}"}},"defaultUser":"alice"}})",
            image.string(),
            kDscDigest,
            tz));
    }

    [[nodiscard]] std::size_t oobe_runs() const
    {
        return backend.calls_starting("launch_interactive Dev").size();
    }
};

std::string usage_error(std::string_view input)
{
    try
    {
        (void)L::parse_dsc_input(input);
    }
    catch (const azl::UserError& e)
    {
        CHECK(e.exit_code() == azl::ExitCode::usage);
        return e.what();
    }
    FAIL("accepted: " << input);
    return {};
}

void no_download(const std::string& url, const std::filesystem::path& /*to*/)
{
    FAIL("downloaded " << url);
}

} // namespace

TEST_CASE("dsc input: each property checked, the problem named", "[dsc]")
{
    CHECK(usage_error("[1]") == "dsc input is not a JSON object");
    CHECK(usage_error("{").starts_with("dsc input is not JSON"));
    CHECK(usage_error(R"({"image":"a.wsl"})") == R"(dsc input: "name" is required)");
    CHECK(
        usage_error(R"({"name":"Dev","colour":"blue"})")
        == R"(dsc input: "colour" is not a property of AzureLinux.WSL/Distribution)");
    CHECK(
        usage_error(R"({"name":"Dev","_exist":"yes"})")
        == R"(dsc input: "_exist" must be true or false)");
    CHECK(usage_error(R"({"name":"bad name"})").starts_with(R"(dsc input: "name" )"));
    CHECK(
        usage_error(R"({"name":"Dev","sha256":"abc"})")
        == R"(dsc input: "sha256" must be 64 hexadecimal digits)");
    CHECK(
        usage_error(R"({"name":"Dev","image":"https://example.com/a.wsl?sig=x"})")
        == R"(dsc input: "image" is a URL: give its "sha256" too, so the download can be checked)");
    CHECK(
        usage_error(R"({"name":"Dev","answers":{},"answersFile":"a.json"})")
        == R"(dsc input: "answers" and "answersFile" cannot both be given)");
    CHECK(
        usage_error(R"({"name":"Dev","answers":"a.json"})")
        == R"(dsc input: "answers" must be an answers document (a JSON object))");
    CHECK(
        usage_error(R"({"name":"Dev","defaultUser":""})")
        == R"(dsc input: "defaultUser" must be a non-empty string)");

    const auto d = L::parse_dsc_input(
        std::string(R"({"name":"Dev","sha256":")") + std::string(64, 'A') + R"(","_exist":false})");
    CHECK(d.sha256 == std::string(64, 'a'));
    CHECK_FALSE(d.exist);
    // get takes the whole desired state, and what get and test print, back as input.
    CHECK(
        L::parse_dsc_input(
            R"({"name":"Dev","image":"x","setupState":"done","_inDesiredState":true})", true)
            .name
        == "Dev");
}

TEST_CASE("a URL is shown without its query, where a SAS token would be", "[dsc]")
{
    CHECK(L::url_for_display("https://h/a.wsl?sv=1&sig=SECRET") == "https://h/a.wsl?…");
    CHECK(L::url_for_display("https://h/a.wsl") == "https://h/a.wsl");
}

TEST_CASE("dsc set installs with the answers, and a second set changes nothing", "[dsc]")
{
    DscFixture f;
    const L::DscDesired desired = f.instance();

    const L::DscResult before = L::dsc_test(f.backend, desired, f.env);
    CHECK(
        before.state
        == nlohmann::json{{"name", "Dev"}, {"_exist", false}, {"_inDesiredState", false}});
    CHECK(before.properties == std::vector<std::string>{"_exist"});

    const L::DscResult first = L::dsc_set(f.backend, desired, f.env, no_download);
    CHECK(first.properties == std::vector<std::string>{"_exist"});
    CHECK(first.state["setupState"] == "done");
    CHECK(first.state["defaultUser"] == "alice");
    REQUIRE(f.backend.calls_starting("install Dev").size() == 1);
    CHECK(
        f.backend.calls_starting("install Dev")[0].find("sha256=" + kDscDigest)
        != std::string::npos);
    CHECK(f.oobe_runs() == 1);
    // The inline answers reached the guest through a file, and that file is gone afterwards.
    CHECK(
        f.backend.distros.at("Dev").applied_answers.find("\"timezone\": \"Etc/UTC\"")
        != std::string::npos);

    const auto calls_before = f.backend.calls.size();
    const L::DscResult second = L::dsc_set(f.backend, desired, f.env, no_download);
    CHECK(second.properties.empty());
    CHECK(second.state == first.state);
    CHECK(f.oobe_runs() == 1);
    for (std::size_t i = calls_before; i < f.backend.calls.size(); ++i)
    {
        const std::string& c = f.backend.calls[i];
        CHECK_FALSE(
            (c.starts_with("install") || c.starts_with("configure") || c.starts_with("unregister")
             || c.starts_with("set_setup_pending")));
    }
    const L::DscResult after = L::dsc_test(f.backend, desired, f.env);
    CHECK(after.state["_inDesiredState"] == true);
    CHECK(after.properties.empty());
}

TEST_CASE("dsc: changed answers are drift that set applies again", "[dsc]")
{
    DscFixture f;
    (void)L::dsc_set(f.backend, f.instance(), f.env, no_download);
    const L::DscDesired tokyo = f.instance("Asia/Tokyo");
    CHECK(L::dsc_test(f.backend, tokyo, f.env).properties == std::vector<std::string>{"answers"});
    CHECK(
        L::dsc_set(f.backend, tokyo, f.env, no_download).properties
        == std::vector<std::string>{"answers"});
    CHECK(f.oobe_runs() == 2);
    CHECK(L::dsc_test(f.backend, tokyo, f.env).properties.empty());
}

TEST_CASE("dsc: a pending setup is drift, and set finishes it", "[dsc]")
{
    DscFixture f;
    f.backend.new_oobe_exit = 3;
    CHECK_THROWS_AS(L::dsc_set(f.backend, f.instance(), f.env, no_download), azl::UserError);
    CHECK(f.backend.distros.at("Dev").config.setup_pending);
    // ... and so is the default user, still root: setup would have made it alice.
    CHECK(
        L::dsc_test(f.backend, f.instance(), f.env).properties
        == std::vector<std::string>{"setupState", "defaultUser"});
    f.backend.distros.at("Dev").oobe_exit = 0;
    const L::DscResult r = L::dsc_set(f.backend, f.instance(), f.env, no_download);
    CHECK(r.properties == std::vector<std::string>{"setupState", "answers"});
    CHECK(r.state["setupState"] == "done");
}

TEST_CASE("dsc: another location is drift that set refuses, changing nothing", "[dsc]")
{
    DscFixture f;
    (void)L::dsc_set(f.backend, f.instance(), f.env, no_download);
    L::DscDesired moved = L::parse_dsc_input(R"({"name":"Dev","location":"/elsewhere"})");
    CHECK(L::dsc_test(f.backend, moved, f.env).properties == std::vector<std::string>{"location"});
    const auto calls_before = f.backend.calls.size();
    CHECK_THROWS_WITH(
        L::dsc_set(f.backend, moved, f.env, no_download),
        "Dev is installed in /store/Dev, not in /elsewhere");
    for (std::size_t i = calls_before; i < f.backend.calls.size(); ++i)
    {
        CHECK_FALSE(f.backend.calls[i].starts_with("configure"));
        CHECK_FALSE(f.backend.calls[i].starts_with("unregister"));
    }
    // The same folder written differently is no drift.
    moved.location = "/store/Dev/";
    CHECK(L::dsc_test(f.backend, moved, f.env).properties.empty());
}

TEST_CASE("dsc: a missing distribution without an image is an error, _exist false removes", "[dsc]")
{
    DscFixture f;
    CHECK_THROWS_WITH(
        L::dsc_set(f.backend, L::parse_dsc_input(R"({"name":"Dev"})"), f.env, no_download),
        R"(Dev is not installed and no "image" is given)");
    CHECK(f.backend.distros.empty());

    (void)L::dsc_set(f.backend, f.instance(), f.env, no_download);
    const auto absent = L::parse_dsc_input(R"({"name":"Dev","_exist":false})");
    CHECK(L::dsc_test(f.backend, absent, f.env).properties == std::vector<std::string>{"_exist"});
    const L::DscResult r = L::dsc_set(f.backend, absent, f.env, no_download);
    CHECK(r.properties == std::vector<std::string>{"_exist"});
    CHECK(r.state == nlohmann::json{{"name", "Dev"}, {"_exist", false}});
    CHECK(f.backend.distros.empty());
    CHECK(L::dsc_set(f.backend, absent, f.env, no_download).properties.empty());
}

TEST_CASE("dsc: a URL image is downloaded to a private folder, then installed and checked", "[dsc]")
{
    DscFixture f;
    static std::string fetched;
    static std::filesystem::path saved_to;
    const auto download = [](const std::string& url, const std::filesystem::path& to)
    {
        fetched = url;
        saved_to = to;
        std::ofstream(to) << "image bytes";
    };
    const auto desired = L::parse_dsc_input(
        R"({"name":"Dev","image":"https://example.com/a.wsl?sig=S","sha256":")" + kDscDigest
        + R"("})");
    (void)L::dsc_set(f.backend, desired, f.env, download);
    CHECK(fetched == "https://example.com/a.wsl?sig=S");
    const auto install = f.backend.calls_starting("install Dev");
    REQUIRE(install.size() == 1);
    CHECK(
        install[0].find("from " + saved_to.string() + " sha256=" + kDscDigest)
        != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(saved_to)); // the temporary folder is gone
    for (const std::string& line : f.console.lines)
    {
        CHECK(line.find("sig=S") == std::string::npos);
    }
}

TEST_CASE("dsc export: one state per distribution", "[dsc]")
{
    DscFixture f;
    azl::test::add_distro(f.backend, 1000);
    const auto all = L::dsc_export(f.backend);
    REQUIRE(all.size() == 1);
    CHECK(all[0]["name"] == "AzureLinux");
    CHECK(all[0]["defaultUser"] == "alice");
    CHECK(all[0]["setupState"] == "done");
}
