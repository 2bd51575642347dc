#include <azl/common/error.hpp>
#include <azl/common/fs.hpp>
#include <azl/common/process.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>

// POSIX has programs declare it; glibc's unistd.h does too, but only under _GNU_SOURCE.
// NOLINTNEXTLINE(cppcoreguidelines-avoid-non-const-global-variables): libc's, not ours
extern char** environ; // NOLINT(readability-redundant-declaration): see above

namespace azl
{

namespace fs = std::filesystem;

namespace
{

struct Pipe
{
    UniqueFd read;
    UniqueFd write;
};

Pipe make_pipe()
{
    std::array<int, 2> fds{};
    if (::pipe2(fds.data(), O_CLOEXEC) != 0)
    {
        throw_errno("creating a pipe");
    }
    return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

std::vector<std::string> build_environment(const ProcessOptions& options)
{
    std::map<std::string, std::string> env;
    if (options.env_base == EnvBase::inherit)
    {
        for (char** e = environ; e != nullptr && *e != nullptr; ++e)
        {
            const std::string_view entry(*e);
            const auto eq = entry.find('=');
            if (eq != std::string_view::npos)
            {
                env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
            }
        }
    }
    for (const auto& name : options.unset_env)
    {
        env.erase(name);
    }
    for (const auto& [name, value] : options.set_env)
    {
        env[name] = value;
    }
    std::vector<std::string> out;
    out.reserve(env.size());
    for (const auto& [name, value] : env)
    {
        out.push_back(fmt::format("{}={}", name, value));
    }
    return out;
}

std::vector<char*> c_strings(std::vector<std::string>& strings)
{
    std::vector<char*> out;
    out.reserve(strings.size() + 1);
    for (auto& s : strings)
    {
        out.push_back(s.data());
    }
    out.push_back(nullptr);
    return out;
}

[[noreturn]] void child_fail(int status_fd, int err)
{
    // Only async-signal-safe calls between fork and exec.
    // If even this fails, the parent still sees exit status 127, only without the reason.
    [[maybe_unused]] const ssize_t written = ::write(status_fd, &err, sizeof err);
    ::_exit(127);
}

// Runs in the child: wires the streams and execs. Never returns.
[[noreturn]] void exec_child(
    const fs::path& program,
    std::vector<char*>& argv,
    std::vector<char*>& envp,
    const ProcessOptions& options,
    std::array<int, 3> stdio,
    int status_fd)
{
    for (int i = 0; i < 3; ++i)
    {
        if (stdio.at(static_cast<std::size_t>(i)) >= 0
            && ::dup2(stdio.at(static_cast<std::size_t>(i)), i) < 0)
        {
            child_fail(status_fd, errno);
        }
    }
    if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0)
    {
        child_fail(status_fd, errno);
    }
    (void)::signal(SIGPIPE, SIG_DFL); // cannot fail for a valid signal and handler
    if (options.in_child)
    {
        if (const int err = options.in_child(); err != 0)
        {
            child_fail(status_fd, err);
        }
    }
    ::execve(program.c_str(), argv.data(), envp.data());
    child_fail(status_fd, errno);
}

int open_null(int flags)
{
    const int fd = ::open("/dev/null", flags | O_CLOEXEC);
    if (fd < 0)
    {
        throw_errno("opening /dev/null");
    }
    return fd;
}

// Blocks SIGPIPE for this thread while writing to a child's stdin, and swallows one raised
// meanwhile, so that a child that exits without reading its input gives EPIPE
// instead of killing us.
class SigpipeBlock
{
public:
    SigpipeBlock()
    {
        sigemptyset(&m_set);
        sigaddset(&m_set, SIGPIPE);
        ::pthread_sigmask(SIG_BLOCK, &m_set, &m_old);
    }

    SigpipeBlock(const SigpipeBlock&) = delete;
    SigpipeBlock& operator=(const SigpipeBlock&) = delete;
    SigpipeBlock(SigpipeBlock&&) = delete;
    SigpipeBlock& operator=(SigpipeBlock&&) = delete;

    ~SigpipeBlock()
    {
        const timespec zero = {};
        while (::sigtimedwait(&m_set, nullptr, &zero) > 0)
        {
        }
        ::pthread_sigmask(SIG_SETMASK, &m_old, nullptr);
    }

private:
    sigset_t m_set{};
    sigset_t m_old{};
};

// Moves data between us and the child until its pipes close or the deadline passes.
bool pump(
    Pipe* in,
    std::string_view in_data,
    Pipe* out,
    Pipe* err,
    ProcessResult& result,
    std::optional<std::chrono::steady_clock::time_point> deadline)
{
    std::size_t in_off = 0;
    std::array<char, 65536> buf{};
    for (;;)
    {
        std::array<pollfd, 3> fds{};
        nfds_t n = 0;
        std::array<int, 3> which{};
        if (in != nullptr && in->write)
        {
            fds.at(n) = {in->write.get(), POLLOUT, 0};
            which.at(n++) = 0;
        }
        if (out != nullptr && out->read)
        {
            fds.at(n) = {out->read.get(), POLLIN, 0};
            which.at(n++) = 1;
        }
        if (err != nullptr && err->read)
        {
            fds.at(n) = {err->read.get(), POLLIN, 0};
            which.at(n++) = 2;
        }
        if (n == 0)
        {
            return true;
        }
        int wait_ms = -1;
        if (deadline)
        {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                *deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0)
            {
                return false;
            }
            wait_ms = static_cast<int>(left.count());
        }
        const int r = ::poll(fds.data(), n, wait_ms);
        if (r < 0)
        {
            if (errno == EINTR)
            {
                continue;
            }
            throw_errno("waiting for a child process");
        }
        if (r == 0)
        {
            return false;
        }
        for (nfds_t i = 0; i < n; ++i)
        {
            if (fds.at(i).revents == 0)
            {
                continue;
            }
            if (which.at(i) == 0)
            {
                const std::string_view rest = in_data.substr(in_off);
                const ssize_t w =
                    rest.empty() ? 0 : ::write(in->write.get(), rest.data(), rest.size());
                if (w > 0)
                {
                    in_off += static_cast<std::size_t>(w);
                }
                if (rest.empty() || (w < 0 && errno != EINTR && errno != EAGAIN)
                    || in_off >= in_data.size())
                {
                    in->write = UniqueFd(); // EOF (or the child stopped reading: EPIPE)
                }
                continue;
            }
            Pipe* p = which.at(i) == 1 ? out : err;
            std::string& sink = which.at(i) == 1 ? result.out : result.err;
            const ssize_t got = ::read(p->read.get(), buf.data(), buf.size());
            if (got > 0)
            {
                sink.append(buf.data(), static_cast<std::size_t>(got));
            }
            else if (got == 0 || (errno != EINTR && errno != EAGAIN))
            {
                p->read = UniqueFd();
            }
        }
    }
}

ProcessResult finish(ProcessResult& result, int wstatus)
{
    if (WIFEXITED(wstatus))
    {
        result.exit_code = WEXITSTATUS(wstatus);
    }
    else if (WIFSIGNALED(wstatus))
    {
        result.signal = WTERMSIG(wstatus);
        result.exit_code = 128 + *result.signal;
    }
    return std::move(result);
}

} // namespace

std::optional<fs::path> find_program(const std::string& name)
{
    if (name.empty())
    {
        return std::nullopt;
    }
    if (name.find('/') != std::string::npos)
    {
        return ::access(name.c_str(), X_OK) == 0 ? std::optional<fs::path>(name) : std::nullopt;
    }
    const char* path_env = std::getenv("PATH");
    const std::string path = path_env != nullptr ? path_env : "/usr/local/bin:/usr/bin:/bin";
    std::size_t start = 0;
    while (start <= path.size())
    {
        const auto end = std::min(path.find(':', start), path.size());
        const fs::path dir =
            end == start ? fs::path(".") : fs::path(path.substr(start, end - start));
        const fs::path candidate = dir / name;
        struct stat st = {};
        if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode)
            && ::access(candidate.c_str(), X_OK) == 0)
        {
            return candidate;
        }
        start = end + 1;
    }
    return std::nullopt;
}

ProcessResult run_process(const std::vector<std::string>& argv_in, const ProcessOptions& options)
{
    if (argv_in.empty())
    {
        throw std::invalid_argument("run_process: empty argv");
    }
    const auto program =
        options.in_child ? std::optional<fs::path>(argv_in.front()) : find_program(argv_in.front());
    if (!program || (options.in_child && !program->is_absolute()))
    {
        throw UserError(
            fmt::format("cannot run {}: program not found", argv_in.front()),
            fmt::format("install {} or add it to PATH", argv_in.front()));
    }
    std::vector<std::string> argv_copy = argv_in;
    std::vector<std::string> env_strings = build_environment(options);
    std::vector<char*> argv = c_strings(argv_copy);
    std::vector<char*> envp = c_strings(env_strings);

    std::optional<Pipe> in_pipe;
    std::optional<Pipe> out_pipe;
    std::optional<Pipe> err_pipe;
    UniqueFd in_null;
    UniqueFd out_null;
    UniqueFd err_null;
    std::array<int, 3> stdio = {-1, -1, -1};
    if (options.stdin_data)
    {
        in_pipe = make_pipe();
        stdio[0] = in_pipe->read.get();
    }
    else if (options.stdin_mode != Stream::inherit)
    {
        in_null = UniqueFd(open_null(O_RDONLY));
        stdio[0] = in_null.get();
    }
    const auto wire = [](Stream mode, std::optional<Pipe>& pipe, UniqueFd& null_fd, int& slot)
    {
        if (mode == Stream::capture)
        {
            pipe = make_pipe();
            slot = pipe->write.get();
        }
        else if (mode == Stream::null)
        {
            null_fd = UniqueFd(open_null(O_WRONLY));
            slot = null_fd.get();
        }
    };
    wire(options.stdout_mode, out_pipe, out_null, stdio[1]);
    wire(options.stderr_mode, err_pipe, err_null, stdio[2]);
    Pipe status = make_pipe();

    const pid_t pid = ::fork();
    if (pid < 0)
    {
        throw_errno(fmt::format("starting {}", argv_in.front()));
    }
    if (pid == 0)
    {
        exec_child(*program, argv, envp, options, stdio, status.write.get());
    }
    status.write = UniqueFd();
    // Close the child's ends in the parent so EOF arrives when the child exits.
    if (in_pipe)
    {
        in_pipe->read = UniqueFd();
    }
    if (out_pipe)
    {
        out_pipe->write = UniqueFd();
    }
    if (err_pipe)
    {
        err_pipe->write = UniqueFd();
    }

    // Our ends never block: pump() multiplexes them with poll().
    for (const UniqueFd* fd :
         {in_pipe ? &in_pipe->write : nullptr,
          out_pipe ? &out_pipe->read : nullptr,
          err_pipe ? &err_pipe->read : nullptr})
    {
        if (fd != nullptr && ::fcntl(fd->get(), F_SETFL, O_NONBLOCK) != 0)
        {
            throw_errno("configuring a pipe");
        }
    }

    int exec_errno = 0;
    ssize_t got = 0;
    do
    {
        got = ::read(status.read.get(), &exec_errno, sizeof exec_errno);
    } while (got < 0 && errno == EINTR);

    ProcessResult result;
    bool finished = true;
    if (got <= 0)
    {
        std::optional<std::chrono::steady_clock::time_point> deadline;
        if (options.timeout)
        {
            deadline = std::chrono::steady_clock::now() + *options.timeout;
        }
        const SigpipeBlock no_sigpipe; // a child that stops reading must not kill us
        finished = pump(
            in_pipe ? &*in_pipe : nullptr,
            options.stdin_data ? std::string_view(*options.stdin_data) : std::string_view(),
            out_pipe ? &*out_pipe : nullptr,
            err_pipe ? &*err_pipe : nullptr,
            result,
            deadline);
        if (!finished)
        {
            ::kill(pid, SIGKILL);
            result.timed_out = true;
        }
    }
    int wstatus = 0;
    if (finished && got <= 0 && options.timeout)
    {
        // The pipes closed (or none were captured) but the child may still run: keep the deadline.
        const auto deadline = std::chrono::steady_clock::now() + *options.timeout;
        pid_t w = 0;
        while ((w = ::waitpid(pid, &wstatus, WNOHANG)) == 0
               && std::chrono::steady_clock::now() < deadline)
        {
            ::usleep(5000);
        }
        if (w == pid)
        {
            return finish(result, wstatus);
        }
        ::kill(pid, SIGKILL);
        result.timed_out = true;
    }
    while (::waitpid(pid, &wstatus, 0) < 0)
    {
        if (errno != EINTR)
        {
            throw_errno(fmt::format("waiting for {}", argv_in.front()));
        }
    }
    if (got > 0)
    {
        throw UserError(
            fmt::format("cannot run {}: {}", program->string(), std::strerror(exec_errno)));
    }
    return finish(result, wstatus);
}

} // namespace azl
