#include <azl/common/win32/win32.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>

// Reading and writing a pipe to its end: for the children run_process starts and for the Linux
// programs WslLaunch starts, the same way.

namespace azl::win32
{

void read_pipe(HANDLE pipe, std::string& sink, std::string_view what)
{
    std::array<char, 65536> buf{};
    for (;;)
    {
        DWORD n = 0;
        if (::ReadFile(pipe, buf.data(), static_cast<DWORD>(buf.size()), &n, nullptr) == 0)
        {
            const DWORD err = ::GetLastError();
            if (err == ERROR_BROKEN_PIPE)
            {
                return; // every writer closed its end
            }
            throw make_system_error(fmt::format("reading {}", what), err);
        }
        sink.append(buf.data(), n);
    }
}

void write_pipe(UniqueHandle pipe, std::string_view data, std::string_view what)
{
    std::size_t off = 0;
    while (off < data.size())
    {
        DWORD n = 0;
        const auto chunk = static_cast<DWORD>(std::min<std::size_t>(data.size() - off, 1U << 20U));
        if (::WriteFile(pipe.get(), data.data() + off, chunk, &n, nullptr) == 0)
        {
            const DWORD err = ::GetLastError();
            if (err == ERROR_BROKEN_PIPE || err == ERROR_NO_DATA)
            {
                return; // the program stopped reading its input
            }
            throw make_system_error(fmt::format("writing {}", what), err);
        }
        off += n;
    }
}

} // namespace azl::win32
