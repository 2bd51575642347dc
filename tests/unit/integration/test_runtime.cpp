#include <azl/common/fs.hpp>
#include <azl/integration/runtime.hpp>

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

using namespace azl::integration;
namespace fs = std::filesystem;

namespace
{

unsigned mode_of(const fs::path& p)
{
    struct stat st = {};
    REQUIRE(::lstat(p.c_str(), &st) == 0);
    return st.st_mode & 07777U;
}

} // namespace

TEST_CASE("the runtime directory and secrets are private and survive a restart", "[runtime]")
{
    const azl::TempDir base("azl-test");
    ::setenv("XDG_RUNTIME_DIR", base.path().c_str(), 1);
    const auto dir = runtime_dir();
    CHECK(dir == base.path() / "azurelinux-bridge");
    CHECK(mode_of(dir) == 0700);
    const auto s = load_or_create_secrets(dir);
    CHECK(s.prefix.size() == 64);
    CHECK(s.header.size() == 64);
    CHECK(s.prefix != s.header);
    CHECK(mode_of(dir / "secrets") == 0600);
    const auto again = load_or_create_secrets(dir);
    CHECK(again.prefix == s.prefix);
    CHECK(again.header == s.header);

    write_server_state(dir, {12345, 42});
    CHECK(mode_of(dir / "server.json") == 0600);
    CHECK(read_server_state(dir)->port == 12345);

    CHECK_FALSE(InstanceLock::is_held(dir));
    {
        const auto lock = InstanceLock::try_acquire(dir);
        REQUIRE(lock);
        CHECK(InstanceLock::is_held(dir));
        CHECK_FALSE(InstanceLock::try_acquire(dir)); // one server per user
    }
    CHECK_FALSE(InstanceLock::is_held(dir));
}

TEST_CASE("a planted symlink instead of the runtime directory is refused", "[runtime]")
{
    const azl::TempDir base("azl-test");
    fs::create_directory(base.path() / "elsewhere");
    fs::create_directory_symlink(base.path() / "elsewhere", base.path() / "azurelinux-bridge");
    ::setenv("XDG_RUNTIME_DIR", base.path().c_str(), 1);
    CHECK_THROWS_WITH(runtime_dir(), Catch::Contains("not a directory owned by you"));
}

TEST_CASE("random secrets are hex and differ", "[runtime]")
{
    const auto a = random_hex(32);
    CHECK(a.size() == 64);
    CHECK(a.find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(a != random_hex(32));
}
