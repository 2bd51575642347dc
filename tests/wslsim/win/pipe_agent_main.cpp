// wslsim-pipe-agent.exe PIPE PORT: a stand-in for the OpenSSH Authentication Agent service in the
// Wine prefix. Like the service it serves \\.\pipe\PIPE, a new pipe instance per client (byte
// mode, overlapped); each client is carried to 127.0.0.1:PORT, where the test forwards to a real
// ssh-agent on Linux (Wine gives a Windows process no Unix socket to a Linux program). It prints
// "ready" once the first instance exists and runs until killed.

#include <windows.h>
#include <winsock2.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace
{

struct Client
{
    HANDLE pipe = INVALID_HANDLE_VALUE;
    SOCKET sock = INVALID_SOCKET;
};

// Socket to pipe; the other direction runs in the client's own thread.
DWORD WINAPI socket_to_pipe(void* param)
{
    auto* c = static_cast<Client*>(param);
    std::array<char, 65536> buf{};
    HANDLE event = ::CreateEventW(nullptr, TRUE, FALSE, nullptr);
    for (;;)
    {
        const int n = ::recv(c->sock, buf.data(), static_cast<int>(buf.size()), 0);
        if (n <= 0)
        {
            break;
        }
        OVERLAPPED ov{};
        ov.hEvent = event;
        DWORD done = 0;
        if ((::WriteFile(c->pipe, buf.data(), static_cast<DWORD>(n), nullptr, &ov) == FALSE
             && ::GetLastError() != ERROR_IO_PENDING)
            || ::GetOverlappedResult(c->pipe, &ov, &done, TRUE) == FALSE)
        {
            break;
        }
    }
    ::CloseHandle(event);
    ::DisconnectNamedPipe(c->pipe); // the agent side closes: the relay sees the pipe end
    return 0;
}

DWORD WINAPI serve_client(void* param)
{
    auto* c = static_cast<Client*>(param);
    HANDLE other = ::CreateThread(nullptr, 0, socket_to_pipe, c, 0, nullptr);
    std::array<char, 65536> buf{};
    HANDLE event = ::CreateEventW(nullptr, TRUE, FALSE, nullptr);
    for (;;)
    {
        OVERLAPPED ov{};
        ov.hEvent = event;
        DWORD n = 0;
        if ((::ReadFile(c->pipe, buf.data(), static_cast<DWORD>(buf.size()), nullptr, &ov) == FALSE
             && ::GetLastError() != ERROR_IO_PENDING)
            || ::GetOverlappedResult(c->pipe, &ov, &n, TRUE) == FALSE || n == 0)
        {
            break;
        }
        if (::send(c->sock, buf.data(), static_cast<int>(n), 0) != static_cast<int>(n))
        {
            break;
        }
    }
    ::shutdown(c->sock, SD_BOTH);
    ::WaitForSingleObject(other, INFINITE);
    ::CloseHandle(other);
    ::CloseHandle(event);
    ::closesocket(c->sock);
    ::CloseHandle(c->pipe);
    delete c; // NOLINT(cppcoreguidelines-owning-memory): handed over by main
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc != 3)
    {
        (void)std::fputs("usage: wslsim-pipe-agent PIPE PORT\n", stderr);
        return 2;
    }
    WSADATA wsa{};
    ::WSAStartup(MAKEWORD(2, 2), &wsa);
    const std::string name = std::string(R"(\\.\pipe\)") + argv[1];
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = ::htons(static_cast<u_short>(std::strtoul(argv[2], nullptr, 10)));
    addr.sin_addr.s_addr = ::htonl(INADDR_LOOPBACK);
    bool announced = false;
    for (;;)
    {
        HANDLE pipe = ::CreateNamedPipeA(
            name.c_str(),
            PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED,
            PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT,
            PIPE_UNLIMITED_INSTANCES,
            65536,
            65536,
            0,
            nullptr);
        if (pipe == INVALID_HANDLE_VALUE)
        {
            (void)std::fprintf(stderr, "CreateNamedPipe: %lu\n", ::GetLastError());
            return 1;
        }
        if (!announced)
        {
            std::puts("ready");
            (void)std::fflush(stdout);
            announced = true;
        }
        OVERLAPPED ov{};
        ov.hEvent = ::CreateEventW(nullptr, TRUE, FALSE, nullptr);
        DWORD ignored = 0;
        const BOOL connected = ::ConnectNamedPipe(pipe, &ov);
        const DWORD error = connected != FALSE ? 0 : ::GetLastError();
        if (error == ERROR_IO_PENDING)
        {
            ::GetOverlappedResult(pipe, &ov, &ignored, TRUE);
        }
        ::CloseHandle(ov.hEvent);
        if (error != 0 && error != ERROR_IO_PENDING && error != ERROR_PIPE_CONNECTED)
        {
            ::CloseHandle(pipe);
            continue;
        }
        SOCKET sock = ::socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
        // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
        if (::connect(sock, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0)
        {
            ::closesocket(sock);
            ::CloseHandle(pipe);
            continue;
        }
        // NOLINTNEXTLINE(cppcoreguidelines-owning-memory): freed by serve_client
        auto* client = new Client{pipe, sock};
        HANDLE thread = ::CreateThread(nullptr, 0, serve_client, client, 0, nullptr);
        ::CloseHandle(thread);
    }
}
