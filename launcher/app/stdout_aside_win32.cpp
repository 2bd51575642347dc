#include "stdout_aside.hpp"

#include <azl/common/error.hpp>
#include <azl/common/win32/win32.hpp>

#include <io.h>
#include <windows.h>

#include <cstdio>

namespace azl::app
{

StdoutAside::StdoutAside()
{
    (void)std::fflush(stdout);
    // A copy of descriptor 1 and its handle: _dup2 below closes the handle descriptor 1 had.
    m_saved = ::_dup(1);
    if (m_saved < 0)
    {
        throw SystemError("redirecting standard output", "the C runtime refused");
    }
    m_saved_handle = reinterpret_cast<void*>(::_get_osfhandle(m_saved));
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
    (void)::SetStdHandle(STD_OUTPUT_HANDLE, reinterpret_cast<HANDLE>(::_get_osfhandle(1)));
}

void StdoutAside::write(std::string_view text)
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
