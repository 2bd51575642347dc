#include "test_support.hpp"

#include <azl/common/error.hpp>
#include <azl/common/process.hpp>
#include <azl/rootfs/digest.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

using azl::UserError;
using azl::test::Sandbox;
using Catch::Matchers::Contains;

TEST_CASE("Sha256 of a file equals sha256sum's", "[digest]")
{
    const Sandbox box;
    std::string content;
    for (std::uint32_t i = 0; i < 300000; ++i)
    {
        content += static_cast<char>((i * 7919U) % 251U);
    }
    const auto file = box.write("AzureLinux.wsl", content);
    const azl::ProcessResult r = azl::run_process({"sha256sum", file.string()});
    REQUIRE(r.ok());
    CHECK(azl::rootfs::sha256_file(file) == r.out.substr(0, 64));

    const auto empty = box.write("empty.wsl", "");
    CHECK(
        azl::rootfs::sha256_file(empty)
        == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("an unreadable image file is a user error naming it", "[digest]")
{
    const Sandbox box;
    CHECK_THROWS_AS(azl::rootfs::sha256_file(box.path() / "missing.wsl"), UserError);
    CHECK_THROWS_WITH(azl::rootfs::sha256_file(box.path()), Contains("is not a regular file"));
}
