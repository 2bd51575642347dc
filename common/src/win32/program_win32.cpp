#include <azl/common/program.hpp>
#include <azl/common/win32/win32.hpp>

#include <io.h>
#include <shellapi.h>

#include <cstdio>
#include <memory>
#include <string>

namespace azl
{

namespace
{

struct LocalFreer
{
    void operator()(wchar_t** p) const noexcept
    {
        ::LocalFree(static_cast<void*>(p));
    }
};

} // namespace

std::vector<std::string> utf8_arguments(int /*argc*/, char** /*argv*/)
{
    int count = 0;
    const std::unique_ptr<wchar_t*, LocalFreer> wide(
        ::CommandLineToArgvW(::GetCommandLineW(), &count));
    if (!wide)
    {
        win32::throw_last_error("reading the command line");
    }
    std::vector<std::string> out;
    out.reserve(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i)
    {
        out.push_back(win32::to_utf8(wide.get()[i]));
    }
    return out;
}

void setup_utf8_console()
{
    // fmt::print and spdlog write UTF-8 bytes; with code page 65001 the console shows them as text.
    ::SetConsoleOutputCP(CP_UTF8);
    ::SetConsoleCP(CP_UTF8);
}

std::filesystem::path executable_path()
{
    // GetModuleFileNameW truncates silently: grow until the name fits (long paths exceed MAX_PATH).
    std::wstring buf(MAX_PATH, L'\0');
    for (;;)
    {
        const DWORD n = ::GetModuleFileNameW(nullptr, buf.data(), static_cast<DWORD>(buf.size()));
        if (n == 0)
        {
            return {};
        }
        if (n < buf.size())
        {
            buf.resize(n);
            return {buf};
        }
        buf.resize(buf.size() * 2);
    }
}

bool standard_streams_are_terminal()
{
    DWORD mode = 0;
    return ::GetConsoleMode(::GetStdHandle(STD_INPUT_HANDLE), &mode) != 0
           && ::GetConsoleMode(::GetStdHandle(STD_OUTPUT_HANDLE), &mode) != 0;
}

StdoutToStderr::StdoutToStderr(bool enabled)
{
    if (!enabled)
    {
        return;
    }
    (void)std::fflush(stdout);
    m_saved_fd = ::_dup(1);
    if (m_saved_fd < 0 || ::_dup2(2, 1) != 0)
    {
        throw_errno("redirecting stdout to stderr");
    }
    // What children inherit: the process's standard handles, not the C runtime's descriptors.
    m_saved_handle = ::GetStdHandle(STD_OUTPUT_HANDLE);
    if (::SetStdHandle(STD_OUTPUT_HANDLE, ::GetStdHandle(STD_ERROR_HANDLE)) == 0)
    {
        win32::throw_last_error("redirecting stdout to stderr");
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
    if (m_saved_handle != nullptr)
    {
        ::SetStdHandle(STD_OUTPUT_HANDLE, m_saved_handle);
        m_saved_handle = nullptr;
    }
    ::_dup2(m_saved_fd, 1);
    ::_close(m_saved_fd);
    m_saved_fd = -1;
}

} // namespace azl
