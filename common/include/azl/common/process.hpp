#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace azl
{

// Where a child's standard stream goes.
enum class Stream
{
    inherit, // shares ours
    capture, // collected into ProcessResult
    null,    // /dev/null
};

// Which environment the child starts from before `set_env`/`unset_env` apply.
enum class EnvBase
{
    inherit, // a copy of ours
    empty,   // nothing: pass only what the child needs (e.g. secrets stay out of other children)
};

// How to run one program. The program is never run through a shell.
struct ProcessOptions
{
    std::optional<std::string>
        stdin_data;                   // written to the child's stdin, then closed; else /dev/null
    Stream stdin_mode = Stream::null; // used when stdin_data is empty: inherit or null
    Stream stdout_mode = Stream::capture;
    Stream stderr_mode = Stream::capture;
    EnvBase env_base = EnvBase::inherit;
    std::map<std::string, std::string> set_env;
    std::vector<std::string> unset_env;
    std::filesystem::path cwd; // empty: ours
    std::optional<std::chrono::milliseconds>
        timeout; // the child is killed (SIGKILL) when it expires
    // POSIX only: runs in the child after its streams are wired, just before exec (e.g. to enter
    // namespaces). Async-signal-safe calls only; returns 0, or an errno value that fails the start.
    // When set, argv[0] must be an absolute path, exec'd as is: it names a file of the world the
    // hook enters, which need not exist in ours.
    std::function<int()> in_child;
};

// What happened to the child.
struct ProcessResult
{
    int exit_code = 0;         // exit status, or 128+signal when killed by a signal
    std::optional<int> signal; // the signal that ended it, if any
    bool timed_out = false;    // killed because the timeout expired
    std::string out;           // captured stdout (when Stream::capture)
    std::string err;           // captured stderr (when Stream::capture)

    // True when it exited with 0.
    [[nodiscard]] bool ok() const noexcept
    {
        return exit_code == 0 && !signal && !timed_out;
    }
};

// Runs argv[0] (searched in PATH when it has no '/') with `argv`, waits for it and returns the
// result. Throws UserError when the program cannot be found or started.
ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options = {});

// Looks `name` up in PATH (or returns it when it contains '/' and is executable).
std::optional<std::filesystem::path> find_program(const std::string& name);

} // namespace azl
