#include <azl/rootfs/entry.hpp>

#include <catch2/catch.hpp>

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
