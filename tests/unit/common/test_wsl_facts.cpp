#include <azl/common/wsl_facts.hpp>

#include <catch2/catch.hpp>

#include <string>

TEST_CASE("distribution names follow wslservice's rule", "[wsl_facts]")
{
    for (const char* good :
         {"AzureLinux", "AzureLinux-4.0", "a.b_c", "X", "0", ".", "..", "Legacy2"})
    {
        CHECK(azl::valid_wsl_name(good));
    }
    CHECK(azl::valid_wsl_name(std::string(azl::kWslNameMax, 'a')));
    for (const char* bad : {"", "a/b", "a b", "\xC3\xA9", "a;b", "Legacy", "legacy", "LEGACY"})
    {
        CHECK_FALSE(azl::valid_wsl_name(bad));
    }
    CHECK_FALSE(azl::valid_wsl_name(std::string(azl::kWslNameMax + 1, 'a')));
}

TEST_CASE("a .wsl file is told by its extension in any case", "[wsl_facts]")
{
    CHECK(azl::has_wsl_extension("AzureLinux.wsl"));
    CHECK(azl::has_wsl_extension("dir.d/AzureLinux.WSL"));
    CHECK_FALSE(azl::has_wsl_extension("AzureLinux.wsl.sha256"));
    CHECK_FALSE(azl::has_wsl_extension("AzureLinux.tar.gz"));
    CHECK_FALSE(azl::has_wsl_extension("wsl"));
}

TEST_CASE("hostnames are cleaned up as WSL does", "[wsl_facts]")
{
    CHECK(azl::clean_wsl_hostname("DESKTOP-1234") == "DESKTOP-1234");
    CHECK(azl::clean_wsl_hostname("my_host name") == "myhostname");
    CHECK(azl::clean_wsl_hostname("-a--b.-c.d.") == "a-b.cd");
    CHECK(azl::clean_wsl_hostname("...") == "localhost");
    CHECK(azl::clean_wsl_hostname("") == "localhost");
    CHECK(azl::clean_wsl_hostname(std::string(70, 'h') + "-") == std::string(64, 'h'));
}
