#include "../progress_terminal.hpp"

#include <azl/common/win32/win32.hpp>

#include <string>

// The bar is written with WriteConsoleW, so UTF-8 labels show right whatever the code page.
// Consoles without virtual-terminal sequences (before Windows 10) get the line padded with blanks
// instead.

namespace azl::detail
{

namespace
{

HANDLE console()
{
    return ::GetStdHandle(STD_ERROR_HANDLE);
}

bool has_vt()
{
    DWORD mode = 0;
    return ::GetConsoleMode(console(), &mode) != 0
           && (mode & ENABLE_VIRTUAL_TERMINAL_PROCESSING) != 0;
}

void write(const std::wstring& text)
{
    DWORD written = 0;
    ::WriteConsoleW(console(), text.data(), static_cast<DWORD>(text.size()), &written, nullptr);
}

} // namespace

bool progress_terminal_available()
{
    DWORD mode = 0;
    if (::GetConsoleMode(console(), &mode) == 0)
    {
        return false; // redirected to a file or pipe
    }
    ::SetConsoleMode(console(), mode | ENABLE_VIRTUAL_TERMINAL_PROCESSING);
    return true;
}

int progress_terminal_width()
{
    CONSOLE_SCREEN_BUFFER_INFO info = {};
    if (::GetConsoleScreenBufferInfo(console(), &info) != 0)
    {
        const int width = info.srWindow.Right - info.srWindow.Left + 1;
        if (width > 20)
        {
            return width;
        }
    }
    return 80;
}

void progress_terminal_draw(const std::string& line)
{
    const std::wstring wide = win32::to_wide(line, "a progress label");
    if (has_vt())
    {
        write(L"\r\x1b[2K" + wide);
        return;
    }
    const auto width = static_cast<std::size_t>(progress_terminal_width() - 1);
    write(L"\r" + wide + std::wstring(width > wide.size() ? width - wide.size() : 0, L' '));
}

void progress_terminal_clear()
{
    if (has_vt())
    {
        write(L"\r\x1b[2K");
        return;
    }
    write(
        L"\r" + std::wstring(static_cast<std::size_t>(progress_terminal_width() - 1), L' ')
        + L"\r");
}

} // namespace azl::detail
