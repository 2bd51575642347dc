#include "daemon.hpp"

#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

namespace azl::integration
{

namespace fs = std::filesystem;

namespace
{

// A daemon must not hold its starter's pipes and sockets open (a `$(…)` capture, a test harness's
// output): whoever waits for their end would wait for the daemon. Files (the log) stay open.
void close_inherited_pipes(int keep)
{
    std::vector<int> fds;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/proc/self/fd", ec))
    {
        int fd = -1;
        const auto name = entry.path().filename().string();
        std::from_chars(name.data(), name.data() + name.size(), fd);
        struct stat st = {};
        if (fd > 2 && fd != keep && ::fstat(fd, &st) == 0 && !S_ISREG(st.st_mode))
        {
            fds.push_back(fd);
        }
    }
    for (const int fd : fds)
    {
        ::close(fd);
    }
}

} // namespace

void daemon_report(int fd, std::string_view message)
{
    if (fd >= 0)
    {
        // Best effort: if the pipe is gone there is no one left to tell.
        [[maybe_unused]] const ssize_t written = ::write(fd, message.data(), message.size());
        ::close(fd);
    }
}

void run_detached(const std::function<int(int ready_fd)>& body, DaemonNames names)
{
    std::array<int, 2> p{};
    if (::pipe2(p.data(), O_CLOEXEC) != 0)
    {
        throw_errno("creating a pipe");
    }
    const pid_t pid = ::fork();
    if (pid < 0)
    {
        throw_errno(fmt::format("starting {} in the background", names.what));
    }
    if (pid == 0)
    {
        ::close(p[0]);
        ::setsid();
        const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        for (const int fd : {0, 1, 2})
        {
            ::dup2(null, fd);
        }
        close_inherited_pipes(p[1]);
        int code = 0;
        try
        {
            code = body(p[1]);
        }
        catch (const std::exception& e)
        {
            daemon_report(p[1], e.what());
            code = 1;
        }
        std::_Exit(code);
    }
    ::close(p[1]);
    const UniqueFd read_end(p[0]);
    std::string message;
    std::array<char, 512> buf{};
    ssize_t n = 0;
    while ((n = ::read(read_end.get(), buf.data(), buf.size())) != 0)
    {
        if (n < 0 && errno == EINTR)
        {
            continue;
        }
        if (n < 0)
        {
            break;
        }
        message.append(buf.data(), static_cast<std::size_t>(n));
    }
    if (message == "ok")
    {
        return;
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (message == "running")
    {
        return;
    }
    throw UserError(
        fmt::format(
            "{} could not start: {}", names.what, message.empty() ? "it exited at once" : message),
        std::string(names.hint));
}

} // namespace azl::integration
