#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/integration/config.hpp>

#include <catch2/catch.hpp>

using namespace azl::integration;

TEST_CASE("the user's file overrides the system file key by key", "[config]")
{
    const azl::TempDir dir("azl-test");
    azl::write_file_atomic(
        dir.path() / "system.conf",
        "[bridge]\n  enabled = true\n  idleTimeout = 600\n  hostAz = /mnt/c/az.cmd\n  tenant = "
        "contoso.onmicrosoft.com\n");
    azl::write_file_atomic(dir.path() / "user.conf", "[Bridge]\nIdleTimeout = 0\n");
    const auto c = load_config(
        {dir.path() / "system.conf", dir.path() / "user.conf", dir.path() / "missing.conf"});
    CHECK(c.enabled);
    CHECK(c.idle_timeout.count() == 0);
    CHECK(c.host_az == std::filesystem::path("/mnt/c/az.cmd"));
    CHECK(c.tenant == "contoso.onmicrosoft.com");
    CHECK(c.sources.size() == 2);
}

TEST_CASE("bad values name the file", "[config]")
{
    const azl::TempDir dir("azl-test");
    azl::write_file_atomic(dir.path() / "a.conf", "[bridge]\nidleTimeout = soon\n");
    CHECK_THROWS_WITH(
        load_config({dir.path() / "a.conf"}),
        Catch::Contains("a.conf") && Catch::Contains("idleTimeout"));
    azl::write_file_atomic(dir.path() / "b.conf", "[bridge]\nenabled = maybe\n");
    CHECK_THROWS_AS(load_config({dir.path() / "b.conf"}), azl::UserError);
    azl::write_file_atomic(dir.path() / "c.conf", "[bridge]\nhostAz = az.cmd\n");
    CHECK_THROWS_WITH(load_config({dir.path() / "c.conf"}), Catch::Contains("absolute"));
}
