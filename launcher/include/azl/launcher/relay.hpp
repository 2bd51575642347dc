#pragma once
// `azurelinux relay`: the Windows half of the guest's credential relays. The guest's relay starts
// it through WSL interop once per connection, with that connection as its stdin and stdout.

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

} // namespace azl::launcher
