#include <azl/common/error.hpp>
#include <azl/common/program.hpp>

#include <catch2/catch.hpp>

#include <unistd.h>

#include <array>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>

namespace
{

// What run_program printed on stderr and returned: stderr is descriptor 2, so the test points it at
// a pipe for the call (the messages are short: they fit in the pipe's buffer).
struct Ended
{
    int code = -1;
    std::string stderr_text;
};

Ended run_and_capture(const std::function<int()>& work, azl::ExitCodes codes = {})
{
    std::array<int, 2> fds{};
    REQUIRE(::pipe(fds.data()) == 0);
    (void)std::fflush(stderr);
    const int saved = ::dup(2);
    ::dup2(fds[1], 2);
    Ended ended;
    ended.code = azl::run_program("prog", work, codes);
    (void)std::fflush(stderr);
    ::dup2(saved, 2);
    ::close(saved);
    ::close(fds[1]);
    std::array<char, 4096> buf{};
    for (ssize_t n = 0; (n = ::read(fds[0], buf.data(), buf.size())) > 0;)
    {
        ended.stderr_text.append(buf.data(), static_cast<std::size_t>(n));
    }
    ::close(fds[0]);
    return ended;
}

} // namespace

TEST_CASE("run_program passes the work's exit code through and prints nothing", "[program]")
{
    const Ended ended = run_and_capture([] { return 7; });
    CHECK(ended.code == 7);
    CHECK(ended.stderr_text.empty());
}

TEST_CASE("run_program ends each kind of error with its line and exit code", "[program]")
{
    SECTION("a UserError: its message, its hint, its own code")
    {
        const Ended ended = run_and_capture(
            []() -> int
            { throw azl::UserError("a.json: not JSON", "fix the file", azl::ExitCode::usage); });
        CHECK(ended.code == 2);
        CHECK(ended.stderr_text == "prog: a.json: not JSON\n  hint: fix the file\n");
    }
    SECTION("a SystemError: the message, exit 1 unless the program says otherwise")
    {
        const auto work = []() -> int
        { throw azl::SystemError("reading /x", "Permission denied"); };
        const Ended ended = run_and_capture(work);
        CHECK(ended.code == 1);
        CHECK(ended.stderr_text == "prog: reading /x: Permission denied\n");
        CHECK(run_and_capture(work, {.system_error = 3, .unexpected = 3}).code == 3);
    }
    SECTION("anything else is a bug and says so")
    {
        const Ended ended = run_and_capture([]() -> int { throw std::logic_error("oops"); });
        CHECK(ended.code == 3);
        CHECK(ended.stderr_text == "prog: internal error: oops\n");
    }
}

TEST_CASE("verbosity_from_flags: -q wins, each -v adds a level", "[program]")
{
    CHECK(azl::verbosity_from_flags(0, false) == azl::Verbosity::normal);
    CHECK(azl::verbosity_from_flags(1, false) == azl::Verbosity::verbose);
    CHECK(azl::verbosity_from_flags(2, false) == azl::Verbosity::debug);
    CHECK(azl::verbosity_from_flags(5, false) == azl::Verbosity::debug);
    CHECK(azl::verbosity_from_flags(2, true) == azl::Verbosity::quiet);
}
