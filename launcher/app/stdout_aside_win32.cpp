#include "stdout_aside.hpp"

#include <azl/common/error.hpp>
#include <azl/common/win32/win32.hpp>

#include <io.h>
#include <windows.h>

#include <cstdio>

namespace azl::app
{

namespace
{

// A copy of descriptor 1 (and so of its handle: _dup2 onto 1 closes the one it had), once what
// stdio holds for it is written.
int flushed_stdout_copy()
{
    (void)std::fflush(stdout);
    return ::_dup(1);
}

// The OS handle behind a C runtime descriptor.
HANDLE handle_of(int fd)
{
    // NOLINTNEXTLINE(performance-no-int-to-ptr): the CRT hands out OS handles as intptr_t
    return reinterpret_cast<HANDLE>(::_get_osfhandle(fd));
}

} // namespace

StdoutAside::StdoutAside()
    : m_saved(flushed_stdout_copy())
{
    if (m_saved < 0)
    {
        throw SystemError("redirecting standard output", "the C runtime refused");
    }
    m_saved_handle = handle_of(m_saved);
    if (::_dup2(2, 1) < 0
        || ::SetStdHandle(STD_OUTPUT_HANDLE, ::GetStdHandle(STD_ERROR_HANDLE)) == FALSE)
    {
        (void)::_close(m_saved);
        throw SystemError("redirecting standard output", "the C runtime refused");
    }
}

StdoutAside::~StdoutAside()
{
    (void)std::fflush(stdout);
    (void)::_dup2(m_saved, 1);
    (void)::_close(m_saved);
    (void)::SetStdHandle(STD_OUTPUT_HANDLE, handle_of(1));
}

void StdoutAside::write(std::string_view text) const
{
    // WriteFile, not the CRT's text mode: the bytes as they are (JSON Lines end with "\n").
    std::string_view rest = text;
    while (!rest.empty())
    {
        DWORD written = 0;
        if (::WriteFile(
                m_saved_handle, rest.data(), static_cast<DWORD>(rest.size()), &written, nullptr)
            == FALSE)
        {
            throw win32::make_system_error("writing standard output", ::GetLastError());
        }
        rest.remove_prefix(written);
    }
}

} // namespace azl::app
