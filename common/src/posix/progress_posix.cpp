#include "../progress_terminal.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>

namespace azl::detail
{

bool progress_terminal_available()
{
    return ::isatty(STDERR_FILENO) == 1;
}

int progress_terminal_width()
{
    winsize ws = {};
    if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
    {
        return ws.ws_col;
    }
    return 80;
}

void progress_terminal_draw(const std::string& line)
{
    // A progress line is best effort: a closed or full stderr must not fail the operation.
    (void)std::fprintf(stderr, "\r\033[2K%s", line.c_str());
    (void)std::fflush(stderr);
}

void progress_terminal_clear()
{
    (void)std::fputs("\r\033[2K", stderr);
    (void)std::fflush(stderr);
}

} // namespace azl::detail
