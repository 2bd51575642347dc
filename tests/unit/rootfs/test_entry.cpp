#include <azl/rootfs/entry.hpp>

#include <catch2/catch.hpp>

#include <map>
#include <string>

using azl::rootfs::normalize_path;

TEST_CASE("normalize_path gives the canonical relative form", "[entry]")
{
    CHECK(normalize_path("./usr//bin/").value() == "usr/bin");
    CHECK(normalize_path("/etc/passwd").value() == "etc/passwd");
    CHECK(normalize_path("./").value() == ".");
    CHECK(normalize_path("").value() == ".");
    CHECK(normalize_path("a/./b/../c").value() == "a/c");
}

TEST_CASE("normalize_path refuses names that escape the root", "[entry]")
{
    CHECK_FALSE(normalize_path("../etc/passwd").has_value());
    CHECK_FALSE(normalize_path("a/../../b").has_value());
    CHECK_FALSE(normalize_path("./..").has_value());
}

TEST_CASE("parent_path", "[entry]")
{
    CHECK(azl::rootfs::parent_path("usr/bin") == "usr");
    CHECK(azl::rootfs::parent_path("usr") == ".");
}

TEST_CASE("paths resolve inside an image as the kernel resolves them under a chroot", "[entry]")
{
    const std::map<std::string, std::string> links = {
        {"bin", "usr/bin"},     // relative, from the link's directory
        {"usr/bin/sh", "dash"}, // relative, in the same directory
        {"sbin/init", "/lib/systemd/systemd"},
        {"lib", "usr/lib"},
        {"etc/up", "../../../etc/os"}, // ".." stops at the root
        {"loop/a", "b"},
        {"loop/b", "a"},
    };
    const auto resolve = [&links](std::string_view path)
    {
        return azl::rootfs::resolve_image_path(
            path,
            [&links](const std::string& p) -> const std::string*
            {
                const auto it = links.find(p);
                return it == links.end() ? nullptr : &it->second;
            });
    };
    CHECK(resolve("bin/sh").path == "usr/bin/dash");
    CHECK(resolve("/sbin/init").path == "usr/lib/systemd/systemd");
    CHECK(resolve("etc/up").path == "etc/os");
    CHECK(resolve("usr/./bin/../bin/sh").path == "usr/bin/dash");
    CHECK(resolve("").path == ".");
    CHECK_FALSE(resolve("bin/sh").loop);
    CHECK(resolve("loop/a").loop);
}
