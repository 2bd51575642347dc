// `relay`: stdin and stdout to a named pipe (--pipe) or to GnuPG's agent over TCP (--assuan), one
// thread per direction. The pipe is opened for overlapped I/O: a handle opened for synchronous I/O
// serialises every call on it, so a read waiting for the agent's reply would hold back the next
// request. A socket takes a send and a recv from two threads at once.
#include <azl/common/error.hpp>
#include <azl/common/win32/win32.hpp>
#include <azl/launcher/relay.hpp>

#include <fmt/format.h>

#include <windows.h>
#include <winsock2.h>

#include <algorithm>
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
    HANDLE in = nullptr;          // our stdin (the guest's connection, through interop)
    HANDLE out = nullptr;         // our stdout
    win32::UniqueHandle pipe;     // --pipe
    SOCKET sock = INVALID_SOCKET; // --assuan (closed by the process's exit)
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

DWORD WINAPI stdin_to_socket(void* param)
{
    auto* relay = static_cast<Relay*>(param);
    auto buf = std::make_unique<std::array<char, kBufferSize>>();
    for (;;)
    {
        DWORD n = 0;
        if (::ReadFile(relay->in, buf->data(), kBufferSize, &n, nullptr) == FALSE || n == 0)
        {
            // The client is done sending: so is the relay; the agent answers what it was sent,
            // then closes (Assuan ends a connection at its end of input).
            ::shutdown(relay->sock, SD_SEND);
            return 0;
        }
        const char* p = buf->data();
        while (n > 0)
        {
            const int sent = ::send(relay->sock, p, static_cast<int>(n), 0);
            if (sent <= 0)
            {
                return 0; // the agent is gone
            }
            p += sent; // NOLINT(cppcoreguidelines-pro-bounds-pointer-arithmetic): within the buffer
            n -= static_cast<DWORD>(sent);
        }
    }
}

DWORD WINAPI socket_to_stdout(void* param)
{
    auto* relay = static_cast<Relay*>(param);
    auto buf = std::make_unique<std::array<char, kBufferSize>>();
    for (;;)
    {
        const int n = ::recv(relay->sock, buf->data(), static_cast<int>(kBufferSize), 0);
        if (n <= 0 || !write_all_sync(relay->out, buf->data(), static_cast<DWORD>(n)))
        {
            return 0; // the agent closed the connection, or the client is gone
        }
    }
}

// Which end's closing ends the relay.
enum class EndsWith
{
    either, // a pipe has no half-close: the connection it served is over
    agent,  // a socket is half-closed at the client's end of input; the agent closes after
};

// Runs both directions until the relay ends. The threads may still be blocked in a read then: the
// process exits right after, ending them, so the relay's state is never freed under them.
int run_both(
    Relay* relay, LPTHREAD_START_ROUTINE to_agent, LPTHREAD_START_ROUTINE from_agent, EndsWith ends)
{
    std::array<HANDLE, 2> threads{
        ::CreateThread(nullptr, 0, to_agent, relay, 0, nullptr),
        ::CreateThread(nullptr, 0, from_agent, relay, 0, nullptr)};
    if (threads[0] == nullptr || threads[1] == nullptr)
    {
        win32::throw_last_error("starting the relay's threads");
    }
    if (ends == EndsWith::agent)
    {
        ::WaitForSingleObject(threads[1], INFINITE);
        return 0;
    }
    ::WaitForMultipleObjects(static_cast<DWORD>(threads.size()), threads.data(), FALSE, INFINITE);
    return 0;
}

// The socket file's content (small: a port and a nonce).
std::string read_socket_file(const std::string& file)
{
    const std::wstring wide = win32::to_wide(file, "the socket file's name");
    const win32::UniqueHandle handle(::CreateFileW(
        wide.c_str(),
        GENERIC_READ,
        FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
        nullptr,
        OPEN_EXISTING,
        FILE_ATTRIBUTE_NORMAL,
        nullptr));
    if (!handle)
    {
        const DWORD error = ::GetLastError();
        if (error == ERROR_FILE_NOT_FOUND || error == ERROR_PATH_NOT_FOUND)
        {
            throw UserError(
                fmt::format("there is no GnuPG agent socket file {}", file),
                "start GnuPG's agent on Windows: gpgconf --launch gpg-agent");
        }
        throw win32::make_system_error(fmt::format("opening {}", file), error);
    }
    std::array<char, 64> buf{};
    DWORD n = 0;
    if (::ReadFile(handle.get(), buf.data(), static_cast<DWORD>(buf.size()), &n, nullptr) == FALSE)
    {
        win32::throw_last_error(fmt::format("reading {}", file));
    }
    return {buf.data(), n};
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
    auto* relay = new Relay{// NOLINT(cppcoreguidelines-owning-memory): outlives the threads
                            ::GetStdHandle(STD_INPUT_HANDLE),
                            ::GetStdHandle(STD_OUTPUT_HANDLE),
                            open_pipe(path)};
    return run_both(relay, stdin_to_pipe, pipe_to_stdout, EndsWith::either);
}

int relay_assuan(std::string_view socket_file)
{
    const std::string file(socket_file);
    const AssuanSocket target = parse_assuan_socket(read_socket_file(file), file);
    WSADATA wsa{};
    if (const int rc = ::WSAStartup(MAKEWORD(2, 2), &wsa); rc != 0)
    {
        throw win32::make_system_error("starting Winsock", static_cast<DWORD>(rc));
    }
    auto* relay = new Relay{// NOLINT(cppcoreguidelines-owning-memory): outlives the threads
                            ::GetStdHandle(STD_INPUT_HANDLE),
                            ::GetStdHandle(STD_OUTPUT_HANDLE),
                            win32::UniqueHandle(),
                            ::socket(AF_INET, SOCK_STREAM, IPPROTO_TCP)};
    if (relay->sock == INVALID_SOCKET)
    {
        throw win32::make_system_error(
            "creating a socket", static_cast<DWORD>(::WSAGetLastError()));
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = ::htons(target.port);
    addr.sin_addr.s_addr = ::htonl(INADDR_LOOPBACK);
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
    if (::connect(relay->sock, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0)
    {
        throw UserError(
            fmt::format("GnuPG's agent does not answer on port {} named by {}", target.port, file),
            "start it on Windows: gpgconf --launch gpg-agent");
    }
    // libassuan's emulation: the nonce first, or the agent drops the connection.
    std::array<char, 16> nonce{};
    std::copy(target.nonce.begin(), target.nonce.end(), nonce.begin());
    if (::send(relay->sock, nonce.data(), static_cast<int>(nonce.size()), 0)
        != static_cast<int>(nonce.size()))
    {
        throw win32::make_system_error(
            "sending the nonce to GnuPG's agent", static_cast<DWORD>(::WSAGetLastError()));
    }
    return run_both(relay, stdin_to_socket, socket_to_stdout, EndsWith::agent);
}

} // namespace azl::launcher
