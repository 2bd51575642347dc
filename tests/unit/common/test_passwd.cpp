#include <azl/common/passwd.hpp>

#include <catch2/catch.hpp>

TEST_CASE("a passwd line gives the fields the C library reads", "[passwd]")
{
    const auto e = azl::parse_passwd_line("alice:x:1000:1001:Alice A:/home/alice:/bin/bash");
    REQUIRE(e);
    CHECK(e->name == "alice");
    CHECK(e->uid == 1000U);
    CHECK(e->gid == 1001U);
    CHECK(e->home == "/home/alice");
    CHECK(e->shell == "/bin/bash");

    // Empty fields stay empty; callers choose their defaults.
    const auto bare = azl::parse_passwd_line("svc:*:5:5:::");
    REQUIRE(bare);
    CHECK(bare->home.empty());
    CHECK(bare->shell.empty());
}

TEST_CASE("malformed passwd lines are refused or keep what they have", "[passwd]")
{
    CHECK_FALSE(azl::parse_passwd_line("alice:x:1000:1000:/home/alice:/bin/sh")); // six fields
    CHECK_FALSE(azl::parse_passwd_line(":x:0:0:root:/root:/bin/sh"));             // no name
    CHECK_FALSE(azl::parse_passwd_line(""));

    // A name whose ids are not numbers is still a name (first-run setup must not reuse it).
    const auto odd = azl::parse_passwd_line("odd:x:abc:-1:gecos:/home/odd:/bin/sh");
    REQUIRE(odd);
    CHECK_FALSE(odd->uid);
    CHECK_FALSE(odd->gid);

    // As glibc: the shell is the rest of the line after the sixth ':'.
    const auto extra = azl::parse_passwd_line("bob:x:1:1::/home/bob:/bin/sh:extra");
    REQUIRE(extra);
    CHECK(extra->shell == "/bin/sh:extra");
}

TEST_CASE("parse_passwd reads every well-formed line in order", "[passwd]")
{
    const auto entries = azl::parse_passwd("root:x:0:0:root:/root:/bin/sh\n"
                                           "# not an entry\n"
                                           "\n"
                                           "alice:x:1000:1000::/home/alice:/bin/bash");
    REQUIRE(entries.size() == 2);
    CHECK(entries[0].name == "root");
    CHECK(entries[1].name == "alice");
    CHECK(entries[1].uid == 1000U);
}
