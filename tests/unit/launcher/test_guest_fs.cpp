// The sandbox's host-side reads of guest files: resolved inside the guest root, never outside.
#include "posix/guest_fs.hpp"

#include <catch2/catch.hpp>

#include <test_support.hpp>

namespace S = azl::launcher::sandbox;
namespace fs = std::filesystem;

TEST_CASE("guest files resolve inside the guest root, symlinks included", "[sandbox]")
{
    azl::test::Sandbox dir;
    const fs::path root = dir.path() / "root";
    dir.write("outside-secret", "host secret\n");
    dir.write("root/etc/real-passwd", "root:x:0:0:root:/root:/bin/bash\n");
    // An absolute symlink that on the host would leave the tree.
    fs::create_symlink("/etc/real-passwd", root / "etc/passwd");
    fs::create_symlink("../../outside-secret", root / "etc/escape");
    fs::create_symlink(dir.path() / "outside-secret", root / "etc/absolute-escape");

    CHECK(S::read_guest_file(root, "/etc/passwd") == "root:x:0:0:root:/root:/bin/bash\n");
    CHECK(S::read_guest_file(root, "/etc/escape") == std::nullopt); // ".." stops at the guest's /
    CHECK(S::read_guest_file(root, "/etc/absolute-escape") == std::nullopt);
    CHECK(S::read_guest_file(root, "/etc/missing") == std::nullopt);
}

TEST_CASE("users come from the guest's passwd and group files", "[sandbox]")
{
    azl::test::Sandbox dir;
    const fs::path root = dir.path() / "root";
    dir.write(
        "root/etc/passwd",
        "root:x:0:0:root:/root:/bin/bash\n"
        "broken line\n"
        "alice:x:1000:1000:Alice:/home/alice:/bin/zsh\n"
        "nohome:x:1001:1001:::\n");
    dir.write(
        "root/etc/group", "root:x:0:\nsudo:x:27:alice,bob\nalice:x:1000:\nusers:x:100:bob,alice\n");

    const auto alice = S::find_guest_user(root, "alice");
    REQUIRE(alice);
    CHECK(alice->uid == 1000);
    CHECK(alice->gid == 1000);
    CHECK(alice->home == "/home/alice");
    CHECK(alice->shell == "/bin/zsh");
    CHECK(alice->groups == std::vector<std::uint32_t>{27, 100});
    CHECK(S::find_guest_user(root, "1000")->name == "alice");
    CHECK(S::find_guest_uid(root, 0)->home == "/root");
    const auto nohome = S::find_guest_uid(root, 1001);
    REQUIRE(nohome);
    CHECK(nohome->home == "/");
    CHECK(nohome->shell == "/bin/sh");
    CHECK_FALSE(S::find_guest_user(root, "bob"));
    CHECK_FALSE(S::find_guest_uid(root, 4242));
}
