#pragma once

#include <filesystem>
#include <functional>
#include <optional>

namespace azl::oobe
{

// Exit codes of azurelinux-oobe (oobe/README.md; it also says how they map onto azl::ExitCode).
enum class OobeExit : int
{
    done = 0,        // setup finished (or had already)
    user_input = 1,  // a problem with what the person typed or did (Ctrl-C, no terminal)
    bad_answers = 2, // the answers file is invalid for this image; nothing was changed
    step_failed = 3, // a step failed; the log names it; the next launch continues
};

// What a run does.
enum class Action
{
    setup, // first-run setup, or nothing when it is complete for these answers
    check, // validate the answers against this image; change nothing
    reset, // forget the state and log (image builders)
};

// Whether to change the system.
enum class DryRun
{
    no,
    yes,
};

// How --dry-run prints: for people, or one JSON document.
enum class Output
{
    text,
    json,
};

// The command line of azurelinux-oobe.
struct RunOptions
{
    std::optional<std::filesystem::path> answers_file;
    // The launcher's document of the Windows side's layers (--host-layers): used instead of
    // reading them through interop.
    std::optional<std::filesystem::path> host_layers_file;
    Action action = Action::setup;
    DryRun dry_run = DryRun::no;  // setup and reset: print what would be done instead
    Output output = Output::text; // --json: --dry-run prints one JSON document
    // Called with the log file's path just before the first change, to add it as a log sink.
    std::function<void(const std::filesystem::path&)> start_log_file;
};

// Runs first-run setup as described by `options`; returns the exit code. Throws UserError or
// SystemError for problems the caller reports.
OobeExit run_oobe(const RunOptions& options);

} // namespace azl::oobe
