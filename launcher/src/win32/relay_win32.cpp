// `relay --pipe`: stdin and stdout to a named pipe, one thread per direction. The pipe is opened
// for overlapped I/O: a handle opened for synchronous I/O serialises every call on it, so a read
// waiting for the agent's reply would hold back the next request.
#include <azl/common/error.hpp>
#include <azl/common/win32/win32.hpp>
#include <azl/launcher/relay.hpp>

#include <fmt/format.h>

#include <windows.h>

#include <array>
#include <memory>

namespace azl::launcher
{

namespace
{

constexpr DWORD kBufferSize = 64 * 1024;
constexpr DWORD kBusyWaitMs = 10'000;

struct Relay
{
    HANDLE in = nullptr;  // our stdin (the guest's connection, through interop)
    HANDLE out = nullptr; // our stdout
    win32::UniqueHandle pipe;
};

// An event for one direction's overlapped calls on the pipe.
win32::UniqueHandle make_event()
{
    win32::UniqueHandle event(::CreateEventW(nullptr, TRUE, FALSE, nullptr));
    if (!event)
    {
        win32::throw_last_error("creating an event");
    }
    return event;
}

// Writes all of data to the overlapped pipe; false when the pipe is gone.
bool write_pipe_all(HANDLE pipe, HANDLE event, const char* data, DWORD size)
{
    while (size > 0)
    {
        OVERLAPPED ov{};
        ov.hEvent = event;
        DWORD done = 0;
        if (::WriteFile(pipe, data, size, nullptr, &ov) == FALSE
            && ::GetLastError() != ERROR_IO_PENDING)
        {
            return false;
        }
        if (::GetOverlappedResult(pipe, &ov, &done, TRUE) == FALSE)
        {
            return false;
        }
        data += done; // NOLINT(cppcoreguidelines-pro-bounds-pointer-arithmetic): within the buffer
        size -= done;
    }
    return true;
}

// Writes all of data to a synchronous handle (stdout); false when its reader is gone.
bool write_all_sync(HANDLE handle, const char* data, DWORD size)
{
    while (size > 0)
    {
        DWORD done = 0;
        if (::WriteFile(handle, data, size, &done, nullptr) == FALSE || done == 0)
        {
            return false;
        }
        data += done; // NOLINT(cppcoreguidelines-pro-bounds-pointer-arithmetic): within the buffer
        size -= done;
    }
    return true;
}

DWORD WINAPI stdin_to_pipe(void* param)
{
    auto* relay = static_cast<Relay*>(param);
    const auto event = make_event();
    auto buf = std::make_unique<std::array<char, kBufferSize>>();
    for (;;)
    {
        DWORD n = 0;
        if (::ReadFile(relay->in, buf->data(), kBufferSize, &n, nullptr) == FALSE || n == 0)
        {
            return 0; // the client closed its connection
        }
        if (!write_pipe_all(relay->pipe.get(), event.get(), buf->data(), n))
        {
            return 0; // the agent is gone
        }
    }
}

DWORD WINAPI pipe_to_stdout(void* param)
{
    auto* relay = static_cast<Relay*>(param);
    const auto event = make_event();
    auto buf = std::make_unique<std::array<char, kBufferSize>>();
    for (;;)
    {
        OVERLAPPED ov{};
        ov.hEvent = event.get();
        DWORD n = 0;
        if (::ReadFile(relay->pipe.get(), buf->data(), kBufferSize, nullptr, &ov) == FALSE
            && ::GetLastError() != ERROR_IO_PENDING && ::GetLastError() != ERROR_MORE_DATA)
        {
            return 0; // the agent closed the pipe (ERROR_BROKEN_PIPE)
        }
        // A message-mode pipe hands a long message over in parts (ERROR_MORE_DATA): bytes all.
        if (::GetOverlappedResult(relay->pipe.get(), &ov, &n, TRUE) == FALSE
            && ::GetLastError() != ERROR_MORE_DATA)
        {
            return 0;
        }
        if (n > 0 && !write_all_sync(relay->out, buf->data(), n))
        {
            return 0; // the client is gone
        }
    }
}

win32::UniqueHandle open_pipe(const std::string& path)
{
    const std::wstring wide = win32::to_wide(path, "the pipe's name");
    for (;;)
    {
        win32::UniqueHandle pipe(::CreateFileW(
            wide.c_str(),
            GENERIC_READ | GENERIC_WRITE,
            0,
            nullptr,
            OPEN_EXISTING,
            FILE_FLAG_OVERLAPPED,
            nullptr));
        if (pipe)
        {
            return pipe;
        }
        const DWORD error = ::GetLastError();
        if (error == ERROR_PIPE_BUSY)
        {
            // Every instance serves another client: wait for one (the agent makes more).
            if (::WaitNamedPipeW(wide.c_str(), kBusyWaitMs) == FALSE)
            {
                throw UserError(
                    fmt::format("{} stayed busy for {} s", path, kBusyWaitMs / 1000),
                    "try again; the agent serves one client per pipe instance");
            }
            continue;
        }
        if (error == ERROR_FILE_NOT_FOUND)
        {
            throw UserError(
                fmt::format("nothing listens on {}", path),
                "start the agent; for OpenSSH's (as administrator): Get-Service ssh-agent | "
                "Set-Service -StartupType Automatic; Start-Service ssh-agent");
        }
        throw win32::make_system_error(fmt::format("opening {}", path), error);
    }
}

} // namespace

int relay_named_pipe(std::string_view name)
{
    const std::string path = named_pipe_path(name);
    // Both threads may still be blocked in a read when the first one ends; the process exits right
    // after this returns, ending them, so their shared state is never freed under them.
    auto* relay = new Relay{// NOLINT(cppcoreguidelines-owning-memory): outlives the threads
                            ::GetStdHandle(STD_INPUT_HANDLE),
                            ::GetStdHandle(STD_OUTPUT_HANDLE),
                            open_pipe(path)};
    std::array<HANDLE, 2> threads{
        ::CreateThread(nullptr, 0, stdin_to_pipe, relay, 0, nullptr),
        ::CreateThread(nullptr, 0, pipe_to_stdout, relay, 0, nullptr)};
    if (threads[0] == nullptr || threads[1] == nullptr)
    {
        win32::throw_last_error("starting the relay's threads");
    }
    // Either direction ending ends the relay: the connection it served is over.
    ::WaitForMultipleObjects(static_cast<DWORD>(threads.size()), threads.data(), FALSE, INFINITE);
    return 0;
}

} // namespace azl::launcher
