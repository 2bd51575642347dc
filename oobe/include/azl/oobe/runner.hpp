#pragma once

#include <filesystem>
#include <functional>
#include <optional>

namespace azl::oobe
{

// Exit codes of azurelinux-oobe (documented in oobe/README.md).
enum class OobeExit : int
{
    done = 0,        // setup finished (or had already)
    user_input = 1,  // a problem with what the person typed or did (Ctrl-C, no terminal)
    bad_answers = 2, // the answers file is invalid for this image; nothing was changed
    step_failed = 3, // a step failed; the log names it; the next launch continues
};

// Whether to change the system.
enum class DryRun
{
    no,
    yes,
};

// The command line of azurelinux-oobe.
struct RunOptions
{
    std::optional<std::filesystem::path> answers_file;
    bool check_only = false; // validate the answers, change nothing
    DryRun dry_run = DryRun::no;
    bool reset = false; // forget state and log (image builders)
    // Called with the log file's path just before the first change, to add it as a log sink.
    std::function<void(const std::filesystem::path&)> start_log_file;
};

// Runs first-run setup as described by `options`; returns the exit code. Throws UserError or
// SystemError for problems the caller reports.
OobeExit run_oobe(const RunOptions& options);

} // namespace azl::oobe
