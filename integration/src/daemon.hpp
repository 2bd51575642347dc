#pragma once
// Starting a per-user server in the background from a login shell (private to the bridge).

#include <functional>
#include <string_view>

namespace azl::integration
{

// What a detached server is called in errors, and what to run to see why it did not start.
struct DaemonNames
{
    std::string_view what; // "the bridge"
    std::string_view hint; // "run `azurelinux-bridge serve -v` to see why"
};

// Runs `body(ready_fd)` in a new session, detached from the caller's terminal and pipes, and
// returns once it has reported "ok" or "running" on ready_fd (daemon_report); throws UserError
// with what it reported otherwise (or that it exited at once).
void run_detached(const std::function<int(int ready_fd)>& body, DaemonNames names);

// Tells the waiting starter how start-up went ("ok", "running" or an error) and closes `fd`;
// nothing when fd is -1 (not detached).
void daemon_report(int fd, std::string_view message);

} // namespace azl::integration
