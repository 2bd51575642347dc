#include <azl/common/error.hpp>
#include <azl/common/process.hpp>

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <test_support.hpp>

using namespace std::chrono_literals;

TEST_CASE("run_process captures stdout, stderr and the exit code without a shell", "[process]")
{
    const auto r = azl::run_process({"sh", "-c", "echo out; echo err >&2; exit 3"});
    CHECK(r.exit_code == 3);
    CHECK_FALSE(r.ok());
    CHECK(r.out == "out\n");
    CHECK(r.err == "err\n");

    // Arguments are passed as they are: no word splitting, no globbing.
    const auto echo = azl::run_process({"printf", "%s|", "a b", "*", "$HOME"});
    CHECK(echo.out == "a b|*|$HOME|");
}

TEST_CASE("run_process feeds stdin and handles output larger than a pipe buffer", "[process]")
{
    std::string big(1 << 20, 'x');
    big += "END";
    azl::ProcessOptions opts;
    opts.stdin_data = big;
    const auto r = azl::run_process({"cat"}, opts);
    REQUIRE(r.ok());
    CHECK(r.out == big);
}

TEST_CASE("run_process controls the environment", "[process]")
{
    azl::ProcessOptions opts;
    opts.env_base = azl::EnvBase::empty;
    opts.set_env = {{"ONLY", "this"}};
    const auto r = azl::run_process({"/usr/bin/env"}, opts);
    CHECK(r.out == "ONLY=this\n");

    ::setenv("AZL_TEST_SECRET", "s3cret", 1);
    azl::ProcessOptions drop;
    drop.unset_env = {"AZL_TEST_SECRET"};
    const auto dropped = azl::run_process({"/usr/bin/env"}, drop);
    CHECK(dropped.out.find("AZL_TEST_SECRET") == std::string::npos);
    ::unsetenv("AZL_TEST_SECRET");
}

TEST_CASE("run_process kills a child that outlives its timeout", "[process]")
{
    azl::ProcessOptions opts;
    opts.timeout = 200ms;
    const auto start = std::chrono::steady_clock::now();
    const auto r = azl::run_process({"sleep", "10"}, opts);
    CHECK(r.timed_out);
    CHECK_FALSE(r.ok());
    CHECK(std::chrono::steady_clock::now() - start < 5s);

    opts.stdout_mode = azl::Stream::null;
    opts.stderr_mode = azl::Stream::null;
    const auto quiet = azl::run_process({"sleep", "10"}, opts);
    CHECK(quiet.timed_out);
}

TEST_CASE("run_process reports signals and missing programs", "[process]")
{
    const auto r = azl::run_process({"sh", "-c", "kill -TERM $$"});
    REQUIRE(r.signal.has_value());
    CHECK(*r.signal == 15);
    CHECK(r.exit_code == 128 + 15);
    CHECK_THROWS_AS(azl::run_process({"azl-no-such-program"}), azl::UserError);
}

TEST_CASE("run_process runs in the requested directory", "[process]")
{
    const azl::test::Sandbox box;
    azl::ProcessOptions opts;
    opts.cwd = box.path();
    const auto r = azl::run_process({"pwd"}, opts);
    CHECK(r.out == box.path().string() + "\n");
}

TEST_CASE("run_process runs the in_child hook in the child just before exec", "[process]")
{
    const azl::test::Sandbox box;
    const std::string dir = box.path().string();
    azl::ProcessOptions opts;
    // The hook's chdir is the child's alone, and comes after the streams are wired.
    opts.in_child = [&dir]() noexcept { return ::chdir(dir.c_str()) == 0 ? 0 : errno; };
    const auto r = azl::run_process({"/bin/sh", "-c", "pwd; echo err >&2"}, opts);
    CHECK(r.out == dir + "\n");
    CHECK(r.err == "err\n");
    CHECK(std::filesystem::current_path() != box.path());

    // Its error fails the start, as an exec error would.
    opts.in_child = []() noexcept { return EPERM; };
    CHECK_THROWS_WITH(
        azl::run_process({"/bin/true"}, opts),
        Catch::Contains("cannot run /bin/true") && Catch::Contains("not permitted"));

    // argv[0] is exec'd as given (it names a file of the world the hook enters): it must be
    // absolute, and is not looked up in our PATH.
    opts.in_child = []() noexcept { return 0; };
    CHECK_THROWS_WITH(azl::run_process({"true"}, opts), Catch::Contains("cannot run true"));
}
