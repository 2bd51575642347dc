#include <azl/common/error.hpp>
#include <azl/common/program.hpp>

#include <unistd.h>

#include <clocale>
#include <cstdio>
#include <system_error>

namespace azl
{

std::vector<std::string> utf8_arguments(int argc, char** argv)
{
    return {argv, argv + argc};
}

void setup_utf8_console()
{
    // Only the character type: names stay UTF-8 bytes (libarchive then writes them to pax headers
    // as they are), while number formatting stays "C".
    if (std::setlocale(LC_CTYPE, "C.UTF-8") == nullptr)
    {
        // If this fails too, "C" stays: bytes pass through as they are.
        (void)std::setlocale(LC_CTYPE, "");
    }
}

std::filesystem::path executable_path()
{
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::filesystem::path() : self;
}

bool standard_streams_are_terminal()
{
    return ::isatty(STDIN_FILENO) == 1 && ::isatty(STDOUT_FILENO) == 1;
}

StdoutToStderr::StdoutToStderr(bool enabled)
{
    if (!enabled)
    {
        return;
    }
    (void)std::fflush(stdout); // best effort: keeps the order of what was printed before
    m_saved_fd = ::dup(STDOUT_FILENO);
    if (m_saved_fd < 0 || ::dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
    {
        throw_errno("redirecting stdout to stderr");
    }
}

StdoutToStderr::~StdoutToStderr()
{
    restore();
}

void StdoutToStderr::restore() noexcept
{
    if (m_saved_fd < 0)
    {
        return;
    }
    (void)std::fflush(stdout);
    ::dup2(m_saved_fd, STDOUT_FILENO);
    ::close(m_saved_fd);
    m_saved_fd = -1;
}

} // namespace azl
