#pragma once
// `azurelinux relay`: the Windows half of the guest's credential relays. The guest's relay starts
// it through WSL interop once per connection, with that connection as its stdin and stdout.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace azl::launcher
{

// \\.\pipe\NAME for a pipe name (a full \\.\pipe\ path is kept as it is); UserError for a name
// that is empty, too long, or holds a path separator.
std::string named_pipe_path(std::string_view name);

// Copies stdin to the named pipe and the pipe to stdout until either side ends (the client closed
// its connection, or the agent closed the pipe); waits for a busy pipe. Returns the exit status.
// UserError, with what to start, when nothing listens on the pipe. Windows only: elsewhere a
// UserError says so.
int relay_named_pipe(std::string_view name);

// What GnuPG's libassuan writes on Windows in place of a Unix socket: the TCP port on 127.0.0.1
// the agent listens on, and the 16 bytes a client must send first.
struct AssuanSocket
{
    std::uint16_t port = 0;
    std::array<unsigned char, 16> nonce{};
};

// Parses a socket file's content (the port in decimal, a line feed, the 16-byte nonce); UserError
// naming `file` for anything else.
AssuanSocket parse_assuan_socket(std::string_view content, std::string_view file);

// Copies stdin and stdout to the agent behind the socket file (Gpg4win's S.gpg-agent.extra, …):
// connects to its port, sends the nonce, then copies both ways until either side ends. Returns the
// exit status; UserError when the file is missing or malformed, or nothing listens. Windows only.
int relay_assuan(std::string_view socket_file);

} // namespace azl::launcher
