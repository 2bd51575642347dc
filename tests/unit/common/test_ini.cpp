#include <azl/common/error.hpp>
#include <azl/common/ini.hpp>

#include <catch2/catch.hpp>

TEST_CASE("IniFile reads wsl.conf the way WSL does", "[ini]")
{
    const auto ini = azl::IniFile::parse(
        R"(# comment
[Boot]
systemd=true
command = "/usr/bin/env echo hi # not a comment"   # a comment
[automount]
Enabled = false ; trailing
options = "metadata,umask=22"
[boot]
SYSTEMD = false
)",
        "wsl.conf");
    CHECK(ini.get("boot", "systemd") == "false"); // the last one wins, names ignore case
    CHECK(ini.get("BOOT", "command") == "/usr/bin/env echo hi # not a comment");
    CHECK(ini.get("automount", "enabled") == "false");
    CHECK(ini.get("automount", "options") == "metadata,umask=22");
    CHECK_FALSE(ini.get("network", "hostname").has_value());
    CHECK(ini.items().size() == 5);
    CHECK(ini.items().front().line == 3);
}

TEST_CASE("IniFile names the file and line of malformed input", "[ini]")
{
    CHECK_THROWS_WITH(
        azl::IniFile::parse("[boot\nx=1\n", "/etc/wsl.conf"),
        Catch::StartsWith("/etc/wsl.conf:1:"));
    CHECK_THROWS_WITH(azl::IniFile::parse("x=1\n", "f"), Catch::Contains("outside any [section]"));
    CHECK_THROWS_WITH(azl::IniFile::parse("[a]\njunk\n", "f"), Catch::StartsWith("f:2:"));
    CHECK_THROWS_WITH(azl::IniFile::parse("[a]\nk=\"open\n", "f"), Catch::Contains("quote"));
}

TEST_CASE("IniFile edits keep the rest of the file", "[ini]")
{
    auto ini =
        azl::IniFile::parse("# keep me\n[boot]\nsystemd = true\n\n[user]\ndefault = root\n", "f");
    ini.set("boot", "systemd", "false");
    ini.set("boot", "command", "echo \"hi\"");
    ini.set("network", "hostname", "devbox");
    CHECK(ini.erase("user", "default"));
    CHECK_FALSE(ini.erase("user", "default"));
    CHECK(
        ini.str()
        == "# keep me\n[boot]\nsystemd = false\ncommand = \"echo "
           "\\\"hi\\\"\"\n\n[user]\n\n[network]\nhostname = devbox\n");
    const auto again = azl::IniFile::parse(ini.str(), "f");
    CHECK(again.get("boot", "command") == "echo \"hi\"");
}

TEST_CASE("parse_ini_bool", "[ini]")
{
    CHECK(azl::parse_ini_bool("TRUE") == true);
    CHECK(azl::parse_ini_bool(" 0 ") == false);
    CHECK_FALSE(azl::parse_ini_bool("maybe").has_value());
}
