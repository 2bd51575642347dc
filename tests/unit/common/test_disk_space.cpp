#include <azl/common/disk_space.hpp>
#include <azl/common/fs.hpp>

#include <catch2/catch.hpp>

#include <cerrno>
#include <limits>
#include <string>
#include <test_support.hpp>
#include <vector>

namespace fs = std::filesystem;

TEST_CASE("no_space_message names the file system, the target and the sizes", "[disk_space]")
{
    using azl::SizeEstimate;
    CHECK(
        azl::no_space_message("/mnt", "/mnt/out.wsl", 8U << 20U, 2U << 20U, SizeEstimate::about)
        == "no space left on /mnt for /mnt/out.wsl (needed ~8.0 MiB, 2.0 MiB free)");
    CHECK(
        azl::no_space_message("/mnt", "/mnt/x", 3U << 20U, 1024, SizeEstimate::at_least)
        == "no space left on /mnt for /mnt/x (needed more than 3.0 MiB, 1.0 KiB free)");
    CHECK(
        azl::no_space_message("/mnt", "/mnt/x", 0, 512, SizeEstimate::about)
        == "no space left on /mnt for /mnt/x (512 B free)");
    CHECK(
        azl::no_space_message("/mnt", "/mnt", 4096, 0, SizeEstimate::about)
        == "no space left on /mnt (needed ~4.0 KiB, 0 B free)");
}

TEST_CASE("NoSpaceError is a UserError whose hint names the file system", "[disk_space]")
{
    const azl::NoSpaceError e("/data/x", {"/data", 100}, 200);
    const azl::UserError& user = e;
    CHECK(
        std::string(user.what())
        == "no space left on /data for /data/x (needed ~200 B, 100 B free)");
    CHECK(user.hint().find("/data") != std::string::npos);
    CHECK(user.exit_code() == azl::ExitCode::user_error);
    CHECK(e.needed() == 200);
}

TEST_CASE("space_info measures the nearest existing ancestor", "[disk_space]")
{
    const azl::test::Sandbox box;
    const auto info = azl::space_info(box.path() / "not" / "yet" / "there");
    CHECK(info.free > 0);
    // The mount point is an ancestor (or the directory itself).
    const auto rel = box.path().lexically_relative(info.filesystem);
    CHECK_FALSE(rel.empty());
    CHECK(rel.native().rfind("..", 0) != 0);
}

TEST_CASE("require_free_space refuses what cannot fit, before anything is written", "[disk_space]")
{
    const azl::test::Sandbox box;
    const auto target = box.path() / "big.bin";
    CHECK_NOTHROW(azl::require_free_space(target, 1));
    CHECK_THROWS_AS(
        azl::require_free_space(target, std::numeric_limits<std::uint64_t>::max()),
        azl::NoSpaceError);
    CHECK(fs::is_empty(box.path()));
}

TEST_CASE("unwritable_error says read-only or permission denied, and the fix", "[disk_space]")
{
    const auto ro = azl::unwritable_error("/ro/out.wsl", EROFS);
    CHECK(std::string(ro.what()) == "cannot write /ro/out.wsl: /ro is on a read-only file system");
    CHECK_FALSE(ro.hint().empty());
    const auto denied = azl::unwritable_error("/d/f", EACCES, "pick another");
    CHECK(std::string(denied.what()) == "cannot write /d/f: Permission denied in /d");
    CHECK(denied.hint() == "pick another");
    CHECK(azl::is_unwritable(EROFS));
    CHECK_FALSE(azl::is_unwritable(ENOSPC));
    CHECK(azl::is_no_space(ENOSPC));
    CHECK(azl::is_no_space(EDQUOT));
}

TEST_CASE("AtomicFile on a full file system: NoSpaceError, nothing left", "[disk_space][root]")
{
    const azl::test::Sandbox box;
    const azl::test::SmallTmpfs small(box.path() / "small", 256U << 10U);
    if (!small.mounted())
    {
        WARN("not root: no tmpfs to fill");
        return;
    }
    const auto target = small.path() / "out.bin";
    const std::vector<std::byte> chunk(64U << 10U);
    try
    {
        azl::AtomicFile file(target);
        file.expect_size(1U << 20U);
        for (int i = 0; i < 32; ++i)
        {
            file.write(chunk);
        }
        FAIL("1 MiB fitted in a 256 KiB file system");
    }
    catch (const azl::NoSpaceError& e)
    {
        const std::string what = e.what();
        CHECK(
            what.find("no space left on " + small.path().string() + " for " + target.string())
            == 0);
        CHECK(what.find("needed ~1.0 MiB") != std::string::npos);
        // What the temporary file held counts as free: it is gone now.
        CHECK(e.space().free >= (192U << 10U));
    }
    CHECK(fs::is_empty(small.path()));
}
