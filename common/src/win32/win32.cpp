#include <azl/common/c_ptr.hpp>
#include <azl/common/error.hpp>
#include <azl/common/win32/win32.hpp>

#include <fmt/format.h>

#include <utility>

namespace azl::win32
{

std::wstring to_wide(std::string_view utf8, std::string_view what)
{
    if (utf8.empty())
    {
        return {};
    }
    const int size = static_cast<int>(utf8.size());
    const int needed =
        ::MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8.data(), size, nullptr, 0);
    if (needed <= 0)
    {
        throw UserError(
            fmt::format("{} is not valid UTF-8", what), "pass names and paths as Unicode text");
    }
    std::wstring out(static_cast<std::size_t>(needed), L'\0');
    ::MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8.data(), size, out.data(), needed);
    return out;
}

std::string to_utf8(std::wstring_view wide)
{
    if (wide.empty())
    {
        return {};
    }
    const int size = static_cast<int>(wide.size());
    const int needed =
        ::WideCharToMultiByte(CP_UTF8, 0, wide.data(), size, nullptr, 0, nullptr, nullptr);
    if (needed <= 0)
    {
        throw_last_error("converting text to UTF-8");
    }
    std::string out(static_cast<std::size_t>(needed), '\0');
    ::WideCharToMultiByte(CP_UTF8, 0, wide.data(), size, out.data(), needed, nullptr, nullptr);
    return out;
}

std::string error_message(DWORD code)
{
    wchar_t* raw = nullptr;
    const DWORD length = ::FormatMessageW(
        FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
        nullptr,
        code,
        0,
        reinterpret_cast<wchar_t*>(&raw), // ALLOCATE_BUFFER's documented calling form
        0,
        nullptr);
    const UniqueCPtr<wchar_t, &::LocalFree> buffer(raw);
    // Converted here, not by to_utf8: its failure is reported through this function, so a
    // conversion that keeps failing would recurse until the stack ran out. Without text, the code.
    std::string text;
    if (length > 0 && buffer != nullptr)
    {
        const int size = static_cast<int>(length);
        const int needed =
            ::WideCharToMultiByte(CP_UTF8, 0, buffer.get(), size, nullptr, 0, nullptr, nullptr);
        if (needed > 0)
        {
            text.resize(static_cast<std::size_t>(needed));
            if (::WideCharToMultiByte(
                    CP_UTF8, 0, buffer.get(), size, text.data(), needed, nullptr, nullptr)
                != needed)
            {
                text.clear();
            }
        }
    }
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
    {
        text.pop_back();
    }
    if (text.empty())
    {
        return fmt::format("error 0x{:08x}", static_cast<unsigned long>(code));
    }
    return text;
}

SystemError make_system_error(const std::string& what_we_did, DWORD code)
{
    return {what_we_did, error_message(code)};
}

void throw_last_error(const std::string& what_we_did)
{
    throw make_system_error(what_we_did, ::GetLastError());
}

UniqueHandle::UniqueHandle(UniqueHandle&& other) noexcept
    : m_handle(other.release())
{
}

UniqueHandle& UniqueHandle::operator=(UniqueHandle&& other) noexcept
{
    if (this != &other)
    {
        if (*this)
        {
            ::CloseHandle(m_handle);
        }
        m_handle = other.release();
    }
    return *this;
}

UniqueHandle::~UniqueHandle()
{
    if (*this)
    {
        ::CloseHandle(m_handle);
    }
}

HANDLE UniqueHandle::release() noexcept
{
    return std::exchange(m_handle, nullptr);
}

std::filesystem::path system_directory()
{
    std::wstring buffer(MAX_PATH, L'\0');
    for (;;)
    {
        const UINT n = ::GetSystemDirectoryW(buffer.data(), static_cast<UINT>(buffer.size()));
        if (n == 0)
        {
            throw_last_error("finding the System32 folder");
        }
        if (n < buffer.size())
        {
            buffer.resize(n);
            return buffer;
        }
        buffer.resize(n);
    }
}

} // namespace azl::win32
