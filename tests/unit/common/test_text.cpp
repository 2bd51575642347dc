#include <azl/common/text.hpp>

#include <catch2/catch.hpp>

#include <array>
#include <string>
#include <vector>

TEST_CASE("ascii_lower folds A-Z only, whatever the bytes around them", "[text]")
{
    CHECK(azl::ascii_lower("AzureLinux-4.0_X") == "azurelinux-4.0_x");
    CHECK(azl::ascii_lower("").empty());
    CHECK(azl::ascii_lower("\xC3\x89T\xC3\x89") == "\xC3\x89t\xC3\x89"); // UTF-8 É stays
}

TEST_CASE("ascii_iequals ignores the case of letters, not the length", "[text]")
{
    CHECK(azl::ascii_iequals("Legacy", "LEGACY"));
    CHECK(azl::ascii_iequals(".WSL", ".wsl"));
    CHECK_FALSE(azl::ascii_iequals(".wsl", ".wsl2"));
    CHECK_FALSE(azl::ascii_iequals("a-b", "a_b"));
}

TEST_CASE("trim removes ASCII white space at both ends only", "[text]")
{
    CHECK(azl::trim("  key = value \t\r") == "key = value");
    CHECK(azl::trim("\n\v\f").empty());
    CHECK(azl::trim("inner  space") == "inner  space");
    CHECK(azl::trim("").empty());
}

TEST_CASE("hex_encode writes two lowercase digits per byte", "[text]")
{
    const std::array<unsigned char, 4> bytes = {0x00, 0x0f, 0xa0, 0xff};
    CHECK(azl::hex_encode(bytes) == "000fa0ff");
    CHECK(azl::hex_encode({}).empty());
}

TEST_CASE("split_trimmed cuts at any separator, trims, drops empty parts", "[text]")
{
    using V = std::vector<std::string>;
    CHECK(azl::split_trimmed(" a, b ;c,,; ", ",;") == V{"a", "b", "c"});
    CHECK(azl::split_trimmed("one", ",") == V{"one"});
    CHECK(azl::split_trimmed("", ",").empty());
    CHECK(azl::split_trimmed(" , ; ", ",;").empty());
    CHECK(azl::split_trimmed("*.contoso.com;<local>", ";") == V{"*.contoso.com", "<local>"});
}
