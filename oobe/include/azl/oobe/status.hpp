#pragma once
// Where first-run setup stands, for people and automation (`azurelinux-oobe status`, the launcher's
// `setup --wait` and doctor, the login notice): not started, running, done, failed at a step.

#include <azl/common/fs.hpp>

#include <filesystem>
#include <string>
#include <string_view>

namespace azl::oobe
{

// Guest paths: the status is public (0644, no secrets: a state word and a step id), so that a
// login shell and `status` without root can read it; a run holds the lock file while it runs.
inline constexpr const char* kStatusFile = "/var/lib/azurelinux-oobe/status.json";
inline constexpr const char* kRunLock = "/var/lib/azurelinux-oobe/run.lock";
inline constexpr const char* kLoginNotice = "/etc/profile.d/azurelinux-oobe.sh";

// The states `status` reports.
enum class SetupState
{
    not_started,
    running,
    done,
    failed,
};

// "not started", "running", "done", "failed".
std::string_view state_name(SetupState state) noexcept;

// What `status` reports.
struct StatusReport
{
    SetupState state = SetupState::not_started;
    std::string step;   // the step running, or the one that failed
    std::string reason; // for failed: "step failed", "interrupted", "stopped while running"
};

// Whether `read_status` waits for a running setup to end.
enum class WaitForSetup
{
    no,
    yes,
};

// Reads the status. A run that holds the lock is running; with WaitForSetup::yes this blocks (on
// the lock, not a timer) until it ends. A status file saying "running" with no run holding the
// lock means the run was killed: failed, "stopped while running". `dir` is /var/lib/azurelinux-oobe
// (a parameter for tests).
StatusReport read_status(WaitForSetup wait, const std::filesystem::path& dir);

// The exit code of `status`: 0 done, 3 failed, 4 not started or running.
int status_exit_code(const StatusReport& report) noexcept;

// Held by a run of first-run setup: the exclusive lock on kRunLock and the status file it updates.
class RunStatus
{
public:
    // Takes the lock; throws UserError when another run holds it. Writes the login notice script.
    RunStatus();

    // Records the state, and the step running or failed.
    void set(SetupState state, std::string_view step = {}, std::string_view reason = {});

private:
    UniqueFd m_lock;
    std::filesystem::path m_file; // kStatusFile
};

} // namespace azl::oobe
