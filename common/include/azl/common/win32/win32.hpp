#pragma once
// Windows-only helpers for the win32/ sources of every library: UTF-8 <-> UTF-16 at the API
// boundary, Win32 error text, and an owning HANDLE. Include it only from win32/ code.

#include <azl/common/error.hpp>
#include <azl/common/progress.hpp>

#include <windows.h>

#include <filesystem>
#include <string>
#include <string_view>

namespace azl::win32
{

// UTF-8 to UTF-16 for a W API; throws UserError naming `what` when the bytes are not UTF-8.
std::wstring to_wide(std::string_view utf8, std::string_view what = "text");

// UTF-16 from a W API to UTF-8; unpaired surrogates become U+FFFD.
std::string to_utf8(std::wstring_view wide);

// The system's message for a Win32 error code or HRESULT, UTF-8, without the trailing newline;
// "error 0x…" when the system has none.
std::string error_message(DWORD code);

// SystemError for `code`: "<what_we_did>: <system message>".
SystemError make_system_error(const std::string& what_we_did, DWORD code);

// Throws make_system_error(what_we_did, GetLastError()) — right after a failed Win32 call.
[[noreturn]] void throw_last_error(const std::string& what_we_did);

// Owns a kernel HANDLE; closes it on destruction. Null and INVALID_HANDLE_VALUE both mean none.
class UniqueHandle
{
public:
    UniqueHandle() = default;

    // Takes ownership of `handle`.
    explicit UniqueHandle(HANDLE handle) noexcept
        : m_handle(handle)
    {
    }

    UniqueHandle(const UniqueHandle&) = delete;
    UniqueHandle& operator=(const UniqueHandle&) = delete;
    UniqueHandle(UniqueHandle&& other) noexcept;
    UniqueHandle& operator=(UniqueHandle&& other) noexcept;
    ~UniqueHandle();

    // The handle, still owned.
    [[nodiscard]] HANDLE get() const noexcept
    {
        return m_handle;
    }

    // True when a handle is held.
    [[nodiscard]] explicit operator bool() const noexcept
    {
        return m_handle != nullptr && m_handle != INVALID_HANDLE_VALUE;
    }

    // Gives up ownership and returns the handle.
    HANDLE release() noexcept;

private:
    HANDLE m_handle = nullptr;
};

// Appends everything `pipe` delivers to `sink` until every writer has closed its end (a broken
// pipe is the end, not an error). `what` names the stream in errors ("a child's output").
void read_pipe(HANDLE pipe, std::string& sink, std::string_view what);

// Writes `data` to `pipe`, then closes it. A reader that stops reading (broken pipe) ends the
// write quietly: the program did not want the rest. `what` names the stream in errors.
void write_pipe(UniqueHandle pipe, std::string_view data, std::string_view what);

// System32, where wsl.exe and wslapi.dll live (GetSystemDirectoryW).
std::filesystem::path system_directory();

// The SHA-256 of a file as lowercase hex (CNG), with a progress bar labelled with its name.
std::string sha256_file(const std::filesystem::path& file, ProgressMode progress);

} // namespace azl::win32
