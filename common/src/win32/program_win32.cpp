#include <azl/common/program.hpp>
#include <azl/common/win32/win32.hpp>

#include <shellapi.h>

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

} // namespace azl
