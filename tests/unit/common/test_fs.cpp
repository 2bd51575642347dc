#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/common/interrupt.hpp>

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <string>
#include <test_support.hpp>
#include <vector>

namespace fs = std::filesystem;

TEST_CASE("AtomicFile leaves nothing behind unless committed", "[fs]")
{
    const azl::test::Sandbox box;
    const auto target = box.path() / "out.bin";
    {
        azl::AtomicFile file(target);
        file.write("partial");
    }
    CHECK_FALSE(fs::exists(target));
    CHECK(fs::is_empty(box.path()));
}

TEST_CASE("AtomicFile replaces the destination only on commit", "[fs]")
{
    const azl::test::Sandbox box;
    const auto target = box.write("out.txt", "old");
    azl::AtomicFile file(target, 0600);
    file.write("new content");
    CHECK(azl::test::slurp(target) == "old");
    file.commit();
    CHECK(azl::test::slurp(target) == "new content");
    struct stat st = {};
    REQUIRE(::stat(target.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("AtomicFile with Overwrite::no refuses an existing file", "[fs]")
{
    const azl::test::Sandbox box;
    const auto target = box.write("exists", "keep me");
    azl::AtomicFile file(target);
    file.write("other");
    CHECK_THROWS_AS(file.commit(azl::Overwrite::no), azl::UserError);
    CHECK(azl::test::slurp(target) == "keep me");
}

TEST_CASE("AtomicFile names a missing directory", "[fs]")
{
    const azl::test::Sandbox box;
    CHECK_THROWS_WITH(
        azl::AtomicFile(box.path() / "missing" / "x"), Catch::Contains("does not exist"));
}

TEST_CASE("write_file_atomic and read_file round-trip", "[fs]")
{
    const azl::test::Sandbox box;
    const auto target = box.path() / "a.txt";
    azl::write_file_atomic(target, "hello\n");
    CHECK(azl::read_file(target) == "hello\n");
    CHECK_THROWS_WITH(azl::read_file(box.path() / "nope"), Catch::Contains("nope"));
    CHECK_THROWS_WITH(azl::read_file(target, 3), Catch::Contains("larger than"));
}

TEST_CASE("TempDir removes its tree, read-only directories included", "[fs]")
{
    fs::path kept;
    {
        const azl::TempDir dir("azl-unit");
        kept = dir.path();
        fs::create_directories(kept / "a/b");
        std::ofstream(kept / "a/b/f") << "x";
        fs::permissions(kept / "a/b", fs::perms::owner_read | fs::perms::owner_exec);
        fs::permissions(kept / "a", fs::perms::owner_read | fs::perms::owner_exec);
        CHECK(fs::is_directory(kept));
        CHECK(((fs::status(kept).permissions() & fs::perms::all) == fs::perms::owner_all));
    }
    CHECK_FALSE(fs::exists(kept));
}

TEST_CASE("human_bytes", "[fs]")
{
    CHECK(azl::human_bytes(0) == "0 B");
    CHECK(azl::human_bytes(1023) == "1023 B");
    CHECK(azl::human_bytes(1536) == "1.5 KiB");
    CHECK(azl::human_bytes(64ULL << 20U) == "64.0 MiB");
}

TEST_CASE("An interrupted process leaves no AtomicFile temporary behind", "[fs]")
{
    const azl::test::Sandbox box;
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0)
    {
        azl::install_interrupt_cleanup();
        azl::AtomicFile file(box.path() / "image.wsl");
        file.write("half of an image");
        // Should raise() fail, the _exit(0) below fails the parent's WIFSIGNALED check.
        (void)::raise(SIGTERM);
        ::_exit(0); // not reached: the default action of SIGTERM ends the process
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGTERM);
    CHECK(fs::is_empty(box.path()));
}

TEST_CASE("A process killed with SIGKILL while writing an AtomicFile leaves nothing behind", "[fs]")
{
    const azl::test::Sandbox box;
    const auto target = box.path() / "image.wsl";
    azl::write_file_atomic(target, "the old image");
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0)
    {
        azl::AtomicFile file(target);
        file.write("half of a new image");
        // No handler, no unwinding: what a kill -9 or a power loss leaves. Should raise() fail, the
        // _exit(0) below fails the parent's WIFSIGNALED check.
        (void)::raise(SIGKILL);
        ::_exit(0);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFSIGNALED(status));
    CHECK(azl::read_file(target) == "the old image");
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(box.path()))
    {
        names.push_back(entry.path().filename().string());
    }
    CHECK(names == std::vector<std::string>{"image.wsl"});
}
