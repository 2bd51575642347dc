#include <azl/common/error.hpp>
#include <azl/common/ini.hpp>
#include <azl/common/wsl_facts.hpp>
#include <azl/packaging/assets.hpp>
#include <azl/packaging/wsl_config.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

using azl::IniFile;
using azl::UserError;
using namespace azl::packaging;
using Catch::Matchers::Contains;

TEST_CASE("wsl-distribution.conf has exactly WSL's keys with the contract's values", "[conf]")
{
    DistributionConf conf;
    conf.default_name = "AzureLinux-4.0";
    const IniFile ini = IniFile::parse(render_distribution_conf(conf), "conf");
    std::set<std::string> keys;
    for (const auto& item : ini.items())
    {
        keys.insert(item.section + "." + item.key);
    }
    CHECK(
        keys
        == std::set<std::string>(
            azl::kDistributionConfKeys.begin(), azl::kDistributionConfKeys.end()));
    CHECK(ini.get("oobe", "command") == "/usr/lib/wsl/azurelinux-oobe");
    CHECK(ini.get("oobe", "defaultUid") == "1000");
    CHECK(ini.get("oobe", "defaultName") == "AzureLinux-4.0");
    CHECK(ini.get("shortcut", "enabled") == "true");
    CHECK(ini.get("shortcut", "icon") == "/usr/share/wsl/azurelinux.ico");
    CHECK(ini.get("windowsterminal", "enabled") == "true");
    CHECK(ini.get("windowsterminal", "profileTemplate") == "/usr/lib/wsl/terminal-profile.json");
}

TEST_CASE("default names follow WSL's pattern", "[conf]")
{
    for (const char* good : {"AzureLinux", "a", "Azure_Linux-4.0", "x.y"})
    {
        CHECK_NOTHROW(validate_default_name(good, "--default-name"));
    }
    CHECK_NOTHROW(validate_default_name(std::string(256, 'a'), "--default-name"));
    for (const std::string& bad : std::vector<std::string>{
             "", "Azure Linux", "a/b", "naïve", "x:y", "Legacy", std::string(257, 'a')})
    {
        CHECK_THROWS_WITH(validate_default_name(bad, "--default-name"), Contains("--default-name"));
    }
    DistributionConf conf;
    conf.default_name = "two words";
    CHECK_THROWS_AS(render_distribution_conf(conf), UserError);
}

TEST_CASE("the default wsl.conf boots systemd only when asked and never sets the user", "[conf]")
{
    const IniFile off = IniFile::parse(render_wsl_conf(SystemdBoot::off), "wsl.conf");
    const IniFile on = IniFile::parse(render_wsl_conf(SystemdBoot::on), "wsl.conf");
    CHECK_FALSE(off.get("boot", "systemd"));
    CHECK(on.get("boot", "systemd") == "true");
    for (const IniFile* ini : {&off, &on})
    {
        CHECK_FALSE(ini->get("user", "default"));
        for (const auto& item : ini->items())
        {
            // Only keys WSL knows.
            const std::string key = item.section + "." + item.key;
            CHECK(
                std::find(azl::kWslConfKeys.begin(), azl::kWslConfKeys.end(), key)
                != azl::kWslConfKeys.end());
        }
    }
}

TEST_CASE("the Terminal profile template is a JSON object with a profiles array", "[conf]")
{
    const auto doc = nlohmann::json::parse(render_terminal_profile());
    REQUIRE(doc["profiles"].is_array());
    REQUIRE_FALSE(doc["profiles"].empty());
    const auto& profile = doc["profiles"][0];
    CHECK(profile["startingDirectory"] == "~");
    const std::string scheme = profile["colorScheme"];
    bool found = false;
    for (const auto& s : doc["schemes"])
    {
        found = found || s["name"] == scheme;
    }
    CHECK(found);
    CHECK(render_terminal_profile().size() <= (1U << 20U));
}

TEST_CASE("the answers template is a version 1 JSON object", "[conf]")
{
    const auto doc = nlohmann::json::parse(text_asset(TextAsset::answers_template));
    CHECK(doc["version"] == 1);
    CHECK_FALSE(doc.contains("user")); // users are per person, not per image
}
