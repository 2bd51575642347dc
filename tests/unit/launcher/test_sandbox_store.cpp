// The sandbox store keeps each instance directory whole or absent: what a killed install or
// uninstall leaves is hidden from `list`, never a distribution, and cleared by the next install.
#include "wsl_fakes.hpp"

#include <azl/common/error.hpp>
#include <azl/launcher/backend.hpp>
#include <azl/rootfs/build.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <test_support.hpp>
#include <vector>

namespace fs = std::filesystem;
using azl::test::install_spec;

namespace
{

// A minimal root file system image: /etc/os-release and /bin/sh.
fs::path make_image(const azl::test::Sandbox& box)
{
    box.write("tree/etc/os-release", "ID=storetest\nVERSION_ID=1\n");
    box.write("tree/bin/sh", "#!/bin/true\n", 0755);
    azl::rootfs::BuildOptions options;
    options.sources = {box.path() / "tree"};
    options.output = box.path() / "image.tar.gz";
    options.progress = azl::ProgressMode::off;
    azl::rootfs::build_image(options);
    return options.output;
}

std::vector<std::string> entries(const fs::path& dir)
{
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir))
    {
        names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

} // namespace

TEST_CASE(
    "install puts the instance directory in place whole, and uninstall takes it away whole",
    "[store]")
{
    const azl::test::Sandbox box;
    const auto image = make_image(box);
    const auto backend = azl::launcher::make_backend({.data_dir = box.path() / "data"});
    const fs::path distros = box.path() / "data" / "distros";

    backend->install(install_spec("Whole", image));
    CHECK(entries(distros) == std::vector<std::string>{"Whole"});
    CHECK(entries(distros / "Whole") == std::vector<std::string>{"instance.json", "rootfs"});
    CHECK(fs::exists(distros / "Whole" / "rootfs" / "etc" / "os-release"));

    backend->unregister("Whole");
    CHECK(entries(distros).empty());
    CHECK(backend->list().empty());
}

TEST_CASE(
    "what killed installs and uninstalls left is no distribution and goes at the next install",
    "[store]")
{
    const azl::test::Sandbox box;
    const auto image = make_image(box);
    const auto backend = azl::launcher::make_backend({.data_dir = box.path() / "data"});
    const fs::path distros = box.path() / "data" / "distros";
    // A killed install (a rootfs being extracted, no record yet) and a killed uninstall (renamed
    // away with its record, half deleted).
    box.write(
        "data/distros/.Left.installing-a1b2c3/rootfs.partial-x/etc/passwd", "root:x:0:0::/:\n");
    box.write("data/distros/.Left.removing-0011223344556677/instance.json", "{}");
    box.write("data/distros/.Left.removing-0011223344556677/rootfs/etc/passwd", "root:x:0:0::/:\n");

    CHECK(backend->list().empty());
    CHECK_FALSE(backend->is_registered("Left"));

    backend->install(install_spec("Left", image));
    CHECK(entries(distros) == std::vector<std::string>{"Left"});
    REQUIRE(backend->list().size() == 1);
    CHECK(backend->list().front().name == "Left");
}

TEST_CASE(
    "the store holds the names WSL takes, except hidden ones and ones too long for its folders",
    "[store]")
{
    const azl::test::Sandbox box;
    const auto backend = azl::launcher::make_backend({.data_dir = box.path() / "data"});
    CHECK_FALSE(backend->is_registered("AzureLinux"));
    CHECK_FALSE(backend->is_registered(std::string(228, 'a'))); // ".NAME.removing-ID" fits
    CHECK_THROWS_WITH(backend->is_registered(".hidden"), Catch::Contains("cannot hold"));
    CHECK_THROWS_WITH(
        backend->is_registered(std::string(229, 'a')), Catch::Contains("cannot hold"));
    CHECK_THROWS_WITH(backend->is_registered(".."), Catch::Contains("invalid distribution name"));
}
